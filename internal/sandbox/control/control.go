// Package control is the sandbox's control protocol: the HTTP endpoints
// the simulator serves beside the AWS APIs (Handler) and the client that
// demos and end-to-end tests use to script failures from outside the
// process (SetRules, SetFaults, ...). The paths live here once, for both.
//
// Every path but WebhooksPath answers GET with the state in force and PUT
// with a JSON body that replaces it; a body the simulator refuses (an
// unknown field, a bad value) gets 400 and the reason, and changes
// nothing:
//   - RulesPath: {"rules": [...]} (see awssim.Rule): the next revision's
//     migration fails, its rollout never gets healthy.
//   - FaultsPath: {"faults": [...]} (see awssim.S3Fault): S3 uploads
//     break midway; server-side copies (backups, restores) pass.
//   - SnapshotsPath: {"snapshots": [{"db": "sandbox-db", "fail": true}]}
//     (see awssim.SnapshotRule): the next snapshot of a DB is slow, fails
//     or is refused.
//   - LambdaPath: {"updates": [{"function": "resize", "fail": "..."}],
//     "alarms": [{"name": "resize-errors", "fireAfter": 2}]} (see
//     awssim.LambdaRules): the next update of a function fails, an alarm
//     fires during a bake.
//   - DeploymentsPath: {"ecs": [{"service": "web", "failRollback": true}],
//     "codeDeploy": [{"deploymentGroup": "classic-dg", "failAt":
//     "AfterAllowTestTraffic", "failRollback": true}], "alarms": [{"name":
//     "web-5xx", "state": "ALARM"}]} (see awssim.DeploymentRules): the next
//     rollback of a blue/green, linear or canary service ends
//     ROLLBACK_FAILED, the next CodeDeploy deployment of a group fails at a
//     lifecycle event and its rollback fails, an alarm a service deployment
//     watches fires. A PUT replaces the failures not used yet; alarms not
//     named keep their state. GET answers the failures in force (used ones
//     are gone) and every alarm's state.
//   - KeyValueStorePath: GET lists the CloudFront KeyValueStores (name,
//     ARN, ETag, keys) and the faults; PUT {"faults": [{"operation":
//     "PutKey", "count": 1}]} (see awssim.KVSFault) fails the next calls.
//   - WebhooksPath: POST records a notification (as a chat webhook would
//     receive it), GET lists the last MaxWebhooks: where a release's
//     notification goes in the sandbox.
//
// The package imports only internal/awssim and the standard library, so
// the simulator binary (cmd/awssim) carries nothing else; a test pins it.
package control

// The control endpoints, under the simulator's endpoint.
const (
	RulesPath         = "/_sandbox/rules"
	FaultsPath        = "/_sandbox/faults"
	SnapshotsPath     = "/_sandbox/snapshots"
	LambdaPath        = "/_sandbox/lambda"
	DeploymentsPath   = "/_sandbox/deployments"
	KeyValueStorePath = "/_sandbox/kvs"
	WebhooksPath      = "/_sandbox/webhooks"
)

// MaxWebhooks is how many notifications the sandbox keeps, the newest.
const MaxWebhooks = 100
