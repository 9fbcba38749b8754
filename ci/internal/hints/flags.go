package hints

import (
	"fmt"
	"strings"

	"github.com/futuraplataforma/esteira/internal/setting"
)

// Flags adds to err the flags that fix it. An engine's error names the
// settings to fix in its own terms (setting.Names: "Region", "Tag"); flags
// maps each to the flag that sets it where the user called from, for
// example "--region" or "backend --cluster". A setting without a flag
// there adds nothing, and an error naming no setting comes back as is.
func Flags(err error, flags map[string]string) error {
	var fix []string
	for _, name := range setting.Names(err) {
		if f, ok := flags[name]; ok {
			fix = append(fix, f)
		}
	}
	if len(fix) == 0 {
		return err
	}
	return fmt.Errorf("%w\nto fix it: %s", err, strings.Join(fix, ", "))
}

// The flags of the settings every object shares (the module's constructor)
// and of the image steps.
var (
	// AWS maps awsenv's settings to the constructor's flags.
	AWS = map[string]string{
		"Region": "--region", "Endpoint": "--endpoint", "S3Endpoint": "--storage-endpoint",
		"AccessKeyID": "--aws-access-key-id", "SecretAccessKey": "--aws-secret-access-key", "SessionToken": "--aws-session-token",
	}
	// Publish maps ecrauth's settings to publish's flags (and backend
	// deploy's, which publishes a --container the same way).
	Publish = map[string]string{"Repository": "--repository", "Tag": "--tag", "AllowOverwrite": "--allow-overwrite"}
	// Backend maps ecsdeploy's settings to the backend's flags.
	Backend = map[string]string{
		"Cluster": "backend --cluster", "Service": "backend --service", "Container": "backend --container",
		"Image": "deploy --image", "ToRevision": "rollback --to-revision", "Definition": "with-definition --env/--secret/--sidecar/--file (or the backend's task definition in esteira.yaml)",
		"Strategy":   "the backend's strategy in esteira.yaml",
		"CodeDeploy": "the backend's codeDeploy (each service's application and deploymentGroup) in esteira.yaml",
		"BreakLock":  "backend --break-lock (env --break-lock for an environment's backend), once you are sure no deploy runs",
	}
	// Function maps lambdadeploy's settings to the lambda object's flags.
	Function = map[string]string{
		"Function": "lambda --name", "Alias": "lambda --alias", "ImageURI": "deploy --image", "Zip": "deploy --source",
		"Canary": "deploy --canary", "ToVersion": "rollback --to-version",
		"BreakLock": "lambda --break-lock (env --break-lock for an environment's functions), once you are sure no release runs",
	}
)
