package migration

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The migrate function returns a Result as JSON: it must read like the
// release records (camelCase names, a text duration), not Go's defaults.
func TestResult_JSONUsesRecordNamesAndATextDuration(t *testing.T) {
	code := 0
	out, err := json.Marshal(Result{TaskARN: "arn:task/1", Command: []string{"migrate"}, ExitCode: &code,
		Succeeded: true, Duration: 90 * time.Second})
	require.NoError(t, err)
	var got map[string]any
	require.NoError(t, json.Unmarshal(out, &got))
	assert.Equal(t, "arn:task/1", got["taskArn"])
	assert.Equal(t, "1m30s", got["duration"])
	assert.Equal(t, true, got["succeeded"])
	assert.EqualValues(t, 0, got["exitCode"])
	assert.NotContains(t, got, "TaskARN")
	assert.NotContains(t, got, "Duration")
}
