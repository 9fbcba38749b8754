package release

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"time"

	"github.com/futuraplataforma/esteira/internal/redact"
)

// Record outcomes.
const (
	OutcomeSucceeded  = "succeeded"
	OutcomeNoChange   = "no-change"
	OutcomeRolledBack = "rolled-back"
	OutcomeFailed     = "failed"
	OutcomeDryRun     = "dry-run"
)

// Record kinds.
const (
	KindBackend     = "backend"
	KindFrontend    = "frontend"
	KindEnvironment = "environment"
	KindLambda      = "lambda"
)

// Step outcomes written by Record.Step.
const (
	StepOK     = "ok"
	StepFailed = "failed"
)

// NewID returns a release id that sorts by time, e.g. 20261124T163000Z-3f9a1c.
func NewID(now time.Time) string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return now.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b)
}

// Step is one step of a release with its duration and outcome.
type Step struct {
	Name     string
	Started  time.Time
	Duration time.Duration
	Outcome  string
	Detail   string
}

type stepJSON struct {
	Name     string    `json:"name"`
	Started  time.Time `json:"started"`
	Duration string    `json:"duration"`
	Outcome  string    `json:"outcome"`
	Detail   string    `json:"detail,omitempty"`
}

// MarshalJSON writes the duration as text ("1.5s") so records are readable.
func (s Step) MarshalJSON() ([]byte, error) {
	return json.Marshal(stepJSON{s.Name, s.Started, s.Duration.String(), s.Outcome, s.Detail})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (s *Step) UnmarshalJSON(data []byte) error {
	var j stepJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return err
	}
	d, err := time.ParseDuration(j.Duration)
	if j.Duration != "" && err != nil {
		return err
	}
	*s = Step{Name: j.Name, Started: j.Started, Duration: d, Outcome: j.Outcome, Detail: j.Detail}
	return nil
}

// Record is the account of one release.
type Record struct {
	ID         string    `json:"id"`
	Kind       string    `json:"kind"`   // "backend" or "frontend"
	Target     string    `json:"target"` // "cluster/service" or "bucket/prefix"
	StartedAt  time.Time `json:"startedAt"`
	FinishedAt time.Time `json:"finishedAt"`
	Outcome    string    `json:"outcome"` // one of the Outcome constants
	Error      string    `json:"error,omitempty"`
	Steps      []Step    `json:"steps"`

	Backend     *BackendRecord     `json:"backend,omitempty"`
	Frontend    *FrontendRecord    `json:"frontend,omitempty"`
	Environment *EnvironmentRecord `json:"environment,omitempty"`
	Lambda      *LambdaRecord      `json:"lambda,omitempty"`

	// Redactor, when the release knows secrets (its migration command, the
	// names the user marks), hides them in the record as it is finished
	// and written; without one, the record's own text teaches a new one.
	Redactor *redact.Redactor `json:"-"`
}

// redactor is the record's Redactor, or a new one.
func (r *Record) redactor() *redact.Redactor {
	if r.Redactor != nil {
		return r.Redactor
	}
	return redact.New()
}

// scrub hides credentials in the record's text: its error, its steps'
// details, its migration's command, log and reasons, its gate's output.
// What identifies a release (targets, revisions, the backup location) is
// kept as it is: a rollback reads it. It runs twice, so a value learned
// late (in the error) is hidden in what came before (a step's detail).
func (r *Record) scrub(red *redact.Redactor) {
	for range 2 {
		r.Error = red.String(r.Error)
		for i := range r.Steps {
			r.Steps[i].Detail = red.String(r.Steps[i].Detail)
		}
		if r.Backend != nil && r.Backend.Migration != nil {
			m := r.Backend.Migration
			m.Command, m.Log, m.StoppedReason = red.Command(m.Command), red.Lines(m.Log), red.String(m.StoppedReason)
		}
		if r.Environment != nil {
			r.Environment.GateOutput = red.Lines(r.Environment.GateOutput)
		}
	}
}

// LambdaRecord is what a function release changed: the alias moved from
// BeforeVersion (empty: the alias was created) to AfterVersion.
type LambdaRecord struct {
	Function      string   `json:"function"`
	Alias         string   `json:"alias"`
	BeforeVersion string   `json:"beforeVersion,omitempty"`
	AfterVersion  string   `json:"afterVersion,omitempty"`
	CodeSha256    string   `json:"codeSha256,omitempty"`
	Image         string   `json:"image,omitempty"` // the image URI, for an image function
	Canary        float64  `json:"canary,omitempty"`
	Bake          string   `json:"bake,omitempty"`
	Alarms        []string `json:"alarms,omitempty"`
}

