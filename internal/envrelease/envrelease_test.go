package envrelease_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/futuraplataforma/esteira/internal/awssim"
	"github.com/futuraplataforma/esteira/internal/ecsdeploy"
	"github.com/futuraplataforma/esteira/internal/envrelease"
	"github.com/futuraplataforma/esteira/internal/release"
	"github.com/futuraplataforma/esteira/internal/sitepublish"
	"github.com/futuraplataforma/esteira/internal/teststack"
)

func TestMain(m *testing.M) { teststack.Main(m) }

const image = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/backend@sha256:2222222222222222222222222222222222222222222222222222222222222222"

type env struct {
	sim      *awssim.Server
	ecs      *ecs.Client
	clients  envrelease.Clients
	s3       *teststack.S3Server
	site     string
	backups  string
	store    *release.Store
	dir      string
	v1       map[string]string
	uploadOK bool
}

// failUploads refuses the upload of the site's app.js (copies and the
// manifest, which a restore writes, pass), like a missing permission.
type failUploads struct {
	next   http.RoundTripper
	bucket string
	on     *bool
}

func (f failUploads) RoundTrip(r *http.Request) (*http.Response, error) {
	if !*f.on && r.Method == http.MethodPut && r.Header.Get("X-Amz-Copy-Source") == "" && r.URL.Path == "/"+f.bucket+"/www/app.js" {
		return &http.Response{StatusCode: http.StatusForbidden, Header: http.Header{}, Request: r,
			Body: io.NopCloser(strings.NewReader("<Error><Code>AccessDenied</Code><Message>no</Message></Error>"))}, nil
	}
	return f.next.RoundTrip(r)
}

func newEnv(t *testing.T) *env {
	sim := awssim.New(awssim.DefaultOptions())
	url := sim.Start(t)
	o := sim.Options()
	creds := credentials.NewStaticCredentialsProvider(o.AccessKeyID, o.SecretAccessKey, "")
	e := &env{sim: sim, ecs: ecs.New(ecs.Options{Region: o.Region, BaseEndpoint: aws.String(url), Credentials: creds}),
		v1: map[string]string{}, uploadOK: true}
	sim.ECS.CreateCluster("main")
	for _, svc := range []string{"api", "worker"} {
		out, err := e.ecs.RegisterTaskDefinition(t.Context(), &ecs.RegisterTaskDefinitionInput{Family: aws.String(svc),
			NetworkMode: types.NetworkModeAwsvpc, RequiresCompatibilities: []types.Compatibility{types.CompatibilityFargate},
			Cpu: aws.String("256"), Memory: aws.String("512"), ExecutionRoleArn: aws.String("arn:aws:iam::123456789012:role/x"),
			ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("app"), Essential: aws.Bool(true),
				Image: aws.String("123456789012.dkr.ecr.eu-west-1.amazonaws.com/backend@sha256:" + strings.Repeat("1", 64))}}})
		require.NoError(t, err)
		e.v1[svc] = aws.ToString(out.TaskDefinition.TaskDefinitionArn)
		sim.ECS.CreateService("main", awssim.ServiceSpec{Name: svc, TaskDefinition: e.v1[svc], DesiredCount: 1,
			Subnets: []string{"subnet-1"}, SecurityGroups: []string{"sg-1"}})
	}
	e.s3 = teststack.S3(t)
	e.site, e.backups = e.s3.NewBucket(t), e.s3.NewBucket(t)
	client := s3.New(s3.Options{Region: e.s3.Region, BaseEndpoint: aws.String(e.s3.Endpoint), UsePathStyle: true, RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(e.s3.AccessKeyID, e.s3.SecretAccessKey, ""),
		HTTPClient:  &http.Client{Transport: failUploads{next: http.DefaultTransport, bucket: e.site, on: &e.uploadOK}}})
	e.store = release.NewStore(e.s3.Client(t), e.backups, "records")
	e.clients = envrelease.Clients{ECS: ecsdeploy.Clients{ECS: e.ecs}, Frontend: sitepublish.Clients{S3: client}}
	e.dir = t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(e.dir, "index.html"), []byte("<html>v2</html>"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(e.dir, "app.js"), []byte("v2"), 0o644))
	return e
}

func (e *env) plan() envrelease.Plan {
	return envrelease.Plan{
		Backend: &envrelease.BackendPart{Services: []string{"api", "worker"}, Deploy: ecsdeploy.DeployOptions{
			Cluster: "main", Image: image, Timeout: 20 * time.Second, PollInterval: time.Millisecond, Releases: e.store, Who: "ci"}},
		Frontend: &sitepublish.Options{Dir: e.dir, Bucket: e.site, Prefix: "www", BackupBucket: e.backups, MaxDelete: 100,
			Releases: e.store, Who: "ci"},
	}
}

func (e *env) live(t *testing.T, svc string) string {
	t.Helper()
	out, err := e.ecs.DescribeServices(t.Context(), &ecs.DescribeServicesInput{Cluster: aws.String("main"), Services: []string{svc}})
	require.NoError(t, err)
	return aws.ToString(out.Services[0].TaskDefinition)
}

