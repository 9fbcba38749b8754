package control

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/futuraplataforma/esteira/internal/awssim"
)

// SetRules replaces the sandbox's task rules (nil: every task succeeds).
func SetRules(ctx context.Context, endpoint string, rules []awssim.Rule) error {
	return put(ctx, endpoint, RulesPath, map[string]any{"rules": nonNil(rules)})
}

// SetFaults replaces the sandbox's S3 upload faults (nil: none).
func SetFaults(ctx context.Context, endpoint string, faults []awssim.S3Fault) error {
	return put(ctx, endpoint, FaultsPath, map[string]any{"faults": nonNil(faults)})
}

// SetSnapshots replaces the sandbox's RDS snapshot rules (nil: every
// snapshot becomes available at once).
func SetSnapshots(ctx context.Context, endpoint string, rules []awssim.SnapshotRule) error {
	return put(ctx, endpoint, SnapshotsPath, map[string]any{"snapshots": nonNil(rules)})
}

// SetLambda replaces the sandbox's Lambda rules: how the next updates of
// functions end, and alarm states (empty: every update succeeds).
func SetLambda(ctx context.Context, endpoint string, rules awssim.LambdaRules) error {
	rules.Updates, rules.Alarms = nonNil(rules.Updates), nonNil(rules.Alarms)
	return put(ctx, endpoint, LambdaPath, rules)
}

// SetDeployments replaces the sandbox's deployment rules: the next
// rollback of a blue/green service that fails, the next CodeDeploy
// deployment that fails at a lifecycle event or in its rollback (empty:
// none), and alarm states (alarms not named keep theirs).
func SetDeployments(ctx context.Context, endpoint string, rules awssim.DeploymentRules) error {
	rules.ECS, rules.CodeDeploy, rules.Alarms = nonNil(rules.ECS), nonNil(rules.CodeDeploy), nonNil(rules.Alarms)
	return put(ctx, endpoint, DeploymentsPath, rules)
}

// SetKeyValueStoreFaults makes the next KeyValueStore calls fail (nil:
// none). Every attempt counts and the module retries a 500 up to 6 times:
// a 4xx code (AccessDeniedException) fails a call at once.
func SetKeyValueStoreFaults(ctx context.Context, endpoint string, faults []awssim.KVSFault) error {
	return put(ctx, endpoint, KeyValueStorePath, map[string]any{"faults": nonNil(faults)})
}

// KeyValueStoreKeys returns the keys of the sandbox's KeyValueStore named
// store: for an atomic site, its live pointer by bucket/prefix.
func KeyValueStoreKeys(ctx context.Context, endpoint, store string) (map[string]string, error) {
	var out struct {
		Stores []awssim.KVSStore `json:"stores"`
	}
	if err := do(ctx, http.MethodGet, endpoint, KeyValueStorePath, nil, &out); err != nil {
		return nil, err
	}
	for _, st := range out.Stores {
		if st.Name == store {
			return st.Keys, nil
		}
	}
	return nil, fmt.Errorf("read the sandbox's key value store %s: the sandbox has no such store", store)
}

// Webhooks returns the notifications posted to the sandbox's webhook
// (WebhooksPath), oldest first, each as it was posted.
func Webhooks(ctx context.Context, endpoint string) ([]json.RawMessage, error) {
	var out struct {
		Webhooks []json.RawMessage `json:"webhooks"`
	}
	if err := do(ctx, http.MethodGet, endpoint, WebhooksPath, nil, &out); err != nil {
		return nil, err
	}
	return out.Webhooks, nil
}

// Ready returns nil when the sandbox at endpoint answers its control
// endpoints: one probe, for a caller polling with its own deadline.
func Ready(ctx context.Context, endpoint string) error {
	return do(ctx, http.MethodGet, endpoint, RulesPath, nil, nil)
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func put(ctx context.Context, endpoint, path string, body any) error {
	return do(ctx, http.MethodPut, endpoint, path, body, nil)
}

// do sends body (if not nil) as JSON to endpoint+path and decodes the
// answer into out (if not nil). Any status but 200 is an error naming the
// path and the server's reason, before anything is decoded.
func do(ctx context.Context, method, endpoint, path string, body, out any) error {
	what := "read the sandbox at " + endpoint + path
	if method != http.MethodGet {
		what = "script the sandbox at " + endpoint + path
	}
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, endpoint+path, rd)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("%s: HTTP %d: %s", what, resp.StatusCode, strings.TrimSpace(string(msg)))
	}
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("%s: decode the answer: %w", what, err)
	}
	return nil
}
