package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/futuraplataforma/esteira/internal/release"
	"github.com/futuraplataforma/esteira/internal/sandbox"
)

// demoBlueGreenEnv is the environment of the blue/green step: the sandbox's
// service web, which ECS deploys blue/green and holds with a PAUSE hook
// once test traffic is on the new revision.
const demoBlueGreenEnv = "bluegreen"

// demoBlueGreenFile is its esteira.yaml, with the gate's shell script as %s:
// the gate runs against testUrl before production traffic moves, then
// against url once it has.
const demoBlueGreenFile = `environments:
  ` + demoBlueGreenEnv + `:
    repository: backend
    url: http://www.sandbox.example/
    testUrl: http://test-listener.sandbox.example/
    gate: {image: "debian:bookworm", command: [sh, -c, '%s']}
    backend: {cluster: sandbox, services: [web], strategy: blue-green}
`

// blueGreen releases the image of step 1 to web with a gate that finds it
// broken on test traffic: ECS must roll the deployment back with web on
// exactly the revision before and production never moved. The same image
// with a gate that passes then goes all the way to production.
func (d *demo) blueGreen(ctx context.Context) error {
	before, _, err := sandbox.LiveRevision(ctx, d.ecs, sandbox.Cluster, sandbox.BlueGreen)
	if err != nil {
		return err
	}
	say("the gate of the next release finds /health answering 500 on the test listener")
	_, err = d.releaseBlueGreen(ctx, `echo "GET ${ESTEIRA_URL}health: 500"; exit 1`)
	if err == nil {
		return errors.New("the release succeeded; its gate failed on test traffic, so it should have been rolled back")
	}
	say("the release failed, as it should: %s", firstLine(err.Error()))
	if !strings.Contains(err.Error(), "rolled back before production traffic moved") {
		return errors.New("the release failed, but does not say it was rolled back before production traffic moved")
	}
	rec, err := d.lastBlueGreen(ctx)
	if err != nil {
		return err
	}
	if rec.Outcome != release.OutcomeRolledBack || rec.Backend.TestGate == nil || rec.Backend.TestGate.Passed {
		return fmt.Errorf("the record of %s says %s with test gate %+v; it should say rolled-back with the gate failed on test traffic", sandbox.BlueGreen, rec.Outcome, rec.Backend.TestGate)
	}
	if err := d.serviceDeploymentEnded(ctx, rec, types.ServiceDeploymentStatusRollbackSuccessful); err != nil {
		return err
	}
	live, deployments, err := sandbox.LiveRevision(ctx, d.ecs, sandbox.Cluster, sandbox.BlueGreen)
	if err != nil {
		return err
	}
	if live != before || deployments != 1 {
		return fmt.Errorf("%s runs %s in %d deployments; it should be on %s alone, the revision before the release", sandbox.BlueGreen, live, deployments, before)
	}
	say("OK: the gate failed on test traffic: %s still runs exactly %s, production traffic never moved, the record says rolled-back", sandbox.BlueGreen, live)

	say("the same image, with a gate that finds /health answering 200")
	if _, err := d.releaseBlueGreen(ctx, `echo "GET ${ESTEIRA_URL}health: 200"`); err != nil {
		return err
	}
	if rec, err = d.lastBlueGreen(ctx); err != nil {
		return err
	}
	if rec.Outcome != release.OutcomeSucceeded || rec.Backend.TestGate == nil || !rec.Backend.TestGate.Passed {
		return fmt.Errorf("the record of %s says %s with test gate %+v; it should say succeeded with the gate passed on test traffic", sandbox.BlueGreen, rec.Outcome, rec.Backend.TestGate)
	}
	if err := d.serviceDeploymentEnded(ctx, rec, types.ServiceDeploymentStatusSuccessful); err != nil {
		return err
	}
	if live, _, err = sandbox.LiveRevision(ctx, d.ecs, sandbox.Cluster, sandbox.BlueGreen); err != nil {
		return err
	}
	if live == before || live != lastPart(rec.Backend.AfterRevision) {
		return fmt.Errorf("%s runs %s; it should run %s, the revision the release recorded", sandbox.BlueGreen, live, lastPart(rec.Backend.AfterRevision))
	}
	say("OK: the gate passed on test traffic, then ECS shifted production and baked: %s now runs %s, the record says succeeded", sandbox.BlueGreen, live)
	return nil
}

// releaseBlueGreen releases the image of step 1 through the environment
// file with the given gate script.
func (d *demo) releaseBlueGreen(ctx context.Context, gate string) (string, error) {
	project := dag.Directory().WithNewFile("esteira.yaml", fmt.Sprintf(demoBlueGreenFile, gate))
	env, err := d.m.Env(demoBlueGreenEnv, project, "esteira.yaml", "5m", "1s", false)
	if err != nil {
		return "", err
	}
	return env.Release(ctx, d.image, "", true, false, false, nil)
}

// lastBlueGreen is the newest release record of the blue/green service.
func (d *demo) lastBlueGreen(ctx context.Context) (*release.Record, error) {
	recs, err := d.s.releases().List(ctx, release.KindBackend, sandbox.Cluster+"/"+sandbox.BlueGreen)
	if err != nil {
		return nil, err
	}
	if len(recs) == 0 || recs[0].Backend == nil {
		return nil, fmt.Errorf("no release record of %s after the release", sandbox.BlueGreen)
	}
	return recs[0], nil
}

// serviceDeploymentEnded checks, from ECS's side, that the service
// deployment the record names ended in status.
func (d *demo) serviceDeploymentEnded(ctx context.Context, rec *release.Record, status types.ServiceDeploymentStatus) error {
	if rec.Backend.Strategy != "blue/green" || rec.Backend.ServiceDeployment == "" {
		return fmt.Errorf("the record of %s names strategy %q and service deployment %q; ECS should have deployed it blue/green", sandbox.BlueGreen, rec.Backend.Strategy, rec.Backend.ServiceDeployment)
	}
	out, err := d.ecs.DescribeServiceDeployments(ctx, &ecs.DescribeServiceDeploymentsInput{ServiceDeploymentArns: []string{rec.Backend.ServiceDeployment}})
	if err != nil {
		return fmt.Errorf("describe service deployment %s: %w", rec.Backend.ServiceDeployment, err)
	}
	if len(out.ServiceDeployments) != 1 || out.ServiceDeployments[0].Status != status {
		return fmt.Errorf("ECS does not say service deployment %s ended %s: %+v", rec.Backend.ServiceDeployment, status, out.ServiceDeployments)
	}
	return nil
}
