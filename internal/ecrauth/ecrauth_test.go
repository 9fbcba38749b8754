package ecrauth_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/futuraplataforma/esteira/internal/ecrauth"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeTokens answers GetAuthorizationToken from its fields.
type fakeTokens struct {
	data []types.AuthorizationData
	err  error
}

func (f fakeTokens) GetAuthorizationToken(context.Context, *ecr.GetAuthorizationTokenInput, ...func(*ecr.Options)) (*ecr.GetAuthorizationTokenOutput, error) {
	return &ecr.GetAuthorizationTokenOutput{AuthorizationData: f.data}, f.err
}

func authData(endpoint, token string) []types.AuthorizationData {
	return []types.AuthorizationData{{ProxyEndpoint: aws.String(endpoint), AuthorizationToken: aws.String(token)}}
}

const secretPassword = "eyJwYXlsb2FkIjoic2VjcmV0In0="

func TestLogin_DecodesTheTokenOrSaysWhatIsWrong(t *testing.T) {
	good := base64.StdEncoding.EncodeToString([]byte("AWS:" + secretPassword))
	host := "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
	tests := []struct {
		name       string
		api        fakeTokens
		registryID string
		wantHost   string
		wantErr    string
	}{
		{"token for the own account", fakeTokens{data: authData("https://"+host, good)}, "", host, ""},
		{"another account's registry", fakeTokens{data: authData("https://"+host, good)}, "210987654321", "210987654321.dkr.ecr.eu-west-1.amazonaws.com", ""},
		{"registry id not an account", fakeTokens{}, "12345", "", `registry id "12345" is not a 12-digit AWS account id`},
		{"AWS refuses", fakeTokens{err: errors.New("AccessDeniedException: no")}, "", "", "get ECR authorization token: AccessDeniedException"},
		{"no authorization data", fakeTokens{}, "", "", "ECR returned no authorization data"},
		{"no endpoint", fakeTokens{data: authData("", good)}, "", "", "empty proxyEndpoint"},
		{"token not base64", fakeTokens{data: authData("https://"+host, "!!"+secretPassword)}, "", "", "the token is not base64"},
		{"token without colon", fakeTokens{data: authData("https://"+host, base64.StdEncoding.EncodeToString([]byte(secretPassword)))}, "", "", "not of the form user:password"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			creds, err := ecrauth.Login(context.Background(), tt.api, tt.registryID)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				assert.NotContains(t, err.Error(), secretPassword)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.wantHost, creds.Registry)
			assert.Equal(t, "AWS", creds.Username)
			assert.Equal(t, secretPassword, creds.Password)
		})
	}
}

func TestCredentials_RedactThePasswordEverywhere(t *testing.T) {
	c := ecrauth.Credentials{Registry: "127.0.0.1:5000", Username: "AWS", Password: secretPassword}
	var outputs []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
		outputs = append(outputs, fmt.Sprintf(verb, c), fmt.Sprintf(verb, &c))
	}
	outputs = append(outputs, c.String(), c.GoString())
	js, err := json.Marshal(c)
	require.NoError(t, err)
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("login", "creds", c)
	outputs = append(outputs, string(js), logs.String())
	for _, out := range outputs {
		assert.NotContains(t, out, secretPassword)
		assert.Contains(t, out, "127.0.0.1:5000", "the registry stays visible")
	}
}

func TestValidateTag(t *testing.T) {
	tests := []struct{ tag, wantErr string }{
		{"v1.2.3", ""},
		{"1.4.0-abc1234", ""},
		{"_internal", ""},
		{strings.Repeat("a", 128), ""},
		{"", "tag is empty"},
		{strings.Repeat("a", 129), "is 129 characters long"},
		{".hidden", "not a valid image tag"},
		{"-rc1", "not a valid image tag"},
		{"feature/login", "not a valid image tag"},
		{"v1+build", "not a valid image tag"},
	}
	for _, tt := range tests {
		t.Run(tt.tag, func(t *testing.T) {
			err := ecrauth.ValidateTag(tt.tag)
			if tt.wantErr == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
		})
	}
}

