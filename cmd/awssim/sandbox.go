package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/futuraplataforma/esteira/internal/awsenv"
	"github.com/futuraplataforma/esteira/internal/awssim"
)

// The sandbox's control endpoints, for demos and end-to-end tests that
// script failures from outside the process:
//   - rulesPath: GET lists the task rules, PUT replaces them
//     ({"rules": [...]}, see awssim.Rule): the next migration fails, the
//     next rollout never gets healthy.
//   - faultsPath: GET lists the S3 upload faults, PUT replaces them
//     ({"faults": [...]}, see awssim.S3Fault): a publish breaks midway.
//   - snapshotsPath: GET lists the RDS snapshot rules, PUT replaces them
//     ({"snapshots": [...]}, see awssim.SnapshotRule): the next snapshot of
//     a DB is slow, fails or is refused.
//   - lambdaPath: GET lists the Lambda rules, PUT replaces them
//     ({"updates": [...], "alarms": [...]}, see awssim.LambdaRules): the
//     next update of a function fails, an alarm fires during a bake.
//   - kvsPath: GET lists the CloudFront KeyValueStores (name, ARN, ETag,
//     keys) and the KeyValueStore faults, PUT replaces the faults
//     ({"faults": [...]}, see awssim.KVSFault): the next PutKey fails.
//   - webhooksPath: POST records a notification (as a chat webhook would
//     receive it), GET lists the last ones: where a release's notification
//     goes in the sandbox.
const (
	rulesPath     = "/_sandbox/rules"
	faultsPath    = "/_sandbox/faults"
	snapshotsPath = "/_sandbox/snapshots"
	lambdaPath    = "/_sandbox/lambda"
	kvsPath       = "/_sandbox/kvs"
	webhooksPath  = "/_sandbox/webhooks"
)

// maxWebhooks is how many notifications the sandbox keeps.
const maxWebhooks = 100

// gateway puts the control endpoints and the upstreams in front of the simulator.
func gateway(sim *awssim.Server, s3Upstream, registryUpstream string) (http.Handler, error) {
	s3URL, err := upstream("-s3-upstream", s3Upstream)
	if err != nil {
		return nil, err
	}
	registryURL, err := upstream("-registry-upstream", registryUpstream)
	if err != nil {
		return nil, err
	}
	front := awssim.NewGateway(sim, s3URL, registryURL)
	var mu sync.Mutex
	var rules []awssim.Rule
	mux := http.NewServeMux()
	mux.Handle("/", front)
	mux.HandleFunc(rulesPath, control(func(body []byte) (any, error) {
		mu.Lock()
		defer mu.Unlock()
		if body != nil {
			r, err := sim.ECS.ScriptJSON(body)
			if err != nil {
				return nil, err
			}
			rules = r
		}
		return map[string]any{"rules": append([]awssim.Rule{}, rules...)}, nil
	}))
	mux.HandleFunc(faultsPath, control(func(body []byte) (any, error) {
		if body != nil {
			var in struct {
				Faults []awssim.S3Fault `json:"faults"`
			}
			dec := json.NewDecoder(bytes.NewReader(body))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&in); err != nil {
				return nil, fmt.Errorf("parse faults: %w", err)
			}
			if err := front.SetS3Faults(in.Faults); err != nil {
				return nil, err
			}
		}
		return map[string]any{"faults": front.S3Faults()}, nil
	}))
	var snapshotRules []awssim.SnapshotRule
	mux.HandleFunc(snapshotsPath, control(func(body []byte) (any, error) {
		mu.Lock()
		defer mu.Unlock()
		if body != nil {
			r, err := sim.RDS.ScriptJSON(body)
			if err != nil {
				return nil, err
			}
			snapshotRules = r
		}
		return map[string]any{"snapshots": append([]awssim.SnapshotRule{}, snapshotRules...)}, nil
	}))
	lambdaRules := awssim.LambdaRules{Updates: []awssim.UpdateRule{}, Alarms: []awssim.AlarmRule{}}
	mux.HandleFunc(lambdaPath, control(func(body []byte) (any, error) {
		mu.Lock()
		defer mu.Unlock()
		if body != nil {
			var in awssim.LambdaRules
			dec := json.NewDecoder(bytes.NewReader(body))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&in); err != nil {
				return nil, fmt.Errorf("parse lambda rules: %w", err)
			}
			if err := sim.ScriptLambda(in); err != nil {
				return nil, err
			}
			lambdaRules = in
		}
		return lambdaRules, nil
	}))
	mux.HandleFunc(kvsPath, control(func(body []byte) (any, error) {
		if body != nil {
			if err := sim.KVS.ScriptJSON(body); err != nil {
				return nil, err
			}
		}
		return map[string]any{"stores": sim.KVS.Stores(), "faults": sim.KVS.Faults()}, nil
	}))
	var hooks []json.RawMessage
	mux.HandleFunc(webhooksPath, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		switch r.Method {
		case http.MethodPost:
			body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
			if err != nil || !json.Valid(body) {
				http.Error(w, "post a JSON body", http.StatusBadRequest)
				return
			}
			hooks = append(hooks, body)
			if len(hooks) > maxWebhooks {
				hooks = hooks[len(hooks)-maxWebhooks:]
			}
			w.WriteHeader(http.StatusNoContent)
		case http.MethodGet:
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]any{"webhooks": append([]json.RawMessage{}, hooks...)})
		default:
			w.Header().Set("Allow", "GET, POST")
			http.Error(w, "use GET or POST", http.StatusMethodNotAllowed)
		}
	})
	return mux, nil
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

// control serves one control endpoint: GET calls apply(nil), PUT calls it
// with the body; the answer is the state in force, as JSON.
func control(apply func(body []byte) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var body []byte
		switch r.Method {
		case http.MethodGet:
		case http.MethodPut:
			var err error
			if body, err = io.ReadAll(r.Body); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
		default:
			w.Header().Set("Allow", "GET, PUT")
			http.Error(w, "use GET or PUT", http.StatusMethodNotAllowed)
			return
		}
		out, err := apply(body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(out)
	}
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
