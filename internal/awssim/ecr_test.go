package awssim_test

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/futuraplataforma/esteira/internal/awssim"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const ecrTestPassword = "ecr+token/like=="

// ecrEnv is a simulator wired to an in-memory OCI registry that demands
// basic auth as AWS:ecrTestPassword, with a real ECR client.
type ecrEnv struct {
	sim    *awssim.Server
	client *ecr.Client
	host   string
	ctx    context.Context
}

func newECREnv(t *testing.T) ecrEnv {
	t.Helper()
	reg := registry.New()
	guarded := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "AWS" || p != ecrTestPassword {
			w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
			http.Error(w, `{"errors":[{"code":"UNAUTHORIZED"}]}`, http.StatusUnauthorized)
			return
		}
		reg.ServeHTTP(w, r)
	})
	ts := httptest.NewServer(guarded)
	t.Cleanup(ts.Close)
	host := strings.TrimPrefix(ts.URL, "http://")

	sim := awssim.New(awssim.DefaultOptions())
	url := sim.Start(t)
	sim.ECR.UseRegistry(host, ecrTestPassword)
	return ecrEnv{sim: sim, client: newECRClient(sim, url, sim.Options().SecretAccessKey), host: host, ctx: t.Context()}
}

func newECRClient(sim *awssim.Server, url, secret string) *ecr.Client {
	o := sim.Options()
	return ecr.New(ecr.Options{Region: o.Region, BaseEndpoint: aws.String(url),
		Credentials: credentials.NewStaticCredentialsProvider(o.AccessKeyID, secret, "")})
}

// push writes a random image to host/repo:tag and returns its digest.
func (e ecrEnv) push(t *testing.T, repo, tag string) string {
	t.Helper()
	img, err := random.Image(256, 1)
	require.NoError(t, err)
	ref, err := name.NewTag(e.host+"/"+repo+":"+tag, name.Insecure)
	require.NoError(t, err)
	require.NoError(t, remote.Write(ref, img, remote.WithAuth(&authn.Basic{Username: "AWS", Password: ecrTestPassword})))
	digest, err := img.Digest()
	require.NoError(t, err)
	return digest.String()
}

func TestECR_GetAuthorizationTokenEncodesTheRegistryPassword(t *testing.T) {
	e := newECREnv(t)
	out, err := e.client.GetAuthorizationToken(e.ctx, &ecr.GetAuthorizationTokenInput{})
	require.NoError(t, err)
	require.Len(t, out.AuthorizationData, 1)
	data := out.AuthorizationData[0]

	raw, err := base64.StdEncoding.DecodeString(aws.ToString(data.AuthorizationToken))
	require.NoError(t, err)
	assert.Equal(t, "AWS:"+ecrTestPassword, string(raw))
	assert.Equal(t, "http://"+e.host, aws.ToString(data.ProxyEndpoint))
	require.NotNil(t, data.ExpiresAt)
	assert.WithinDuration(t, time.Now().Add(12*time.Hour), *data.ExpiresAt, time.Minute)
}

