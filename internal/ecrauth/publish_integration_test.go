package ecrauth_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/futuraplataforma/esteira/internal/awssim"
	"github.com/futuraplataforma/esteira/internal/ecrauth"
	"github.com/futuraplataforma/esteira/internal/teststack"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMain(m *testing.M) { teststack.Main(m) }

// stack is the simulator's ECR API in front of a real distribution registry,
// with a real ECR client and a repository of the test's own.
type stack struct {
	sim    *awssim.Server
	url    string
	ecr    *ecr.Client
	reg    *teststack.Registry
	repo   string
	ctx    context.Context
	errors []error // every error a test saw, checked for leaked secrets
}

var repoCount atomic.Int64

func newStack(t *testing.T) *stack {
	t.Helper()
	reg := teststack.StartRegistry(t)
	sim := awssim.New(awssim.DefaultOptions())
	url := sim.Start(t)
	sim.ECR.UseRegistry(reg.Host, reg.Password)
	repo := fmt.Sprintf("team/backend-%d", repoCount.Add(1))
	sim.ECR.CreateRepository(repo)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	s := &stack{sim: sim, url: url, ecr: ecrClient(sim, url, sim.Options().SecretAccessKey), reg: reg, repo: repo, ctx: ctx}
	t.Cleanup(func() { s.assertNoSecretsIn(t) })
	return s
}

func ecrClient(sim *awssim.Server, url, secret string) *ecr.Client {
	o := sim.Options()
	return ecr.New(ecr.Options{Region: o.Region, BaseEndpoint: aws.String(url),
		Credentials: credentials.NewStaticCredentialsProvider(o.AccessKeyID, secret, "")})
}

// seen records an error for the leak check and returns it.
func (s *stack) seen(err error) error {
	if err != nil {
		s.errors = append(s.errors, err)
	}
	return err
}

func (s *stack) assertNoSecretsIn(t *testing.T) {
	token := base64.StdEncoding.EncodeToString([]byte("AWS:" + s.reg.Password))
	for _, err := range s.errors {
		assert.NotContains(t, err.Error(), s.reg.Password, "an error leaks the registry password")
		assert.NotContains(t, err.Error(), token, "an error leaks the ECR token")
		assert.NotContains(t, err.Error(), s.sim.Options().SecretAccessKey, "an error leaks the AWS secret key")
	}
}

// push writes a fresh random image to uri:tag as creds and returns its digest.
func push(t *testing.T, creds *ecrauth.Credentials, uri, tag string) string {
	t.Helper()
	img, err := random.Image(512, 2)
	require.NoError(t, err)
	pushImage(t, creds, uri, tag, img)
	d, err := img.Digest()
	require.NoError(t, err)
	return d.String()
}

// pushImage writes img to uri:tag over plain HTTP with basic auth, as ci/ does with the credentials.
func pushImage(t *testing.T, creds *ecrauth.Credentials, uri, tag string, img v1.Image) {
	t.Helper()
	require.NoError(t, remote.Write(tagRef(t, uri, tag), img, remote.WithAuth(basicAuth(creds))))
}

// tagRef is uri:tag on a plain-HTTP registry.
func tagRef(t *testing.T, uri, tag string) name.Tag {
	t.Helper()
	ref, err := name.NewTag(uri+":"+tag, name.Insecure)
	require.NoError(t, err)
	return ref
}

func basicAuth(creds *ecrauth.Credentials) authn.Authenticator {
	return &authn.Basic{Username: creds.Username, Password: creds.Password}
}

func TestPublish_LoginPushAndRefuseToMoveAnImmutableTag(t *testing.T) {
	s := newStack(t)

	creds, err := ecrauth.Login(s.ctx, s.ecr, "")
	require.NoError(t, err)
	assert.Equal(t, s.reg.Host, creds.Registry)
	assert.Equal(t, "AWS", creds.Username)
	assert.Equal(t, s.reg.Password, creds.Password)
	assert.WithinDuration(t, time.Now().Add(12*time.Hour), creds.ExpiresAt, time.Minute)

	uri, err := ecrauth.ResolveRepository(s.ctx, s.ecr, s.repo)
	require.NoError(t, err)
	assert.Equal(t, s.reg.Host+"/"+s.repo, uri)

	before, err := ecrauth.ExistingDigest(s.ctx, creds, uri, "1.4.0-abc1234")
	require.NoError(t, err)
	assert.Empty(t, before, "nothing was pushed to the repository yet")

	first := push(t, creds, uri, "1.4.0-abc1234")
	got, err := ecrauth.ExistingDigest(s.ctx, creds, uri, "1.4.0-abc1234")
	require.NoError(t, err)
	assert.Equal(t, first, got)

	other, err := ecrauth.ExistingDigest(s.ctx, creds, uri, "1.4.0-def5678")
	require.NoError(t, err)
	assert.Empty(t, other, "a tag never pushed does not exist")

	assert.NoError(t, ecrauth.CheckOverwrite(uri, "1.4.0-abc1234", got, first, false), "republishing the same image is allowed")

	// The next build is a different image: the check runs before its push.
	next, err := random.Image(512, 2)
	require.NoError(t, err)
	nextDigest, err := next.Digest()
	require.NoError(t, err)
	second := nextDigest.String()
	err = s.seen(ecrauth.CheckOverwrite(uri, "1.4.0-abc1234", got, second, false))
	require.ErrorIs(t, err, ecrauth.ErrTagExists)
	assert.Equal(t, fmt.Sprintf("tag %s:1.4.0-abc1234 already points at %s (this build is %s); tags are immutable: "+
		"publish under a new tag, or allow moving it: tag already points at another image", s.repo, first, second), err.Error())

	require.NoError(t, ecrauth.CheckOverwrite(uri, "1.4.0-abc1234", got, second, true), "--allow-overwrite lifts the rule")
	pushImage(t, creds, uri, "1.4.0-abc1234", next)
	moved, err := ecrauth.ExistingDigest(s.ctx, creds, uri, "1.4.0-abc1234")
	require.NoError(t, err)
	assert.Equal(t, second, moved, "the allowed overwrite moved the tag")
}

