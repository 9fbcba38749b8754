package control_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/futuraplataforma/esteira/internal/awssim"
	"github.com/futuraplataforma/esteira/internal/sandbox/control"
)

// Each setter replaces what the endpoint shows, and nil clears it.
func TestClient_SettersRoundTripThroughTheHandler(t *testing.T) {
	url, _, _ := serve(t)
	ctx := t.Context()
	cases := []struct {
		name          string
		path          string
		set, clear    func() error
		want, cleared string
	}{
		{"rules", control.RulesPath,
			func() error {
				return control.SetRules(ctx, url, []awssim.Rule{{Family: "backend", Service: &awssim.TaskBehavior{Unhealthy: true}}})
			},
			func() error { return control.SetRules(ctx, url, nil) },
			`{"rules":[{"family":"backend","fromRevision":2,"service":{"unhealthy":true}}]}`, `{"rules":[]}`},
		{"faults", control.FaultsPath,
			func() error {
				return control.SetFaults(ctx, url, []awssim.S3Fault{{KeyContains: "/app.", Status: 403}})
			},
			func() error { return control.SetFaults(ctx, url, nil) },
			`{"faults":[{"keyContains":"/app.","status":403}]}`, `{"faults":[]}`},
		{"snapshots", control.SnapshotsPath,
			func() error {
				return control.SetSnapshots(ctx, url, []awssim.SnapshotRule{{DB: "app-db", SnapshotBehavior: awssim.SnapshotBehavior{Steps: 2, Fail: true}}})
			},
			func() error { return control.SetSnapshots(ctx, url, nil) },
			`{"snapshots":[{"db":"app-db","steps":2,"fail":true}]}`, `{"snapshots":[]}`},
		{"lambda", control.LambdaPath,
			func() error {
				return control.SetLambda(ctx, url, awssim.LambdaRules{Alarms: []awssim.AlarmRule{{Name: "resize-errors", FireAfter: 3}}})
			},
			func() error { return control.SetLambda(ctx, url, awssim.LambdaRules{}) },
			`{"updates":[],"alarms":[{"name":"resize-errors","fireAfter":3}]}`, `{"updates":[],"alarms":[]}`},
		{"deployments", control.DeploymentsPath,
			func() error {
				return control.SetDeployments(ctx, url, awssim.DeploymentRules{
					ECS:        []awssim.ECSDeploymentRule{{Service: "web", FailRollback: true}},
					CodeDeploy: []awssim.CodeDeployRule{{DeploymentGroup: "classic-dg", FailAt: "Install", FailRollback: true}},
					Alarms:     []awssim.AlarmRule{{Name: "resize-errors"}, {Name: "web-5xx", FireAfter: 2, Reason: "drill"}}})
			},
			func() error {
				return control.SetDeployments(ctx, url, awssim.DeploymentRules{Alarms: []awssim.AlarmRule{{Name: "web-5xx"}}})
			},
			`{"ecs":[{"service":"web","failRollback":true}],"codeDeploy":[{"deploymentGroup":"classic-dg","failAt":"Install","failRollback":true}],` +
				`"alarms":[{"name":"resize-errors","state":"OK"},{"name":"web-5xx","state":"OK","fireAfter":2,"reason":"drill"}]}`,
			`{"ecs":[],"codeDeploy":[],"alarms":[{"name":"resize-errors","state":"OK"},{"name":"web-5xx","state":"OK"}]}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			require.NoError(t, c.set())
			assert.JSONEq(t, c.want, get(t, url+c.path))
			require.NoError(t, c.clear())
			assert.JSONEq(t, c.cleared, get(t, url+c.path))
		})
	}
}

// KeyValueStore faults and keys: what a demo scripts and then reads back.
func TestClient_KeyValueStoreFaultsAndKeys(t *testing.T) {
	url, sim, storeARN := serve(t)
	ctx := t.Context()
	require.NoError(t, control.SetKeyValueStoreFaults(ctx, url, []awssim.KVSFault{{Operation: "PutKey", Count: 1, Code: "AccessDeniedException"}}))
	assert.Equal(t, []awssim.KVSFault{{Operation: "PutKey", Count: 1, Code: "AccessDeniedException"}}, sim.KVS.Faults())
	require.NoError(t, control.SetKeyValueStoreFaults(ctx, url, nil))
	assert.Empty(t, sim.KVS.Faults())

	keys, err := control.KeyValueStoreKeys(ctx, url, "site")
	require.NoError(t, err)
	assert.Empty(t, keys)
	require.NoError(t, sim.KVS.SetKey(storeARN, "sandbox-www/app", "r2"))
	keys, err = control.KeyValueStoreKeys(ctx, url, "site")
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"sandbox-www/app": "r2"}, keys)

	_, err = control.KeyValueStoreKeys(ctx, url, "other")
	assert.ErrorContains(t, err, "no such store")
	assert.ErrorContains(t, err, "other")
}

// Webhooks lists what was posted, oldest first, as it was posted.
func TestClient_WebhooksListsThePostedNotifications(t *testing.T) {
	url, _, _ := serve(t)
	got, err := control.Webhooks(t.Context(), url)
	require.NoError(t, err)
	assert.Empty(t, got)
	for _, body := range []string{`{"text":"one"}`, `{"text":"two"}`} {
		resp, err := http.Post(url+control.WebhooksPath, "application/json", strings.NewReader(body))
		require.NoError(t, err)
		resp.Body.Close()
	}
	got, err = control.Webhooks(t.Context(), url)
	require.NoError(t, err)
	assert.Equal(t, []json.RawMessage{json.RawMessage(`{"text":"one"}`), json.RawMessage(`{"text":"two"}`)}, got)
}

// Ready answers nil once the sandbox serves, an error while nothing does.
func TestClient_ReadyProbesTheControlEndpoints(t *testing.T) {
	url, _, _ := serve(t)
	require.NoError(t, control.Ready(t.Context(), url))

	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()
	assert.ErrorContains(t, control.Ready(t.Context(), gone.URL), control.RulesPath)
}

// A body the server refuses is an error naming the path and its reason.
func TestClient_ARefusedBodyNamesThePathAndTheReason(t *testing.T) {
	url, _, _ := serve(t)
	ctx := t.Context()
	cases := map[string]struct {
		err          error
		path, reason string
	}{
		"fault status": {control.SetFaults(ctx, url, []awssim.S3Fault{{KeyContains: "x", Status: 200}}), control.FaultsPath, "status 200 is not an HTTP error status"},
		"fault key":    {control.SetFaults(ctx, url, []awssim.S3Fault{{Status: 403}}), control.FaultsPath, "keyContains is required"},
		"alarm state":  {control.SetLambda(ctx, url, awssim.LambdaRules{Alarms: []awssim.AlarmRule{{Name: "resize-errors", State: "RED"}}}), control.LambdaPath, "RED"},
		"deployment group": {control.SetDeployments(ctx, url, awssim.DeploymentRules{CodeDeploy: []awssim.CodeDeployRule{{DeploymentGroup: "nope-dg"}}}),
			control.DeploymentsPath, "no deployment group nope-dg"},
		"kvs count": {control.SetKeyValueStoreFaults(ctx, url, []awssim.KVSFault{{Operation: "PutKey"}}), control.KeyValueStorePath, "count"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			require.Error(t, c.err)
			assert.ErrorContains(t, c.err, url+c.path)
			assert.ErrorContains(t, c.err, "HTTP 400")
			assert.ErrorContains(t, c.err, c.reason)
		})
	}
}

// An endpoint without the control paths (a wrong URL, an older simulator)
// answers 404: the readers say so instead of failing to decode its page.
func TestClient_ANotFoundIsAnErrorNotADecodeError(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(srv.Close)
	_, err := control.KeyValueStoreKeys(t.Context(), srv.URL, "site")
	require.Error(t, err)
	assert.ErrorContains(t, err, srv.URL+control.KeyValueStorePath+": HTTP 404: 404 page not found")
	_, err = control.Webhooks(t.Context(), srv.URL)
	assert.ErrorContains(t, err, srv.URL+control.WebhooksPath+": HTTP 404")
	assert.ErrorContains(t, control.Ready(t.Context(), srv.URL), srv.URL+control.RulesPath+": HTTP 404")
}
