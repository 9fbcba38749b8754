//go:build e2e

package e2e

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/futuraplataforma/esteira/internal/ecrauth"
	"github.com/futuraplataforma/esteira/internal/release"
	"github.com/futuraplataforma/esteira/internal/sandbox"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The site prefix examples/pipeline releases to.
const pipelineSitePrefix = "pipeline"

// examples/pipeline is a team's own module that installs esteira: it builds
// the image its own way (its Dockerfile, a VERSION build argument, a label)
// and the site its own way (a version.txt), and hands the *Container and the
// *Directory to esteira. What esteira pushed, rolled out and uploaded must be
// exactly what the team built.
func TestPipelineModule(t *testing.T) {
	version := unique("1.5.0-e2e")
	pipeline := func(args ...string) result {
		return cli(t, append([]string{"call", "-m", "examples/pipeline", "--sandbox", "tcp://localhost:4566"}, args...)...)
	}

	ref := strings.TrimSpace(ok(t, pipeline("publish", "--version", version)))
	require.Regexp(t, pushedRef, ref)
	assert.Equal(t, version, pushedRef.FindStringSubmatch(ref)[1], "the version is the tag")
	digest := ref[strings.Index(ref, "@")+1:]
	assert.Equal(t, registryDigest(t, sandbox.Repository, version), digest, "the registry holds what publish returned")

	creds, err := ecrauth.Login(t.Context(), ecrClient(), "")
	require.NoError(t, err)
	repo := sandbox.Registry + "/" + sandbox.Repository
	labels, err := ecrauth.ImageLabels(t.Context(), creds, repo, digest)
	require.NoError(t, err)
	assert.Equal(t, version, labels["org.opencontainers.image.version"], "the team's label is on the pushed image")
	assert.True(t, bytes.Contains(appBinary(t, creds, repo+"@"+digest), []byte(version)),
		"the VERSION build argument reached the build: /app carries the version")

	before := liveImage(t)
	dry := ok(t, pipeline("ship", "--version", version, "--dry-run"))
	assert.Contains(t, dry, "DRY RUN OK", "the backend's plan")
	assert.Equal(t, before, liveImage(t), "the dry run changed no service")
	assert.Empty(t, snapshot(t, pipelineSitePrefix), "the dry run wrote nothing to the site")

	r := pipeline("ship", "--version", version)
	var shipped struct{ Backend, Site release.Record }
	require.NoError(t, json.Unmarshal([]byte(ok(t, r)), &shipped), "ship returns both records:\n%s", r)
	assert.Contains(t, r.stderr, "nothing pushed", "backend deploy published the same container: the tag already held it")

	require.NotNil(t, shipped.Backend.Backend)
	assert.Equal(t, release.OutcomeSucceeded, shipped.Backend.Outcome)
	assert.Equal(t, ref, shipped.Backend.Backend.Image, "backend deploy deployed the image publish pushed")
	assert.Equal(t, ref, liveImage(t), "the service runs that digest")
	assert.Equal(t, lastPart(shipped.Backend.Backend.AfterRevision), liveRevision(t))

	require.NotNil(t, shipped.Site.Frontend)
	assert.Equal(t, release.OutcomeSucceeded, shipped.Site.Outcome)
	site := snapshot(t, pipelineSitePrefix)
	assert.Contains(t, site, "index.html")
	assert.Equal(t, shipped.Site.Frontend.Uploaded, len(site), "every file of the team's build is in the bucket")
	assets := 0
	for key := range site {
		if strings.HasPrefix(key, "assets/") {
			assets++
		}
	}
	assert.Positive(t, assets, "the build's hashed assets are in the bucket: %v", site)
	assert.Equal(t, version+"\n", siteObject(t, pipelineSitePrefix+"/version.txt"), "the team's own file is in the site")
}

// appBinary is /app from the image's layers, read from the sandbox's registry.
func appBinary(t *testing.T, creds *ecrauth.Credentials, ref string) []byte {
	t.Helper()
	digest, err := name.NewDigest(ref, name.Insecure)
	require.NoError(t, err)
	img, err := remote.Image(digest, remote.WithContext(t.Context()),
		remote.WithAuth(authn.FromConfig(authn.AuthConfig{Username: creds.Username, Password: creds.Password})))
	require.NoError(t, err)
	layers, err := img.Layers()
	require.NoError(t, err)
	for i := len(layers) - 1; i >= 0; i-- { // the last layer to write /app wins
		rc, err := layers[i].Uncompressed()
		require.NoError(t, err)
		app, err := fileInTar(rc, "app")
		rc.Close()
		require.NoError(t, err)
		if app != nil {
			return app
		}
	}
	t.Fatalf("no layer of %s holds /app", ref)
	return nil
}

// fileInTar is the content of path in a layer's tar stream, or nil.
func fileInTar(r io.Reader, path string) ([]byte, error) {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		if strings.TrimPrefix(h.Name, "./") == path || strings.TrimPrefix(h.Name, "/") == path {
			return io.ReadAll(tr)
		}
	}
}

func siteObject(t *testing.T, key string) string {
	t.Helper()
	out, err := s3Client().GetObject(t.Context(), &s3.GetObjectInput{Bucket: aws.String(sandbox.SiteBucket), Key: aws.String(key)})
	require.NoError(t, err)
	defer out.Body.Close()
	body, err := io.ReadAll(out.Body)
	require.NoError(t, err)
	return string(body)
}
