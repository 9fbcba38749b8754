//go:build e2e

package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/futuraplataforma/esteira/internal/sandbox"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A backup whose manifest is damaged stops the site's prune; the error
// names the exact set-aside command, and after it the prune goes on.
func TestSite_ADamagedBackupNamesTheSetAsideCommandThatUnblocksIt(t *testing.T) {
	prefix := unique("e2e-damaged")
	site := []string{"site", "--bucket", sandbox.SiteBucket, "--prefix", prefix, "--backup-bucket", sandbox.BackupBucket}
	verb := func(args ...string) result { return inSandbox(t, append(append([]string(nil), site...), args...)...) }
	ok(t, verb("deploy", "--dist", built(t, "./examples/frontend")))
	src := copyDir(t, "examples/frontend")
	require.NoError(t, os.WriteFile(filepath.Join(src, "src", "news.txt"), []byte("e2e damaged 2\n"), 0o644))
	second := record(t, ok(t, verb("deploy", "--dist", built(t, src))))

	// Damage the manifest of the backup the second release took.
	list, err := s3Client().ListObjectsV2(t.Context(), &s3.ListObjectsV2Input{Bucket: aws.String(sandbox.BackupBucket), Prefix: aws.String(prefix + "/")})
	require.NoError(t, err)
	var manifest string
	for _, o := range list.Contents {
		if k := aws.ToString(o.Key); strings.Contains(k, second.ID) && strings.HasSuffix(k, "/.esteira/manifest.json") {
			manifest = k
		}
	}
	require.NotEmpty(t, manifest, "the second release took a backup with a manifest")
	_, err = s3Client().PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String(sandbox.BackupBucket), Key: aws.String(manifest),
		Body: strings.NewReader(`{"version":3,"count":2` + "\n" + `["index.html",1,"`)})
	require.NoError(t, err)

	command := "dagger call " + strings.Join(site, " ") + " set-aside --backup " + second.ID
	fails(t, verb("prune", "--keep", "5"), "backup "+second.ID+" is damaged", command)
	assert.Contains(t, ok(t, verb("set-aside", "--backup", second.ID, "--dry-run")), second.ID)
	fails(t, verb("prune", "--keep", "5"), command) // the dry run moved nothing
	assert.Contains(t, ok(t, verb("set-aside", "--backup", second.ID)), "set-aside")
	ok(t, verb("prune", "--keep", "5"))
}