func TestValidateRepositoryName(t *testing.T) {
	tests := []struct{ name, wantErr string }{
		{"backend", ""},
		{"team/backend", ""},
		{"team/back_end.v2-x", ""},
		{"", "repository name is empty: name the ECR repository"},
		{"a", "2 to 256 characters"},
		{strings.Repeat("a", 257), "2 to 256 characters"},
		{"Backend", "lower case"},
		{"123456789012.dkr.ecr.eu-west-1.amazonaws.com/backend", "not its URI"},
		{"backend:v1", "not its URI or a tag"},
		{"team//backend", "use lower-case letters and digits"},
		{"backend-", "use lower-case letters and digits"},
		{"/backend", "use lower-case letters and digits"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ecrauth.ValidateRepositoryName(tt.name)
			if tt.wantErr == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
		})
	}
}

func TestCheckOverwrite(t *testing.T) {
	const uri, a, b = "127.0.0.1:5000/team/backend", "sha256:aaaa", "sha256:bbbb"
	tests := []struct {
		name           string
		existing, next string
		allow          bool
		wantErr        bool
	}{
		{"new tag", "", b, false, false},
		{"same image again", a, a, false, false},
		{"different image is refused", a, b, false, true},
		{"different image with allow-overwrite", a, b, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ecrauth.CheckOverwrite(uri, "v1", tt.existing, tt.next, tt.allow)
			if !tt.wantErr {
				assert.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ecrauth.ErrTagExists)
			assert.Contains(t, err.Error(), "tag team/backend:v1 already points at sha256:aaaa (this build is sha256:bbbb); "+
				"tags are immutable: publish under a new tag, or allow moving it")
		})
	}
}

func TestDefaultTag(t *testing.T) {
	tests := []struct{ sha, version, want string }{
		{"abc1234", "1.4.0", "1.4.0-abc1234"},
		{"abc1234", "", "abc1234"},
		{"", "1.4.0", "1.4.0"},
		{"", "", ""},
		{"abc1234", "v1.4.0+build.7", "v1.4.0-build.7-abc1234"},
		{"abc1234", " 2.0.0/rc 1 ", "2.0.0-rc-1-abc1234"},
		{"abc1234", "-.beta", "beta-abc1234"},
		{"abc1234", strings.Repeat("9", 200), strings.Repeat("9", 120) + "-abc1234"},
	}
	for _, tt := range tests {
		t.Run(tt.version+"_"+tt.sha, func(t *testing.T) {
			got := ecrauth.DefaultTag(tt.sha, tt.version)
			assert.Equal(t, tt.want, got)
			if got != "" {
				assert.NoError(t, ecrauth.ValidateTag(got), "a default tag is always valid")
			}
		})
	}
}

func TestVersionFromSource(t *testing.T) {
	write := func(t *testing.T, files map[string]string) string {
		dir := t.TempDir()
		for name, body := range files {
			require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644))
		}
		return dir
	}
	tests := []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"VERSION file", map[string]string{"VERSION": "1.4.0\nnotes\n"}, "1.4.0"},
		{"VERSION wins over package.json", map[string]string{"VERSION": "2.0.0", "package.json": `{"version":"0.1.0"}`}, "2.0.0"},
		{"package.json", map[string]string{"package.json": `{"name":"web","version":"0.3.1"}`}, "0.3.1"},
		{"empty VERSION falls back to package.json", map[string]string{"VERSION": "\n", "package.json": `{"version":"0.3.1"}`}, "0.3.1"},
		{"broken package.json", map[string]string{"package.json": `{`}, ""},
		{"nothing", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, ecrauth.VersionFromSource(write(t, tt.files)))
		})
	}
}
