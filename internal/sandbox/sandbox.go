// Package sandbox describes esteira's local AWS: the esteira simulator
// (ECS, ECR API, Secrets Manager, CloudWatch Logs, STS) in front of a real
// S3 server (versitygw) and a real OCI registry (distribution), all served
// on ONE endpoint with one set of keys, the way LocalStack serves every
// service on one port.
//
// ci/ builds a container from Files and runs Script in it as a Dagger
// service; `dagger call demo` and the end-to-end tests drive it. The names
// here (cluster, service, buckets, keys) are the sandbox's fixed world, so
// a user, a test and the demo all mean the same thing by them.
package sandbox

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/futuraplataforma/esteira/internal/awssim"
)

// The sandbox's fixed world.
const (
	// Port serves every API: AWS JSON and Query protocols, S3 (requests
	// signed for s3) and the OCI registry (/v2/).
	Port = 4566
	// Registry is the name images in the sandbox carry: the engine pushes
	// to it through the sandbox service and speaks plain HTTP to localhost.
	Registry = "localhost:4566"

	Region          = "eu-west-1"
	AccountID       = "000000000000"
	AccessKeyID     = "AKIAESTEIRASANDBOX01"
	SecretAccessKey = "esteira-sandbox-secret-key"

	Cluster = "sandbox"
	// ProdCluster is the sandbox's second environment: the same services,
	// for promotions.
	ProdCluster = "production"
	Service     = "backend"
	Worker      = "worker"
	// BlueGreen is a service ECS deploys blue/green (in cluster Cluster,
	// from the same image): a PAUSE hook holds each deployment once test
	// traffic is on the new revision, for the gate on test traffic.
	BlueGreen = "web"
	// BlueGreenAlarm is the CloudWatch alarm web's deployments watch
	// (deploymentConfiguration.alarms, with rollback), OK at start: in
	// ALARM once production traffic moves, ECS rolls the deployment back.
	BlueGreenAlarm = "web-5xx"
	// CodeDeployed is a service AWS CodeDeploy deploys (application
	// CodeDeployApp, group CodeDeployGroup), waiting in Ready with test
	// traffic on the new task set until it is told to go on, then moving
	// production traffic as CodeDeployConfig does (a 10% canary first).
	CodeDeployed     = "classic"
	CodeDeployApp    = "sandbox"
	CodeDeployGroup  = "classic-dg"
	CodeDeployConfig = "CodeDeployDefault.ECSCanary10Percent5Minutes"
	// CodeDeployAlarm is the CloudWatch alarm CodeDeployGroup watches
	// (alarmConfiguration, rollback on DEPLOYMENT_STOP_ON_ALARM), OK at
	// start: in ALARM once production traffic moves, CodeDeploy stops the
	// deployment and rolls it back.
	CodeDeployAlarm = "classic-5xx"
	Container       = "app"
	Repository      = "backend"
	// LogGroup is where the seeded task definition's awslogs go.
	LogGroup = "/ecs/backend"

	// DB and ProdDB are the RDS DB instances (postgres) the sandbox's
	// clusters migrate, snapshotted before each migration.
	DB     = "sandbox-db"
	ProdDB = "production-db"

	// Function is the sandbox's Lambda function (a zip package, alias
	// "live" on version 1); FunctionAlarm the CloudWatch alarm a canary of
	// it watches.
	Function      = "resize"
	FunctionAlias = "live"
	FunctionAlarm = "resize-errors"

	// KeyValueStore is the CloudFront KeyValueStore holding the live
	// pointer of atomic sites (KeyValueStoreARN).
	KeyValueStore = "sandbox-site"

	// Secret and Parameter exist in the sandbox, for a release that adds
	// a secret to its task definition; SecretARN is the secret's partial
	// ARN (without the random suffix), as a task definition may name it.
	Secret    = "sandbox/db-url"
	SecretARN = "arn:aws:secretsmanager:" + Region + ":" + AccountID + ":secret:" + Secret
	Parameter = "sandbox-api-token"
	// Sidecar is a non-essential second container of the backend service.
	Sidecar = "log-router"

	SiteBucket    = "sandbox-www"
	BackupBucket  = "sandbox-www-backups"
	ReleaseBucket = "sandbox-releases"

	// registryPassword is what the registry accepts for user AWS, handed
	// out as the ECR token. Not a secret: the sandbox holds no real data.
	registryPassword = "esteira-sandbox-registry"
	// registryHash is its bcrypt hash, fixed so the sandbox's container is
	// the same (and cached) on every call; a test checks the two match.
	registryHash = "$2a$04$5Y36uGt25qWgHMXN68A6VO9o6gVNY8t5Z037DLqNFI7AoI01ixmnu"
)

// KeyValueStoreARN is the ARN of KeyValueStore, for --key-value-store.
var KeyValueStoreARN = awssim.KVSStoreARN(AccountID, KeyValueStore)

// Buckets are created when the sandbox starts.
var Buckets = []string{SiteBucket, BackupBucket, ReleaseBucket}

// Script is the service's command: the S3 server and the registry on
// loopback inside the container, the simulator in front of both on Port.
func Script() string { return ScriptIn("") }

// Files are the configuration files Script reads, by absolute path.
func Files() (map[string]string, error) { return FilesIn("") }

