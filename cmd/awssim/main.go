// Command awssim serves the esteira AWS simulator (ECS, ECR API, Secrets
// Manager, CloudWatch Logs, STS, CodeDeploy's ECS platform) on a local port for demos and manual runs
// of the pipeline against a fake account. With -s3-upstream and
// -registry-upstream it is also the one endpoint for a real S3 server and a
// real OCI registry behind it (the esteira sandbox).
//
//	awssim -addr 127.0.0.1:4566 -seed cmd/awssim/demo-seed.json -tick 1s \
//	  -s3-upstream http://127.0.0.1:7070 -buckets demo-www,demo-releases \
//	  -registry-upstream http://127.0.0.1:5000 -registry localhost:4566 -registry-password demo
//
// Point the AWS CLI or SDK at the printed endpoint with the printed
// credentials (a Go CloudFront KeyValueStore client also needs the
// resolver awsenv.KeyValueStoreEndpoints returns). Without -tick, time moves
// only when a client observes it (DescribeTasks, DescribeServices,
// CodeDeploy's GetDeployment),
// exactly as in tests.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/futuraplataforma/esteira/internal/awssim"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "awssim:", err)
		os.Exit(1)
	}
}

// run parses the flags, serves until ctx ends and prints where to connect.
func run(ctx context.Context, args []string, out io.Writer) error {
	opts := awssim.DefaultOptions()
	fs := flag.NewFlagSet("awssim", flag.ContinueOnError)
	fs.SetOutput(out)
	addr := fs.String("addr", "127.0.0.1:4566", "Address to listen on.")
	fs.StringVar(&opts.Region, "region", opts.Region, "Region the simulator answers for; requests signed for another region are refused.")
	fs.StringVar(&opts.AccountID, "account", opts.AccountID, "12-digit account ID used in ARNs.")
	fs.StringVar(&opts.AccessKeyID, "access-key", opts.AccessKeyID, "The only access key ID accepted.")
	fs.StringVar(&opts.SecretAccessKey, "secret-key", opts.SecretAccessKey, "The secret key requests must be signed with.")
	tick := fs.Duration("tick", 0, "Also advance every ECS task and service and every CodeDeploy deployment one step this often (0: only when observed).")
	seed := fs.String("seed", "", "JSON file of clusters, task definitions, services and CodeDeploy deployment groups to create at start (see demo-seed.json).")
	registry := fs.String("registry", "", "host:port of the OCI registry that ECR GetAuthorizationToken points at (its proxyEndpoint).")
	registryUpstream := fs.String("registry-upstream", "", "URL of a registry to serve behind this endpoint's /v2/ (then -registry names this endpoint, e.g. localhost:4566).")
	s3Upstream := fs.String("s3-upstream", "", "URL of an S3 server to forward requests signed for s3 to, so one endpoint serves every API.")
	buckets := fs.String("buckets", "", "Comma-separated buckets to create on -s3-upstream at start.")
	registryPassword := fs.String("registry-password", "", "Password the registry accepts for user AWS; returned as the ECR token.")
	repositories := fs.String("repositories", "", "Comma-separated ECR repositories to create at start, e.g. backend,frontend.")
	functions := fs.String("functions", "", "Comma-separated Lambda functions to create at start, as name:Zip or name:Image, each with version 1 and alias live.")
	alarms := fs.String("alarms", "", "Comma-separated CloudWatch alarms to create at start, in state OK.")
	secretNames := fs.String("secrets", "", "Comma-separated Secrets Manager secrets to create at start (each with a made-up value).")
	parameters := fs.String("parameters", "", "Comma-separated SSM SecureString parameters to create at start (each with a made-up value).")
	dbInstances := fs.String("db-instances", "", "Comma-separated RDS DB instances to create at start, as name:engine, e.g. app-db:postgres.")
	keyValueStores := fs.String("key-value-stores", "", "Comma-separated CloudFront KeyValueStores to create at start, empty; their ARNs are printed.")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if (*registry == "") != (*registryPassword == "") {
		return errors.New("-registry and -registry-password go together: the token is the password the registry accepts")
	}
	if len(opts.AccountID) != 12 {
		return fmt.Errorf("-account %q: must be 12 digits", opts.AccountID)
	}
	sim := awssim.New(opts)
	if *seed != "" {
		data, err := os.ReadFile(*seed)
		if err != nil {
			return fmt.Errorf("read -seed: %w", err)
		}
		if err := sim.ECS.ApplySeed(data); err != nil {
			return fmt.Errorf("apply -seed %s: %w", *seed, err)
		}
	}
	front, err := gateway(sim, *s3Upstream, *registryUpstream)
	if err != nil {
		return err
	}
	if *registry != "" {
		addr := *registry
		if *registryUpstream != "" {
			u, _ := url.Parse(*registryUpstream)
			addr = u.Host
		}
		sim.ECR.UseRegistryAt(*registry, addr, *registryPassword)
	}
	for _, spec := range strings.Split(*dbInstances, ",") {
		if spec = strings.TrimSpace(spec); spec == "" {
			continue
		}
		name, engine, ok := strings.Cut(spec, ":")
		if !ok || name == "" || engine == "" {
			return fmt.Errorf("-db-instances %q: give name:engine, e.g. app-db:postgres", spec)
		}
		sim.RDS.AddDBInstance(name, engine)
	}
	for _, spec := range strings.Split(*functions, ",") {
		if spec = strings.TrimSpace(spec); spec == "" {
			continue
		}
		name, kind, _ := strings.Cut(spec, ":")
		if name == "" || (kind != "Zip" && kind != "Image") {
			return fmt.Errorf("-functions %q: give name:Zip or name:Image", spec)
		}
		sim.Lambda.AddFunction(name, kind)
	}
	for _, name := range strings.Split(*alarms, ",") {
		if name = strings.TrimSpace(name); name != "" {
			sim.Alarms.Set(name, "OK", "")
		}
	}
	for _, name := range strings.Split(*secretNames, ",") {
		if name = strings.TrimSpace(name); name != "" {
			sim.Secrets.Put(name, "awssim-value-of-"+name)
		}
	}
	for _, name := range strings.Split(*parameters, ",") {
		if name = strings.TrimSpace(name); name != "" {
			sim.Parameters.Put(name, "awssim-value-of-"+name, true)
		}
	}
	for _, name := range strings.Split(*repositories, ",") {
		if name = strings.TrimSpace(name); name != "" {
			sim.ECR.CreateRepository(name)
		}
	}
	var stores []string // "name arn", printed once listening
	for _, name := range strings.Split(*keyValueStores, ",") {
		if name = strings.TrimSpace(name); name == "" {
			continue
		}
		storeARN, err := sim.KVS.CreateStore(name)
		if err != nil {
			return fmt.Errorf("-key-value-stores: %w", err)
		}
		stores = append(stores, name+" "+storeARN)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen on -addr %s: %w", *addr, err)
	}
	fmt.Fprintf(out, "awssim endpoint http://%s region %s account %s\n", ln.Addr(), opts.Region, opts.AccountID)
	fmt.Fprintf(out, "export AWS_ENDPOINT_URL=http://%s AWS_REGION=%s AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=%s\n",
		ln.Addr(), opts.Region, opts.AccessKeyID, opts.SecretAccessKey)
	for _, store := range stores {
		fmt.Fprintf(out, "key-value-store %s\n", store)
	}
	if *buckets != "" {
		if err := createBuckets(ctx, *s3Upstream, opts, strings.Split(*buckets, ",")); err != nil {
			return err
		}
	}
	if *tick > 0 {
		go advance(ctx, sim, *tick)
	}
	srv := &http.Server{Handler: front, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// advance steps the ECS simulation on the wall clock until ctx ends.
func advance(ctx context.Context, sim *awssim.Server, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			sim.ECS.Advance()
			sim.CodeDeploy.Advance()
		}
	}
}
