package sitepublish

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudfrontkeyvaluestore"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/futuraplataforma/esteira/internal/awsenv"
	"github.com/futuraplataforma/esteira/internal/awssim"
	"github.com/futuraplataforma/esteira/internal/release"
	"github.com/futuraplataforma/esteira/internal/teststack"
	"github.com/stretchr/testify/require"
	"golang.org/x/sync/errgroup"
)

// BenchmarkFrontend times, on one local versitygw, esteira's default
// release, aws s3 sync at esteira's concurrency (max_concurrent_requests)
// and the floor (a raw parallel PUT loop for a cold publish, one listing
// plus the PUTs a release needs otherwise): a cold publish, a one-file
// release after touching every mtime, a no-op release and a rollback of
// that one file. Sites of ESTEIRA_BENCH_SIZES files (default 10000,50000;
// ~10 KiB each), ESTEIRA_BENCH_RUNS interleaved runs (default 3); it prints
// the medians and the ratios. ESTEIRA_BENCH_ONLY=esteira,floor leaves
// the others out while tuning. Run it through scripts/bench-frontend with
// -benchtime 1x; it is not part of make test.
func BenchmarkFrontend(b *testing.B) {
	awsBin := os.Getenv("ESTEIRA_BENCH_AWS")
	if awsBin == "" {
		b.Fatal("ESTEIRA_BENCH_AWS is not set: run scripts/bench-frontend, which installs the aws CLI and sets it")
	}
	sizes := []int{10000, 50000}
	if v := os.Getenv("ESTEIRA_BENCH_SIZES"); v != "" {
		sizes = nil
		for _, f := range strings.Split(v, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			require.NoError(b, err, "ESTEIRA_BENCH_SIZES")
			sizes = append(sizes, n)
		}
	}
	runs := 3
	if v := os.Getenv("ESTEIRA_BENCH_RUNS"); v != "" {
		runs, _ = strconv.Atoi(v)
	}
	srv := teststack.S3(b)
	cli := awsCLI(b, awsBin, srv)
	for range b.N {
		for _, n := range sizes {
			benchSize(b, srv, cli, n, runs)
		}
	}
}

// benchPhases are what each tool does in a run, in order.
// The first release after a cold publish also fills the backup store with
// the whole site, once; the one-file release after it is the steady state.
var benchPhases = []string{"cold publish", "first release", "one-file release", "no-op release", "rollback"}

// benchTool runs the phases on its own fresh buckets.
type benchTool struct {
	name string
	run  func(site *benchSite) ([]time.Duration, error)
}

// benchSite is one run's generated build and buckets.
type benchSite struct {
	dir, bucket, backups string
	c                    *s3.Client
	// change and undo make the one-file change and take it back.
	change, undo func() error
}

func benchSize(b *testing.B, srv *teststack.S3Server, cli func(...string) error, n, runs int) {
	dir, total := generateSite(b, n)
	fmt.Printf("\n== %d files, %.1f MB; concurrency %d; median of %d interleaved runs\n", n, float64(total)/1e6, defaultConcurrency, runs)
	tools := []benchTool{
		{"esteira", func(s *benchSite) ([]time.Duration, error) { return esteiraRun(s, nil) }},
		{"esteira --atomic", func(s *benchSite) ([]time.Duration, error) { return esteiraRun(s, atomicPointer(b)) }},
		{"aws s3 sync", func(s *benchSite) ([]time.Duration, error) { return awsRun(s, cli) }},
		{"floor", floorRun},
	}
	if only := os.Getenv("ESTEIRA_BENCH_ONLY"); only != "" { // e.g. esteira,floor while tuning
		tools = slices.DeleteFunc(tools, func(t benchTool) bool { return !slices.Contains(strings.Split(only, ","), t.name) })
	}
	times := map[string][][]time.Duration{} // tool → phase → runs
	var peak atomic.Uint64
	for r := range runs {
		for _, t := range tools {
			s := &benchSite{dir: dir, bucket: srv.NewBucket(b), backups: srv.NewBucket(b), c: srv.Client(b)}
			s.change, s.undo = oneFileChange(dir)
			stop := sampleHeap(&peak, strings.HasPrefix(t.name, "esteira"))
			d, err := t.run(s)
			stop()
			require.NoError(b, err, "%s, run %d", t.name, r+1)
			if times[t.name] == nil {
				times[t.name] = make([][]time.Duration, len(benchPhases))
			}
			for i := range d {
				times[t.name][i] = append(times[t.name][i], d[i])
			}
		}
	}
	fmt.Printf("%-18s %9s %9s %12s %8s %14s %16s %15s\n", "seconds", "esteira", "--atomic", "aws s3 sync", "floor", "aws ÷ esteira", "esteira ÷ floor", "aws ÷ --atomic")
	for i, ph := range benchPhases {
		phase := func(tool string) time.Duration {
			if times[tool] == nil {
				return 0
			}
			return median(times[tool][i])
		}
		e, x, a, f := phase("esteira"), phase("esteira --atomic"), phase("aws s3 sync"), phase("floor")
		fmt.Printf("%-18s %9.2f %9.2f %12.2f %8.2f %13.1fx %15.2fx %14.1fx\n", ph, e.Seconds(), x.Seconds(), a.Seconds(), f.Seconds(),
			ratio(a, e), ratio(e, f), ratio(a, x))
	}
	fmt.Printf("esteira's peak Go heap in use: %.0f MB\n", float64(peak.Load())/1e6)
}