func TestECR_GetAuthorizationTokenWithoutRegistryTellsTheTestWhatToDo(t *testing.T) {
	sim := awssim.New(awssim.DefaultOptions())
	client := newECRClient(sim, sim.Start(t), sim.Options().SecretAccessKey)
	_, err := client.GetAuthorizationToken(t.Context(), &ecr.GetAuthorizationTokenInput{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "UseRegistry")
}

func TestECR_WrongSecretKeyIsRefused(t *testing.T) {
	e := newECREnv(t)
	bad := newECRClient(e.sim, e.sim.Start(t), "wrong-secret")
	_, err := bad.GetAuthorizationToken(e.ctx, &ecr.GetAuthorizationTokenInput{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "InvalidSignatureException")
}

func TestECR_DescribeRepositoriesFiltersAndPaginates(t *testing.T) {
	e := newECREnv(t)
	for _, n := range []string{"backend", "frontend", "team/worker"} {
		e.sim.ECR.CreateRepository(n)
	}

	out, err := e.client.DescribeRepositories(e.ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"team/worker"}})
	require.NoError(t, err)
	require.Len(t, out.Repositories, 1)
	r := out.Repositories[0]
	assert.Equal(t, e.host+"/team/worker", aws.ToString(r.RepositoryUri))
	assert.Equal(t, "arn:aws:ecr:eu-west-1:123456789012:repository/team/worker", aws.ToString(r.RepositoryArn))
	assert.Equal(t, ecrtypes.ImageTagMutabilityMutable, r.ImageTagMutability)
	require.NotNil(t, r.CreatedAt)
	assert.WithinDuration(t, time.Now(), *r.CreatedAt, time.Minute)

	var names []string
	pages := ecr.NewDescribeRepositoriesPaginator(e.client, &ecr.DescribeRepositoriesInput{MaxResults: aws.Int32(2)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(e.ctx)
		require.NoError(t, err)
		for _, r := range page.Repositories {
			names = append(names, aws.ToString(r.RepositoryName))
		}
	}
	assert.Equal(t, []string{"backend", "frontend", "team/worker"}, names)
}

func TestECR_DescribeRepositoriesUnknownNameIsRepositoryNotFound(t *testing.T) {
	e := newECREnv(t)
	_, err := e.client.DescribeRepositories(e.ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"nope"}})
	var nf *ecrtypes.RepositoryNotFoundException
	require.True(t, errors.As(err, &nf), "want RepositoryNotFoundException, got %v", err)
	assert.Equal(t, "The repository with name 'nope' does not exist in the registry with id '123456789012'", nf.ErrorMessage())
}

func TestECR_CreateRepositoryThroughTheAPI(t *testing.T) {
	e := newECREnv(t)
	out, err := e.client.CreateRepository(e.ctx, &ecr.CreateRepositoryInput{
		RepositoryName: aws.String("backend"), ImageTagMutability: ecrtypes.ImageTagMutabilityImmutable})
	require.NoError(t, err)
	assert.Equal(t, ecrtypes.ImageTagMutabilityImmutable, out.Repository.ImageTagMutability)

	_, err = e.client.CreateRepository(e.ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String("backend")})
	var exists *ecrtypes.RepositoryAlreadyExistsException
	assert.True(t, errors.As(err, &exists), "want RepositoryAlreadyExistsException, got %v", err)
}

func TestECR_DescribeImagesAsksTheRegistry(t *testing.T) {
	e := newECREnv(t)
	e.sim.ECR.CreateRepository("backend")
	digest := e.push(t, "backend", "v1")

	out, err := e.client.DescribeImages(e.ctx, &ecr.DescribeImagesInput{
		RepositoryName: aws.String("backend"), ImageIds: []ecrtypes.ImageIdentifier{{ImageTag: aws.String("v1")}}})
	require.NoError(t, err)
	require.Len(t, out.ImageDetails, 1)
	d := out.ImageDetails[0]
	assert.Equal(t, digest, aws.ToString(d.ImageDigest))
	assert.Equal(t, []string{"v1"}, d.ImageTags)
	assert.Positive(t, aws.ToInt64(d.ImageSizeInBytes))
	assert.NotEmpty(t, aws.ToString(d.ImageManifestMediaType))

	all, err := e.client.DescribeImages(e.ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String("backend")})
	require.NoError(t, err)
	require.Len(t, all.ImageDetails, 1, "listing without imageIds finds the pushed image")
	assert.Equal(t, digest, aws.ToString(all.ImageDetails[0].ImageDigest))
}

func TestECR_DescribeImagesReportsMissingImagesAndRepositories(t *testing.T) {
	e := newECREnv(t)
	e.sim.ECR.CreateRepository("backend")
	e.push(t, "backend", "v1")

	_, err := e.client.DescribeImages(e.ctx, &ecr.DescribeImagesInput{
		RepositoryName: aws.String("backend"), ImageIds: []ecrtypes.ImageIdentifier{{ImageTag: aws.String("v2")}}})
	var inf *ecrtypes.ImageNotFoundException
	require.True(t, errors.As(err, &inf), "want ImageNotFoundException, got %v", err)
	assert.Contains(t, inf.ErrorMessage(), "imageTag:'v2'")

	_, err = e.client.DescribeImages(e.ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String("frontend")})
	var rnf *ecrtypes.RepositoryNotFoundException
	assert.True(t, errors.As(err, &rnf), "want RepositoryNotFoundException, got %v", err)
}
