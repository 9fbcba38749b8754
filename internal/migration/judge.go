package migration

import (
	"fmt"
	"path"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// judge decides success: the task must have stopped because an essential
// container exited (the normal end of a one-off task) and every essential
// container, and the target container whether essential or not, must have
// exit code 0. A missing exit code is a failure.
func judge(res *Result, t *types.Task, s Spec) {
	res.StopCode = string(t.StopCode)
	res.StoppedReason = aws.ToString(t.StoppedReason)
	codes := map[string]*int32{}
	for _, c := range t.Containers {
		codes[aws.ToString(c.Name)] = c.ExitCode
	}
	if c := codes[s.Container]; c != nil {
		v := int(*c)
		res.ExitCode = &v
	}
	var problems []string
	for _, cd := range s.TaskDefinition.ContainerDefinitions {
		name := aws.ToString(cd.Name)
		if cd.Essential != nil && !*cd.Essential && name != s.Container {
			continue
		}
		code, ok := codes[name]
		switch {
		case !ok || code == nil:
			problems = append(problems, fmt.Sprintf("container %s stopped without an exit code", name))
		case *code != 0:
			problems = append(problems, fmt.Sprintf("exited %d (container %s)", *code, name))
		}
	}
	if t.StopCode != types.TaskStopCodeEssentialContainerExited {
		problems = append([]string{fmt.Sprintf("stopped with %s", orUnknown(res.StopCode))}, problems...)
	}
	if len(problems) == 0 {
		res.Succeeded = true
		return
	}
	res.Failure = strings.Join(problems, ", ")
	if res.StoppedReason != "" {
		res.Failure += fmt.Sprintf(" (stopped reason: %s)", res.StoppedReason)
	}
}

// AwslogsOf returns the awslogs group and stream prefix of a container, ok
// false when it does not log with awslogs or has no stream prefix (then ECS
// names streams in a way we cannot predict).
func AwslogsOf(td *types.TaskDefinition, container string) (group, prefix string, ok bool) {
	cd := containerDef(td, container)
	if cd == nil || cd.LogConfiguration == nil || cd.LogConfiguration.LogDriver != types.LogDriverAwslogs {
		return "", "", false
	}
	o := cd.LogConfiguration.Options
	group, prefix = o["awslogs-group"], o["awslogs-stream-prefix"]
	return group, prefix, group != "" && prefix != ""
}

func (s Spec) follower(logs LogsAPI, taskARN string) *Follower {
	group, prefix, ok := AwslogsOf(s.TaskDefinition, s.Container)
	if ok && logs == nil {
		fmt.Fprintf(s.Out, "    warning: no CloudWatch Logs client was given: the output of container %s will not be shown\n", s.Container)
		return nil
	}
	if !ok {
		fmt.Fprintf(s.Out, "    warning: container %s has no awslogs configuration (awslogs-group and awslogs-stream-prefix); its output will not be shown\n", s.Container)
		return nil
	}
	stream := prefix + "/" + s.Container + "/" + path.Base(taskARN)
	return NewFollower(logs, group, stream, s.Out)
}

func containerDef(td *types.TaskDefinition, name string) *types.ContainerDefinition {
	for i := range td.ContainerDefinitions {
		if aws.ToString(td.ContainerDefinitions[i].Name) == name {
			return &td.ContainerDefinitions[i]
		}
	}
	return nil
}

func shortTask(arn string) string { return path.Base(arn) }

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
