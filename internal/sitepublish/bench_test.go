package sitepublish

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/futuraplataforma/esteira/internal/teststack"
	"github.com/stretchr/testify/require"
	"golang.org/x/sync/errgroup"
)

// BenchmarkFrontendVsAWSCLI times esteira against `aws s3 sync` on the same
// versitygw: a cold publish of a generated site (ESTEIRA_BENCH_FILES files,
// default 10,000, ~10 KiB each), a republish after touching every mtime and
// changing one file, and a backup of the site, next to the server's raw
// parallel CopyObject rate. Run it through scripts/bench-frontend with
// -benchtime 1x; it is not part of make test.
func BenchmarkFrontendVsAWSCLI(b *testing.B) {
	awsBin := os.Getenv("ESTEIRA_BENCH_AWS")
	if awsBin == "" {
		b.Fatal("ESTEIRA_BENCH_AWS is not set: run scripts/bench-frontend, which installs the aws CLI and sets it")
	}
	n := 10000
	if v := os.Getenv("ESTEIRA_BENCH_FILES"); v != "" {
		n, _ = strconv.Atoi(v)
	}
	srv := teststack.S3(b)
	c := srv.Client(b)
	dir, total := generateSite(b, n)
	cli := awsCLI(b, awsBin, srv)
	fmt.Printf("site: %d files, %.1f MB; esteira concurrency %d\n", n, float64(total)/1e6, defaultConcurrency)
	for range b.N {
		site, bak, awsSite := srv.NewBucket(b), srv.NewBucket(b), srv.NewBucket(b)
		o := Options{Dir: dir, Bucket: site, Prefix: "www", BackupBucket: bak, MaxDelete: 1000}
		var noBackup time.Duration
		deploy := func(o Options) func() error {
			return func() error {
				var err error
				noBackup, err = deployAndPrintSteps(c, o)
				return err
			}
		}
		eCold := timed(b, "esteira cold publish", deploy(o))
		aCold := timed(b, "aws s3 sync cold publish", func() error { return cli("s3", "sync", dir, "s3://"+awsSite+"/www") })
		// Republish twice, once per backup mode, each after touching every
		// mtime and changing one file; aws s3 sync does the same each time.
		touchAllAndChangeOne(b, dir)
		eReFull := timed(b, "esteira republish, full backup (default)", deploy(o))
		eReNoBackup := noBackup
		aRe := timed(b, "aws s3 sync republish (touched + 1 changed)", func() error { return cli("s3", "sync", dir, "s3://"+awsSite+"/www") })
		touchAllAndChangeOne(b, dir)
		oc := o
		oc.BackupMode = BackupChanged
		eReChanged := timed(b, "esteira republish, --backup-mode changed", deploy(oc))
		aRe += timed(b, "aws s3 sync republish (touched + 1 changed)", func() error { return cli("s3", "sync", dir, "s3://"+awsSite+"/www") })
		aRe /= 2
		aBak := timed(b, "aws s3 sync s3:// s3:// backup", func() error { return cli("s3", "sync", "s3://"+awsSite+"/www", "s3://"+bak+"/aws-backup") })
		// The machine is shared: alternate raw copies and backups, two rounds each, and compare the sums.
		var raw, eBak time.Duration
		for round := range 2 {
			raw += timed(b, "raw parallel CopyObject", func() error { return rawCopy(c, site, bak, fmt.Sprintf("raw%d/", round)) })
			eBak += timed(b, "esteira full-site backup (list, copy, verify)", func() error {
				return benchBackup(c, site, bak, fmt.Sprintf("bench-backup-%d", round))
			})
		}
		raw, eBak = raw/2, eBak/2
		fmt.Printf("cold publish:     esteira is %.1fx faster than aws s3 sync (goal >= 3x)\n", aCold.Seconds()/eCold.Seconds())
		fmt.Printf("1-file republish: esteira is %.1fx faster than aws s3 sync with the default full backup,\n", aRe.Seconds()/eReFull.Seconds())
		fmt.Printf("                  %.1fx with --backup-mode changed, %.1fx for the steps aws s3 sync also does (all but the backup) (goal >= 20x)\n",
			aRe.Seconds()/eReChanged.Seconds(), aRe.Seconds()/eReNoBackup.Seconds())
		fmt.Printf("backup:           esteira is %.1fx faster than aws s3 sync; %.0f objects/s vs raw CopyObject %.0f objects/s = %.0f%% (goal >= 80%%)\n",
			aBak.Seconds()/eBak.Seconds(), float64(n)/eBak.Seconds(), float64(n)/raw.Seconds(), 100*raw.Seconds()/eBak.Seconds())
	}
}

func timed(b *testing.B, what string, f func() error) time.Duration {
	start := time.Now()
	require.NoError(b, f(), what)
	d := time.Since(start)
	fmt.Printf("%-45s %8s\n", what, d.Round(time.Millisecond))
	return d
}

