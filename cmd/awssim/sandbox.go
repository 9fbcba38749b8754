package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/futuraplataforma/esteira/internal/awsenv"
	"github.com/futuraplataforma/esteira/internal/awssim"
	"github.com/futuraplataforma/esteira/internal/sandbox/control"
)

// gateway puts the sandbox's control endpoints (see package control) and
// the upstreams in front of the simulator.
func gateway(sim *awssim.Server, s3Upstream, registryUpstream string) (http.Handler, error) {
	s3URL, err := upstream("-s3-upstream", s3Upstream)
	if err != nil {
		return nil, err
	}
	registryURL, err := upstream("-registry-upstream", registryUpstream)
	if err != nil {
		return nil, err
	}
	return control.Handler(sim, awssim.NewGateway(sim, s3URL, registryURL)), nil
}

func upstream(flag, raw string) (*url.URL, error) {
	if raw == "" {
		return nil, nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%s %q is not an http(s) URL", flag, raw)
	}
	return u, nil
}

// createBuckets creates the sandbox's buckets on the S3 server, waiting up
// to a minute for it to answer (it starts alongside the simulator).
func createBuckets(ctx context.Context, endpoint string, opts awssim.Options, names []string) error {
	if endpoint == "" {
		return errors.New("-buckets needs -s3-upstream: the S3 server to create them on")
	}
	o := awsenv.Options{Region: opts.Region, Endpoint: endpoint, AccessKeyID: opts.AccessKeyID, SecretAccessKey: opts.SecretAccessKey}
	cfg, err := awsenv.Load(ctx, o)
	if err != nil {
		return err
	}
	client := awsenv.S3Client(cfg, o)
	deadline := time.Now().Add(time.Minute)
	for _, name := range names {
		if name = strings.TrimSpace(name); name == "" {
			continue
		}
		for {
			_, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)})
			if err == nil || strings.Contains(err.Error(), "BucketAlreadyOwnedByYou") {
				break
			}
			if time.Now().After(deadline) || ctx.Err() != nil {
				return fmt.Errorf("create bucket %s on %s: %w", name, endpoint, err)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	return nil
}