// BackendRecord is what a backend (ECS) release changed.
type BackendRecord struct {
	Cluster        string `json:"cluster"`
	Service        string `json:"service"`
	Container      string `json:"container"`
	BeforeRevision string `json:"beforeRevision"` // task definition ARN live before the release
	AfterRevision  string `json:"afterRevision,omitempty"`
	Image          string `json:"image"`
	// Changes are the fields of the new revision that differ from the one
	// before it, "field: before -> after", credentials redacted and secret
	// values never read (a secret shows its valueFrom).
	Changes   []string         `json:"changes,omitempty"`
	Migration *MigrationRecord `json:"migration,omitempty"`
	// Snapshot is the RDS snapshot taken before the migration, if any.
	Snapshot *SnapshotRecord `json:"snapshot,omitempty"`
	// Strategy is how ECS deployed it when not rolling: blue/green,
	// linear or canary, through ServiceDeployment (its ARN).
	Strategy          string `json:"strategy,omitempty"`
	ServiceDeployment string `json:"serviceDeployment,omitempty"`
	// TestGate is the quality gate's run against test traffic, before
	// production traffic moved.
	TestGate *GateRecord `json:"testGate,omitempty"`
}

// GateRecord is one run of a quality gate.
type GateRecord struct {
	Passed bool   `json:"passed"`
	Output string `json:"output,omitempty"`
}

// SnapshotRecord names the RDS snapshot of a release's database, taken
// (and available) before its migration ran.
type SnapshotRecord struct {
	ID      string `json:"id"`
	ARN     string `json:"arn,omitempty"`
	DB      string `json:"db"`
	Cluster bool   `json:"cluster,omitempty"`
	// Restore is the AWS CLI command that restores it beside the database.
	Restore string `json:"restore"`
}

// MigrationRecord is the outcome of the one-off migration task.
type MigrationRecord struct {
	Command       []string `json:"command"`
	TaskARN       string   `json:"taskArn,omitempty"`
	ExitCode      *int     `json:"exitCode,omitempty"`
	StopCode      string   `json:"stopCode,omitempty"`
	StoppedReason string   `json:"stoppedReason,omitempty"`
	Succeeded     bool     `json:"succeeded"`
	Log           []string `json:"log,omitempty"`
}

// FrontendRecord is what a frontend (S3) release changed.
type FrontendRecord struct {
	Bucket       string `json:"bucket"`
	Prefix       string `json:"prefix"`
	BackupURI    string `json:"backupUri,omitempty"`
	Uploaded     int    `json:"uploaded"`
	Skipped      int    `json:"skipped"`
	Deleted      int    `json:"deleted"`
	Invalidation string `json:"invalidation,omitempty"`
	// BuildDigest identifies the build's content (paths and SHA-256s of its
	// files): what a promotion checks it copies.
	BuildDigest string `json:"buildDigest,omitempty"`
	// Release and Previous are, for an atomic release (or its rollback),
	// the release folder the live pointer names after it and before it.
	Release  string `json:"release,omitempty"`
	Previous string `json:"previous,omitempty"`
}

// EnvironmentRecord is what a release of a whole environment shipped: what
// promote copies to the next environment, only if its gate passed.
type EnvironmentRecord struct {
	Image       string `json:"image,omitempty"`       // the backend image, by digest
	Site        string `json:"site,omitempty"`        // bucket/prefix of the frontend
	BuildDigest string `json:"buildDigest,omitempty"` // of the frontend build
	// Gate is nil when the environment has no quality gate.
	Gate *bool `json:"gatePassed,omitempty"`
	// GateOutput is the end of what the gate printed.
	GateOutput []string `json:"gateOutput,omitempty"`
	// PromotedFrom is "env/release-id" for a promotion.
	PromotedFrom string `json:"promotedFrom,omitempty"`
	// Parts are the ids of the records of the services and the site.
	Parts []string `json:"parts,omitempty"`
	// Checks are the checks run on the source before the push, each with
	// its outcome and the end of its output.
	Checks []CheckRecord `json:"checks,omitempty"`
}

// CheckRecord is one check of a release's source.
type CheckRecord struct {
	Name    string   `json:"name"`
	Image   string   `json:"image"`
	Command string   `json:"command"`
	Passed  bool     `json:"passed"`
	Output  []string `json:"output,omitempty"` // its last lines
}

// Step appends a step that started at started and ends now. A non-nil err
// marks it failed and is added to detail; the caller keeps secrets out of both.
func (r *Record) Step(name string, started time.Time, err error, detail string) {
	st := Step{Name: name, Started: started, Duration: time.Since(started), Outcome: StepOK, Detail: detail}
	if err != nil {
		st.Outcome = StepFailed
		if detail == "" {
			st.Detail = err.Error()
		} else {
			st.Detail = detail + ": " + err.Error()
		}
	}
	r.Steps = append(r.Steps, st)
}