// generateSite writes n files: HTML pages, and assets of 2-19 KiB of
// incompressible bytes (~10 KiB average).
func generateSite(b *testing.B, n int) (string, int64) {
	dir := b.TempDir()
	rng := rand.New(rand.NewPCG(1, 2))
	exts := []string{".js", ".css", ".png", ".woff2", ".svg", ".json", ".html"}
	var total int64
	for i := range n {
		rel := fmt.Sprintf("d%03d/f%05d%s", i/100, i, exts[i%len(exts)])
		if i == 0 {
			rel = "index.html"
		}
		data := make([]byte, 2048+rng.IntN(17*1024))
		for j := range data {
			data[j] = byte(rng.Uint32())
		}
		p := filepath.Join(dir, filepath.FromSlash(rel))
		require.NoError(b, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(b, os.WriteFile(p, data, 0o644))
		total += int64(len(data))
	}
	return dir, total
}

func touchAllAndChangeOne(b *testing.B, dir string) {
	future := time.Now().Add(time.Minute)
	require.NoError(b, filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Chtimes(p, future, future)
	}))
	changed := []byte("changed at " + time.Now().Format(time.RFC3339Nano)) // differs on every call
	require.NoError(b, os.WriteFile(filepath.Join(dir, "d001/f00100.png"), changed, 0o644))
}

// awsCLI returns a runner for the aws CLI pointed at the server.
func awsCLI(b *testing.B, bin string, srv *teststack.S3Server) func(args ...string) error {
	cfg := filepath.Join(b.TempDir(), "config")
	require.NoError(b, os.WriteFile(cfg, []byte("[default]\nregion = "+srv.Region+"\ns3 =\n    addressing_style = path\n"), 0o600))
	env := append(os.Environ(), "AWS_ACCESS_KEY_ID="+srv.AccessKeyID, "AWS_SECRET_ACCESS_KEY="+srv.SecretAccessKey,
		"AWS_CONFIG_FILE="+cfg, "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_EC2_METADATA_DISABLED=true")
	return func(args ...string) error {
		cmd := exec.Command(bin, append([]string{"--endpoint-url", srv.Endpoint, "--only-show-errors"}, args...)...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("aws %v: %w: %s", args, err, out)
		}
		return nil
	}
}

// benchBackup is Deploy's backup step for the whole site: list, resolve,
// copy, verify, manifest; it prints the time of each part.
func benchBackup(c *s3.Client, site, bak, id string) error {
	ctx := context.Background()
	st, loc, dst := newS3Store(c, 0), newLocation(site, "www"), newLocation(bak, id)
	t0 := time.Now()
	remote, err := listLocation(ctx, st, loc)
	if err != nil {
		return err
	}
	if _, err := resolveHashes(ctx, st, loc, remote, defaultConcurrency); err != nil {
		return err
	}
	t1 := time.Now()
	rels := remote.sortedKeys()
	jobs := make([]copyJob, len(rels))
	for i, rel := range rels {
		jobs[i] = copyJob{src: loc, dst: dst, srcRel: rel, dstRel: rel}
	}
	if err := copyAll(ctx, st, jobs, false, defaultConcurrency, nil, nil); err != nil {
		return err
	}
	t2 := time.Now()
	if _, err := verifyLocation(ctx, st, remote, dst, sameBytes, defaultConcurrency, report{out: io.Discard}); err != nil {
		return err
	}
	t3 := time.Now()
	err = writeManifest(ctx, st, dst, remote, rels)
	fmt.Printf("    list+resolve %s, copy %s, verify %s, manifest %s\n", t1.Sub(t0).Round(time.Millisecond),
		t2.Sub(t1).Round(time.Millisecond), t3.Sub(t2).Round(time.Millisecond), time.Since(t3).Round(time.Millisecond))
	return err
}

// deployAndPrintSteps deploys, prints the record's steps and returns the
// time of every step but the backup: the work aws s3 sync also does.
func deployAndPrintSteps(c *s3.Client, o Options) (time.Duration, error) {
	rec, err := Deploy(context.Background(), Clients{S3: c}, o)
	var noBackup time.Duration
	if err == nil {
		for _, s := range rec.Steps {
			fmt.Printf("    %-10s %8s %s\n", s.Name, s.Duration.Round(time.Millisecond), s.Detail)
			if s.Name != "backup" {
				noBackup += s.Duration
			}
		}
	}
	return noBackup, err
}

// rawCopy measures the server's CopyObject rate at esteira's concurrency:
// list the site and copy every object under dstPrefix, nothing else.
func rawCopy(c *s3.Client, site, bak, dstPrefix string) error {
	ctx := context.Background()
	objs, err := newS3Store(c, 0).List(ctx, site, "www/")
	if err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(defaultConcurrency)
	for _, o := range objs {
		g.Go(func() error {
			_, err := c.CopyObject(gctx, &s3.CopyObjectInput{Bucket: aws.String(bak), Key: aws.String(dstPrefix + o.Key),
				CopySource: aws.String(copySource(site, o.Key))})
			return err
		})
	}
	return g.Wait()
}