func TestResolveRepository_UnknownRepositoryTellsHowToCreateIt(t *testing.T) {
	s := newStack(t)
	_, err := ecrauth.ResolveRepository(s.ctx, s.ecr, "payments")
	require.ErrorIs(t, s.seen(err), ecrauth.ErrRepositoryNotFound)
	assert.Equal(t, `repository "payments" not found in registry 123456789012 (region eu-west-1): `+
		`create it (aws ecr create-repository --repository-name payments) or check the repository's name`, err.Error())
}

func TestResolveRepository_InvalidNameIsRefusedBeforeCallingAWS(t *testing.T) {
	s := newStack(t)
	for _, bad := range []string{"", "Backend", "123456789012.dkr.ecr.eu-west-1.amazonaws.com/backend", "back//end", "x"} {
		_, err := ecrauth.ResolveRepository(s.ctx, s.ecr, bad)
		require.Error(t, s.seen(err), "name %q", bad)
		assert.Contains(t, err.Error(), "repository", "name %q", bad)
	}
	assert.Zero(t, s.sim.Count("ecr", "DescribeRepositories"))
}

func TestLogin_WrongSecretKeyIsRefusedBySigV4(t *testing.T) {
	s := newStack(t)
	_, err := ecrauth.Login(s.ctx, ecrClient(s.sim, s.url, "not-the-secret"), "")
	require.Error(t, s.seen(err))
	assert.Contains(t, err.Error(), "get ECR authorization token")
	assert.Contains(t, err.Error(), "InvalidSignatureException")
}

func TestExistingDigest_WrongRegistryPasswordNamesTheCredentials(t *testing.T) {
	s := newStack(t)
	creds, err := ecrauth.Login(s.ctx, s.ecr, "")
	require.NoError(t, err)
	uri, err := ecrauth.ResolveRepository(s.ctx, s.ecr, s.repo)
	require.NoError(t, err)

	wrong := *creds
	wrong.Password = creds.Password + "-stale"
	_, err = ecrauth.ExistingDigest(s.ctx, &wrong, uri, "v1")
	require.Error(t, s.seen(err))
	assert.Contains(t, err.Error(), "refused the credentials for user AWS (HTTP 401)")
	assert.NotContains(t, err.Error(), wrong.Password)
}

func TestExistingDigest_BadInputIsRefusedBeforeAskingTheRegistry(t *testing.T) {
	s := newStack(t)
	creds, err := ecrauth.Login(s.ctx, s.ecr, "")
	require.NoError(t, err)
	uri := s.reg.Host + "/" + s.repo
	tests := []struct {
		name, uri, tag, want string
		creds                *ecrauth.Credentials
	}{
		{"empty tag", uri, "", "tag is empty", creds},
		{"malformed tag", uri, "-rc1", `tag "-rc1" is not a valid image tag`, creds},
		{"tag with a colon", uri, "v1:latest", "not a valid image tag", creds},
		{"no credentials", uri, "v1", "log in first", nil},
		{"another registry", "123456789012.dkr.ecr.eu-west-1.amazonaws.com/" + s.repo, "v1", "the credentials are for registry", creds},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ecrauth.ExistingDigest(s.ctx, tt.creds, tt.uri, tt.tag)
			require.Error(t, s.seen(err))
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestLogin_ErrorsAndFormattingNeverShowThePassword(t *testing.T) {
	s := newStack(t)
	creds, err := ecrauth.Login(s.ctx, s.ecr, "")
	require.NoError(t, err)
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
		out := fmt.Sprintf(verb, creds) + fmt.Sprintf(verb, *creds)
		assert.NotContains(t, out, s.reg.Password, verb)
		assert.True(t, strings.Contains(out, s.reg.Host), "%s should still name the registry: %s", verb, out)
	}
	_, err = ecrauth.Login(s.ctx, s.ecr, "not-an-account")
	require.Error(t, s.seen(err))
	assert.Contains(t, err.Error(), "12-digit")
}