func TestRun_ReleasesTheServicesThenTheFrontend(t *testing.T) {
	e := newEnv(t)
	res, err := envrelease.Run(t.Context(), e.clients, e.plan())
	require.NoError(t, err)
	assert.Equal(t, release.OutcomeSucceeded, res.Outcome)
	require.Len(t, res.Backend, 2)
	assert.True(t, strings.HasSuffix(e.live(t, "api"), "api:2"))
	assert.True(t, strings.HasSuffix(e.live(t, "worker"), "worker:2"))
	assert.Equal(t, release.OutcomeSucceeded, res.Frontend.Outcome)
	_, err = e.s3.Client(t).HeadObject(t.Context(), &s3.HeadObjectInput{Bucket: aws.String(e.site), Key: aws.String("www/index.html")})
	require.NoError(t, err)

	// The same release again changes nothing.
	updates := e.sim.Count("ecs", "UpdateService")
	res, err = envrelease.Run(t.Context(), e.clients, e.plan())
	require.NoError(t, err)
	for _, r := range res.Backend {
		assert.Equal(t, release.OutcomeNoChange, r.Outcome)
	}
	assert.Equal(t, release.OutcomeNoChange, res.Frontend.Outcome)
	assert.Equal(t, updates, e.sim.Count("ecs", "UpdateService"))
}

// The frontend fails after the services rolled out: the site is restored
// (by the publish) and every service is rolled back to its revision.
func TestRun_AFailedFrontendRollsTheServicesBack(t *testing.T) {
	e := newEnv(t)
	e.uploadOK = false
	res, err := envrelease.Run(t.Context(), e.clients, e.plan())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "every backend service was rolled back to the revision it ran before")
	assert.Equal(t, release.OutcomeRolledBack, res.Outcome)
	assert.Equal(t, e.v1["api"], e.live(t, "api"))
	assert.Equal(t, e.v1["worker"], e.live(t, "worker"))
	assert.Len(t, res.Undone, 2)
}

// A bad build is found before any service changes.
func TestRun_ABadFrontendBuildChangesNothing(t *testing.T) {
	e := newEnv(t)
	require.NoError(t, syscall.Mkfifo(filepath.Join(e.dir, "pipe"), 0o644))
	_, err := envrelease.Run(t.Context(), e.clients, e.plan())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "nothing was changed")
	assert.Equal(t, 2, e.sim.Count("ecs", "RegisterTaskDefinition"), "only the seeded revisions")
}

func TestReadStatus_SaysWhatRunsWhere(t *testing.T) {
	e := newEnv(t)
	_, err := envrelease.Run(t.Context(), e.clients, e.plan())
	require.NoError(t, err)
	where := envrelease.Where{Cluster: "main", Services: []string{"api", "worker"}, Site: e.site + "/www"}
	st, err := envrelease.ReadStatus(t.Context(), e.clients, e.store, where)
	require.NoError(t, err)
	require.Len(t, st.Services, 2)
	assert.Equal(t, "api:2", st.Services[0].Revision)
	assert.Equal(t, image, st.Services[1].Image)
	require.NotNil(t, st.Site)
	assert.Equal(t, e.site+"/www", st.Site.Target)
	assert.Len(t, st.Releases, 3, "api, worker and the site")
	assert.Empty(t, st.Locks)
	assert.Contains(t, st.Text(), "no deploy lock is held")

	held, err := e.store.Acquire(t.Context(), "backend/main/worker", release.Holder{Who: "bob@ci", What: "deploy-backend"}, release.LockOptions{})
	require.NoError(t, err)
	defer held.Release(t.Context())
	st, err = envrelease.ReadStatus(t.Context(), e.clients, e.store, where)
	require.NoError(t, err)
	require.Contains(t, st.Locks, "backend/main/worker")
	text := st.Text()
	assert.Contains(t, text, "LOCK backend/main/worker held by bob@ci")
	assert.Regexp(t, `(?m)^worker +rolling +worker:2 +1/1 +COMPLETED +`, text, "each service with how ECS deploys it")
}

func TestResult_SummaryIsOneLine(t *testing.T) {
	e := newEnv(t)
	res, err := envrelease.Run(t.Context(), e.clients, e.plan())
	require.NoError(t, err)
	s := res.Summary("staging", nil)
	assert.Contains(t, s, "esteira: release of staging succeeded: api on api:2, worker on worker:2, site "+e.site+"/www release ")
	assert.Equal(t, "esteira: release of staging FAILED (failed): backend: boom", (&envrelease.Result{Outcome: "failed"}).Summary("staging", errors.New("backend: boom\nmore")))
}