// profile writes a CPU profile of the one-file release to
// $ESTEIRA_BENCH_CPUPROFILE.<tool> when that is set.
func profile(tool string) (stop func()) {
	base := os.Getenv("ESTEIRA_BENCH_CPUPROFILE")
	if base == "" {
		return func() {}
	}
	f, err := os.Create(base + "." + strings.ReplaceAll(strings.TrimLeft(tool, "-"), " ", ""))
	if err != nil {
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return func() {}
	}
	return func() { pprof.StopCPUProfile(); f.Close() }
}

// ratio is a/b, 0 when either was not run.
func ratio(a, b time.Duration) float64 {
	if a == 0 || b == 0 {
		return 0
	}
	return a.Seconds() / b.Seconds()
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// sampleHeap records the peak HeapInuse while on until stop is called.
func sampleHeap(peak *atomic.Uint64, on bool) (stop func()) {
	if !on {
		return func() {}
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-done:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	return func() { close(done); <-finished }
}

// phases times each step in turn and stops at the first error.
func phases(steps ...func() error) ([]time.Duration, error) {
	var out []time.Duration
	for i, f := range steps {
		start := time.Now()
		if err := f(); err != nil {
			return out, fmt.Errorf("%s: %w", benchPhases[i], err)
		}
		out = append(out, time.Since(start))
	}
	return out, nil
}

// atomicPointer is a KeyValueStore in the simulator, reached through the
// real client (SigV4A and all), for esteira --atomic.
func atomicPointer(b *testing.B) *benchPointer {
	sim := awssim.New(awssim.DefaultOptions())
	arn, err := sim.KVS.CreateStore(fmt.Sprintf("bench-%d", time.Now().UnixNano()))
	require.NoError(b, err)
	creds := sim.Credentials()
	return &benchPointer{arn: arn, client: cloudfrontkeyvaluestore.New(cloudfrontkeyvaluestore.Options{
		BaseEndpoint: aws.String(sim.Start(b)), EndpointResolverV2: awsenv.KeyValueStoreEndpoints(), Region: "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider(creds.AccessKeyID, creds.SecretAccessKey, ""),
	})}
}

type benchPointer struct {
	arn    string
	client *cloudfrontkeyvaluestore.Client
}

func esteiraRun(s *benchSite, atomic *benchPointer) ([]time.Duration, error) {
	o := Options{Dir: s.dir, Bucket: s.bucket, Prefix: "www", BackupBucket: s.backups, MaxDelete: 1000}
	c := Clients{S3: s.c}
	name := "esteira"
	if atomic != nil {
		o.Atomic, c.KeyValueStore, name = &AtomicOptions{KeyValueStore: atomic.arn}, atomic.client, "esteira --atomic"
	}
	ctx := context.Background()
	var backup string
	steps := map[string]string{}
	publishAs := func(phase string) func() error {
		return func() error {
			rec, err := Deploy(ctx, c, o)
			if err == nil {
				steps[phase] = stepTimes(rec.Steps)
				switch {
				case rec.Outcome != release.OutcomeSucceeded:
				case rec.Frontend.BackupURI != "":
					backup = path.Base(rec.Frontend.BackupURI)
				case rec.Frontend.Previous != "":
					backup = rec.Frontend.Previous // atomic: the release before the one-file one
				}
			}
			return err
		}
	}
	d, err := phases(
		publishAs("cold publish"),
		func() error { return errorsJoin(s.change(), publishAs("first release")()) },
		func() error {
			if err := s.change(); err != nil {
				return err
			}
			defer profile(name)()
			return publishAs("one-file release")()
		},
		publishAs("no-op release"),
		func() error {
			ro := RollbackOptions{Bucket: s.bucket, Prefix: "www", BackupBucket: s.backups, Backup: backup}
			if atomic != nil {
				ro.Atomic = &AtomicOptions{KeyValueStore: atomic.arn}
			}
			_, err := Rollback(ctx, c, ro)
			return err
		},
	)
	for _, ph := range benchPhases[:4] {
		fmt.Printf("    %s %-16s %s\n", name, ph+":", steps[ph])
	}
	return d, errorsJoin(err, s.undo())
}

func stepTimes(steps []release.Step) string {
	var parts []string
	for _, s := range steps {
		parts = append(parts, fmt.Sprintf("%s %s", s.Name, s.Duration.Round(time.Millisecond)))
	}
	return strings.Join(parts, ", ")
}

func errorsJoin(err, undo error) error {
	if err != nil {
		return err
	}
	return undo
}

func awsRun(s *benchSite, cli func(...string) error) ([]time.Duration, error) {
	dst := "s3://" + s.bucket + "/www"
	sync := func() error { return cli("s3", "sync", s.dir, dst) }
	d, err := phases(
		sync,
		func() error { return errorsJoin(s.change(), sync()) },
		func() error { return errorsJoin(s.change(), sync()) },
		sync,
		func() error { return errorsJoin(s.undo(), sync()) },
	)
	return d, err
}

// floorRun is what no publisher can beat: PUT every file in parallel for
// a cold publish; one listing of the site plus the PUT of the one file for
// a release and a rollback; one listing for a no-op.
func floorRun(s *benchSite) ([]time.Duration, error) {
	ctx := context.Background()
	st := newS3Store(s.c, 0)
	var rels []string
	err := filepath.WalkDir(s.dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(s.dir, p)
			rels = append(rels, filepath.ToSlash(rel))
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	put := func(rel string) error {
		f, err := os.Open(filepath.Join(s.dir, filepath.FromSlash(rel)))
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = s.c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(s.bucket), Key: aws.String("www/" + rel), Body: f})
		return err
	}
	listAndPut := func(rels ...string) error {
		if _, err := st.List(ctx, s.bucket, "www/"); err != nil {
			return err
		}
		for _, rel := range rels {
			if err := put(rel); err != nil {
				return err
			}
		}
		return nil
	}
	return phases(
		func() error {
			g, gctx := errgroup.WithContext(ctx)
			g.SetLimit(defaultConcurrency)
			for _, rel := range rels {
				g.Go(func() error {
					if gctx.Err() != nil {
						return gctx.Err()
					}
					return put(rel)
				})
			}
			return g.Wait()
		},
		func() error { return errorsJoin(s.change(), listAndPut(changedRel)) },
		func() error { return errorsJoin(s.change(), listAndPut(changedRel)) },
		func() error { return listAndPut() },
		func() error { return errorsJoin(s.undo(), listAndPut(changedRel)) },
	)
}

// changedRel is the file the one-file release changes.
const changedRel = "d001/f00100.png"

// oneFileChange returns change (touch every mtime, then change one file)
// and undo (put that file's bytes back, as a rollback's build would be).
func oneFileChange(dir string) (change, undo func() error) {
	p := filepath.Join(dir, filepath.FromSlash(changedRel))
	orig, err := os.ReadFile(p)
	change = func() error {
		if err != nil {
			return err
		}
		now := time.Now()
		if err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			return os.Chtimes(p, now, now)
		}); err != nil {
			return err
		}
		return os.WriteFile(p, []byte("changed at "+now.Format(time.RFC3339Nano)), 0o644)
	}
	undo = func() error { return os.WriteFile(p, orig, 0o644) }
	return change, undo
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

// awsCLI returns a runner for the aws CLI pointed at the server, at
// esteira's concurrency.
func awsCLI(b *testing.B, bin string, srv *teststack.S3Server) func(args ...string) error {
	cfg := filepath.Join(b.TempDir(), "config")
	require.NoError(b, os.WriteFile(cfg, []byte(fmt.Sprintf("[default]\nregion = %s\ns3 =\n    addressing_style = path\n    max_concurrent_requests = %d\n",
		srv.Region, defaultConcurrency)), 0o600))
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
