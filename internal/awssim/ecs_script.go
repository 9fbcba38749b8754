package awssim

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Rule scripts, from outside the process (the sandbox's control endpoint),
// what the tasks of some task-definition revisions do: a standalone
// simulator has no Go callbacks, so the sandbox's drills (a migration that
// fails, a rollout whose tasks never get healthy) are rules instead.
type Rule struct {
	// Family is the task-definition family the rule applies to.
	Family string `json:"family"`
	// FromRevision is the first revision it applies to; 0 means the next
	// revision registered after the rule is set, so "the next deploy".
	FromRevision int32 `json:"fromRevision,omitempty"`
	// RunTask is what one-off tasks (migrations) of those revisions do.
	RunTask *TaskBehavior `json:"runTask,omitempty"`
	// Service is what service tasks of those revisions do.
	Service *TaskBehavior `json:"service,omitempty"`
}

// Script replaces the rules (none: every task runs and exits 0, every
// service task gets healthy) and returns them with FromRevision resolved.
// A task matches the last rule naming its family whose FromRevision is at
// most its revision. It replaces OnRunTask and OnServiceTask.
func (x *ECS) Script(rules []Rule) ([]Rule, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	resolved := make([]Rule, len(rules))
	for i, r := range rules {
		if r.Family == "" {
			return nil, fmt.Errorf("rule %d: family is required", i)
		}
		if r.FromRevision < 0 {
			return nil, fmt.Errorf("rule %d: fromRevision %d is negative", i, r.FromRevision)
		}
		if r.FromRevision == 0 {
			r.FromRevision = int32(len(x.families[r.Family])) + 1
		}
		resolved[i] = r
	}
	match := func(taskDefinitionArn string, pick func(Rule) *TaskBehavior) TaskBehavior {
		family, rev, _ := strings.Cut(lastSegment(taskDefinitionArn), ":")
		n, _ := strconv.Atoi(rev)
		b := TaskBehavior{}
		for _, r := range resolved {
			if r.Family == family && int(r.FromRevision) <= n && pick(r) != nil {
				b = *pick(r)
			}
		}
		return b
	}
	x.onRunTask = func(c RunTaskCall) TaskBehavior {
		return match(c.TaskDefinitionArn, func(r Rule) *TaskBehavior { return r.RunTask })
	}
	x.onServiceTask = func(arn string) TaskBehavior {
		return match(arn, func(r Rule) *TaskBehavior { return r.Service })
	}
	return resolved, nil
}

// ScriptJSON is Script for a JSON body {"rules": [...]}, as the sandbox's
// control endpoint receives it; unknown fields are refused so a typo does
// not silently script nothing.
func (x *ECS) ScriptJSON(body []byte) ([]Rule, error) {
	var in struct {
		Rules []Rule `json:"rules"`
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return nil, fmt.Errorf("parse rules: %w", err)
	}
	return x.Script(in.Rules)
}
