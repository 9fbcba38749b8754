package ecsdeploy

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/futuraplataforma/esteira/internal/migration"
)

func TestMigrationFailure_ShowsTheLogTailOfEveryFailedTask(t *testing.T) {
	const arn = "arn:aws:ecs:eu-west-1:1:task/main/abc"
	failed := &migration.Result{TaskARN: arn, Failure: "exited 1 (container app)", Log: []string{"relation exists"}}
	timedOut := &migration.Result{TaskARN: arn, Failure: "migration task abc still RUNNING after 15m0s: context deadline exceeded; the task was stopped", Log: []string{"applying 0042", "applying 0043"}}
	tests := []struct {
		name       string
		err        error
		res        *migration.Result
		what, tail string
	}{
		{"Failed", &migration.FailedError{Result: failed}, failed, "migration task abc exited 1 (container app)", "; last log lines:\n  relation exists"},
		{"TimedOut", errors.New(timedOut.Failure + "; last log lines:\n  applying 0042\n  applying 0043"), timedOut,
			timedOut.Failure, "; last log lines:\n  applying 0042\n  applying 0043"},
		{"NeverStarted", errors.New("run migration task of api:2: AccessDeniedException"), nil, "run migration task of api:2: AccessDeniedException", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			what, tail := migrationFailure(tt.err, tt.res)
			assert.Equal(t, tt.what, what)
			assert.Equal(t, tt.tail, tail)
		})
	}
}
