package ecsdeploy

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// registerInput copies a live task definition into a registration request
// with only the image of one container changed. Read-only fields
// (taskDefinitionArn, revision, status, requiresAttributes, compatibilities,
// registeredAt/By, deregisteredAt) are not part of the request; tags with the
// reserved "aws:" prefix cannot be set and are dropped.
func registerInput(td *types.TaskDefinition, tags []types.Tag, container, image string) *ecs.RegisterTaskDefinitionInput {
	defs := make([]types.ContainerDefinition, len(td.ContainerDefinitions))
	copy(defs, td.ContainerDefinitions)
	for i := range defs {
		if aws.ToString(defs[i].Name) == container {
			defs[i].Image = aws.String(image)
		}
	}
	var keep []types.Tag
	for _, t := range tags {
		if !strings.HasPrefix(aws.ToString(t.Key), "aws:") {
			keep = append(keep, t)
		}
	}
	return &ecs.RegisterTaskDefinitionInput{
		Family:                  td.Family,
		ContainerDefinitions:    defs,
		Cpu:                     td.Cpu,
		Memory:                  td.Memory,
		EnableFaultInjection:    td.EnableFaultInjection,
		EphemeralStorage:        td.EphemeralStorage,
		ExecutionRoleArn:        td.ExecutionRoleArn,
		TaskRoleArn:             td.TaskRoleArn,
		InferenceAccelerators:   td.InferenceAccelerators,
		IpcMode:                 td.IpcMode,
		PidMode:                 td.PidMode,
		NetworkMode:             td.NetworkMode,
		PlacementConstraints:    td.PlacementConstraints,
		ProxyConfiguration:      td.ProxyConfiguration,
		RequiresCompatibilities: td.RequiresCompatibilities,
		RuntimePlatform:         td.RuntimePlatform,
		Volumes:                 td.Volumes,
		Tags:                    keep,
	}
}

// nextInput is the registration of the deploy's new revision: what the
// deploy registers and what its plan shows.
func (d *deploy) nextInput() *ecs.RegisterTaskDefinitionInput { return d.next }

// liveInput is the live revision's own registration, for the diff.
func (d *deploy) liveInput() *ecs.RegisterTaskDefinitionInput {
	return registerInput(d.live.TaskDef, d.live.Tags, "", "")
}

// printDiff shows, before any change, the new revision against the live
// one field by field, and keeps the lines in the release record.
func (d *deploy) printDiff() {
	changes := diffTaskDef(d.liveInput(), d.next, d.o.Redact)
	d.rec.Backend.Changes = nil
	for _, c := range changes {
		d.rec.Backend.Changes = append(d.rec.Backend.Changes, fmt.Sprintf("%s: %s -> %s", c.Field, orNone(c.Before), orNone(c.After)))
	}
	switch {
	case len(changes) == 0 && d.o.Force:
		fmt.Fprintf(d.o.Out, "==> diff      the new revision is identical to %s (forced redeploy)\n", revName(d.before))
		return
	case len(changes) == 0:
		fmt.Fprintf(d.o.Out, "==> diff      the new revision is identical to %s, and its image is given by tag, which may point elsewhere now: redeployed\n", revName(d.before))
		return
	}
	fmt.Fprintf(d.o.Out, "==> diff      the new revision against %s:\n", revName(d.before))
	for _, l := range d.rec.Backend.Changes {
		fmt.Fprintf(d.o.Out, "      %s\n", l)
	}
}

// changes says whether the deploy would change anything: the image, or
// any field of the definition. A release of the same image and the same
// definition is a no-op.
func (d *deploy) changes() bool {
	live := aws.ToString(containerDef(d.live.TaskDef, d.container).Image)
	if !sameImage(live, d.o.Image) {
		return true
	}
	for _, c := range diffTaskDef(d.liveInput(), d.next, nil) {
		if c.Field != "container "+d.container+": image" { // the same image, by tag or by digest
			return true
		}
	}
	return false
}

// registerNext registers the deploy's new revision and returns it.
func (d *deploy) registerNext(ctx context.Context) (*types.TaskDefinition, error) {
	return register(ctx, d.c.ECS, d.live, d.nextInput(), d.o.Image)
}

// registerCopy registers a copy of l's revision with container's image
// changed and returns it.
func registerCopy(ctx context.Context, api ECSAPI, l *liveService, container, image string) (*types.TaskDefinition, error) {
	return register(ctx, api, l, registerInput(l.TaskDef, l.Tags, container, image), image)
}

func register(ctx context.Context, api ECSAPI, l *liveService, in *ecs.RegisterTaskDefinitionInput, image string) (*types.TaskDefinition, error) {
	out, err := api.RegisterTaskDefinition(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("register a copy of %s with image %s: %w", revName(aws.ToString(l.TaskDef.TaskDefinitionArn)), image, err)
	}
	return out.TaskDefinition, nil
}

// deregister marks a revision INACTIVE so nothing deploys it by mistake.
func deregister(ctx context.Context, api ECSAPI, arn string) error {
	_, err := api.DeregisterTaskDefinition(ctx, &ecs.DeregisterTaskDefinitionInput{TaskDefinition: aws.String(arn)})
	if err != nil {
		return fmt.Errorf("deregister task definition %s: %w", revName(arn), err)
	}
	return nil
}