// ScriptIn is Script with its configuration and data under root instead of
// /: how the end-to-end tests run the same sandbox on the host, with
// awssim, versitygw and registry on PATH.
func ScriptIn(root string) string {
	return fmt.Sprintf(`#!/bin/sh
set -eu
mkdir -p %[10]s/data/s3 %[10]s/data/registry
ROOT_ACCESS_KEY_ID=%[1]s ROOT_SECRET_ACCESS_KEY=%[2]s \
  versitygw --port 127.0.0.1:7070 --region %[3]s --quiet posix %[10]s/data/s3 &
OTEL_TRACES_EXPORTER=none OTEL_SDK_DISABLED=true registry serve %[10]s/etc/esteira-sandbox/registry.yml &
exec awssim -addr 0.0.0.0:%[4]d -region %[3]s -account %[5]s -access-key %[1]s -secret-key %[2]s \
  -seed %[10]s/etc/esteira-sandbox/seed.json -tick 1s \
  -s3-upstream http://127.0.0.1:7070 -buckets %[6]s \
  -registry-upstream http://127.0.0.1:5000 -registry %[7]s -registry-password %[8]s \
  -repositories %[9]s -db-instances %[11]s:postgres,%[12]s:postgres \
  -functions %[13]s:Zip -alarms %[14]s,%[18]s,%[19]s -key-value-stores %[15]s -secrets %[16]s -parameters %[17]s
`, AccessKeyID, SecretAccessKey, Region, Port, AccountID, strings.Join(Buckets, ","), Registry, registryPassword, Repository, root, DB, ProdDB,
		Function, FunctionAlarm, KeyValueStore, Secret, Parameter, BlueGreenAlarm, CodeDeployAlarm)
}

// FilesIn are the files ScriptIn(root) reads, by absolute path under root.
func FilesIn(root string) (map[string]string, error) {
	seed, err := Seed()
	if err != nil {
		return nil, err
	}
	return map[string]string{
		root + "/etc/esteira-sandbox/htpasswd": "AWS:" + registryHash + "\n",
		root + "/etc/esteira-sandbox/registry.yml": `version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: ` + root + `/data/registry
  delete:
    enabled: true
http:
  addr: 127.0.0.1:5000
  relativeurls: true
auth:
  htpasswd:
    realm: esteira-sandbox
    path: ` + root + `/etc/esteira-sandbox/htpasswd
`,
		root + "/etc/esteira-sandbox/seed.json": seed,
	}, nil
}

// Seed is the simulator's starting state: two clusters (sandbox and
// production), each with the backend API and a worker running revision 1,
// steady; in sandbox also web (blue/green, watching BlueGreenAlarm) and
// classic (CodeDeploy, group CodeDeployGroup, a canary watching
// CodeDeployAlarm).
func Seed() (string, error) {
	taskDef := func(family, command string) map[string]any {
		c := map[string]any{
			"name": Container, "image": Registry + "/" + Repository + ":seed", "essential": true,
			"logConfiguration": map[string]any{"logDriver": "awslogs", "options": map[string]string{
				"awslogs-group": LogGroup, "awslogs-region": Region, "awslogs-stream-prefix": family,
			}},
		}
		if command != "" {
			c["command"] = []string{command}
		} else {
			c["portMappings"] = []map[string]any{{"containerPort": 8080, "protocol": "tcp"}}
		}
		containers := []any{c}
		if family == Service { // a sidecar, for a release that gives it the release's image
			containers = append(containers, map[string]any{"name": Sidecar, "image": Registry + "/" + Repository + ":seed", "essential": false})
		}
		return map[string]any{
			"family": family, "networkMode": "awsvpc", "requiresCompatibilities": []string{"FARGATE"},
			"cpu": "256", "memory": "512",
			"executionRoleArn":     "arn:aws:iam::" + AccountID + ":role/" + family + "-execution",
			"containerDefinitions": containers,
		}
	}
	service := func(cluster, name string) map[string]any {
		return map[string]any{
			"cluster": cluster, "name": name, "taskDefinition": name + ":1", "desiredCount": 2,
			"subnets": []string{"subnet-0sandbox"}, "securityGroups": []string{"sg-0sandbox"},
			"circuitBreaker": true, "circuitBreakerRollback": true,
		}
	}
	codeDeployed := service(Cluster, CodeDeployed)
	codeDeployed["deploymentController"] = "CODE_DEPLOY"
	listener := "arn:aws:elasticloadbalancing:" + Region + ":" + AccountID + ":listener/app/" + CodeDeployed + "/0sandbox/"
	blueGreen := service(Cluster, BlueGreen)
	blueGreen["strategy"], blueGreen["bakeTimeInMinutes"], blueGreen["pauseAt"] = "BLUE_GREEN", 5, []string{"POST_TEST_TRAFFIC_SHIFT"}
	blueGreen["alarms"] = []string{BlueGreenAlarm}
	out, err := json.MarshalIndent(map[string]any{
		"clusters":        []string{Cluster, ProdCluster},
		"taskDefinitions": []any{taskDef(Service, ""), taskDef(Worker, "worker"), taskDef(BlueGreen, ""), taskDef(CodeDeployed, "")},
		"services": []any{service(Cluster, Service), service(Cluster, Worker), blueGreen,
			service(ProdCluster, Service), service(ProdCluster, Worker), codeDeployed},
		"deploymentGroups": []any{map[string]any{
			"application": CodeDeployApp, "name": CodeDeployGroup, "cluster": Cluster, "service": CodeDeployed,
			"prodListenerArn": listener + "80", "testListenerArn": listener + "8080",
			"targetGroups": []string{CodeDeployed + "-blue", CodeDeployed + "-green"}, "containerName": Container, "containerPort": 8080,
			"waitForReady": true, "deploymentConfigName": CodeDeployConfig, "alarms": []string{CodeDeployAlarm},
		}},
	}, "", "  ")
	return string(out), err
}