// A failing quality gate rolls the whole release back: the site to its
// backup, every service to its revision; its output is kept.
func TestRun_AFailingGateRollsEverythingBack(t *testing.T) {
	e := newEnv(t)
	p := e.plan()
	_, err := envrelease.Run(t.Context(), e.clients, p) // release 1, gate-less: the state to come back to
	require.NoError(t, err)
	api, worker := e.live(t, "api"), e.live(t, "worker")
	before, err := sitepublish.Plan(t.Context(), e.clients.Frontend, *p.Frontend)
	require.NoError(t, err)
	require.Empty(t, before.Upload, "release 1 is live")

	require.NoError(t, os.WriteFile(filepath.Join(e.dir, "index.html"), []byte("<html>v3</html>"), 0o644))
	p.Backend.Deploy.Image = strings.Replace(image, "2222", "3333", 1)
	p.Gate = func(context.Context) (string, error) {
		return "GET /healthz\n503 Service Unavailable\n", errors.New("exit code 1")
	}
	res, err := envrelease.Run(t.Context(), e.clients, p)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "the quality gate failed: exit code 1; the site was restored to the release before")
	assert.Contains(t, err.Error(), "every backend service was rolled back")
	require.NotNil(t, res.Gate)
	assert.False(t, res.Gate.Passed)
	assert.Equal(t, []string{"GET /healthz", "503 Service Unavailable"}, res.Gate.Output)
	assert.Equal(t, api, e.live(t, "api"))
	assert.Equal(t, worker, e.live(t, "worker"))
	p.Frontend.Dir = writeV1(t)
	after, err := sitepublish.Plan(t.Context(), e.clients.Frontend, *p.Frontend)
	require.NoError(t, err)
	assert.Empty(t, after.Upload, "the site is release 1 again")
	assert.Empty(t, after.Delete)

	p.Gate = func(context.Context) (string, error) { return "ok\n", nil }
	res, err = envrelease.Run(t.Context(), e.clients, p)
	require.NoError(t, err)
	assert.True(t, res.Gate.Passed)
}

// writeV1 is release 1's build, as newEnv writes it.
func writeV1(t *testing.T) string {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "index.html"), []byte("<html>v2</html>"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "app.js"), []byte("v2"), 0o644))
	return dir
}

// Only a successful release whose gate passed can be promoted; the
// environment record names the image and the site's build digest.
func TestPromotable_OnlyWhatPassedTheGate(t *testing.T) {
	e := newEnv(t)
	p := e.plan()
	p.Env, p.Store, p.Who = "staging", e.store, "ci"
	_, err := envrelease.Run(t.Context(), e.clients, p)
	require.NoError(t, err)
	_, err = envrelease.Promotable(t.Context(), e.store, "staging")
	assert.ErrorContains(t, err, "ran no quality gate")

	p.Backend.Deploy.Force = true
	p.Gate = func(context.Context) (string, error) { return "", errors.New("exit code 1") }
	_, err = envrelease.Run(t.Context(), e.clients, p)
	require.Error(t, err)
	_, err = envrelease.Promotable(t.Context(), e.store, "staging")
	assert.ErrorContains(t, err, "ran no quality gate", "the failed release is skipped, the one before has no gate")

	p.Gate = func(context.Context) (string, error) { return "ok", nil }
	res, err := envrelease.Run(t.Context(), e.clients, p)
	require.NoError(t, err)
	rec, err := envrelease.Promotable(t.Context(), e.store, "staging")
	require.NoError(t, err)
	assert.Equal(t, res.Record.ID, rec.ID)
	assert.Equal(t, image, rec.Environment.Image)
	assert.Equal(t, res.Frontend.Frontend.BuildDigest, rec.Environment.BuildDigest)
	assert.True(t, *rec.Environment.Gate)
	assert.Equal(t, []string{"ok"}, rec.Environment.GateOutput, "the gate's output is kept in the record")
	assert.Len(t, rec.Environment.Parts, 3)

	_, err = envrelease.Promotable(t.Context(), e.store, "production")
	assert.ErrorContains(t, err, "production has no successful release that passed its quality gate")
}

// The site is published beside the rollout; when a service then fails,
// the services are rolled back and the site restored too.
func TestRun_AFailingServiceBringsTheSiteBackToo(t *testing.T) {
	e := newEnv(t)
	p := e.plan()
	_, err := envrelease.Run(t.Context(), e.clients, p)
	require.NoError(t, err)
	api, worker := e.live(t, "api"), e.live(t, "worker")
	e.sim.ECS.OnServiceTask(func(arn string) awssim.TaskBehavior {
		return awssim.TaskBehavior{Unhealthy: strings.HasSuffix(arn, "worker:3")}
	})
	require.NoError(t, os.WriteFile(filepath.Join(e.dir, "index.html"), []byte("<html>v3</html>"), 0o644))
	p.Backend.Deploy.Image = strings.Replace(image, "2222", "3333", 1)
	p.Backend.Deploy.FailureThreshold = 2
	res, err := envrelease.Run(t.Context(), e.clients, p)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "FAILED: worker:")
	assert.Contains(t, err.Error(), "the site, published beside the rollout, was restored to the release before")
	assert.Equal(t, api, e.live(t, "api"))
	assert.Equal(t, worker, e.live(t, "worker"))
	require.NotNil(t, res.Frontend, "the site was published beside the rollout")
	p.Frontend.Dir = writeV1(t)
	after, err := sitepublish.Plan(t.Context(), e.clients.Frontend, *p.Frontend)
	require.NoError(t, err)
	assert.True(t, after.Empty(), "the site is the release before again")
}
