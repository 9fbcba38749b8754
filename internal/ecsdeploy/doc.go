// Package ecsdeploy releases a container image to an Amazon ECS service
// and rolls it back.
//
// Deploy: resolve the revision of the COMPLETED PRIMARY deployment (the
// rollback target), check the input and the referenced secrets, take the
// per-service deploy lock, register a copy of the live revision with only
// the target container's image changed, run the migration gate (package
// migration) on the new revision, update the service and follow the
// rollout, printing service events as they arrive. Any failure after the
// update (rolloutState FAILED, a circuit-breaker rollback, known task stop
// reasons seen FailureThreshold times, the timeout, an interrupt) rolls the
// service back to the recorded revision and waits until it is COMPLETED.
// A release record (package release) is returned and written to S3.
//
// A service is refused before anything changes when a failed deploy could
// not be undone: its deployment controller is not ECS (CODE_DEPLOY and
// EXTERNAL services cannot have their task definition updated), or its
// live revision is INACTIVE (ECS will not point a service back at it).
//
// Rollback and Migrate are the backend's rollback and migrate verbs;
// Migrate takes the same deploy lock when given a release store.
//
// Plan (PlanGroup for several services) is what a deploy would do, from
// the deploy's own read-only steps: the new task-definition revision
// against the live one, field by field, the migration, its snapshot and
// the lock. Deploy with DryRun prints exactly that plan; Migrate and
// Rollback with DryRun print theirs. None of them changes anything.
//
// IAM permissions needed by the caller:
//
//	ecs:DescribeClusters, ecs:DescribeServices, ecs:DescribeTaskDefinition,
//	ecs:RegisterTaskDefinition, ecs:DeregisterTaskDefinition, ecs:TagResource
//	(tags are copied to the new revision), ecs:UpdateService, ecs:RunTask,
//	ecs:DescribeTasks, ecs:ListTasks, ecs:StopTask (a timed-out migration is
//	stopped), iam:PassRole on the task and execution roles,
//	logs:GetLogEvents on the awslogs group, secretsmanager:DescribeSecret on
//	the referenced secrets, and s3:GetObject, s3:PutObject, s3:DeleteObject,
//	s3:ListBucket on the release bucket.
package ecsdeploy
