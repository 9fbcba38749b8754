// Package secrets checks, before a deploy changes anything, that every
// Secrets Manager secret an ECS container references exists, so a deploy
// does not roll out tasks that then fail with "unable to pull secrets".
//
// Only DescribeSecret and GetParameters (without decryption) are called:
// secret values are never fetched, printed or put in errors. Without a
// Parameter Store client, SSM references are reported as not checked.
package secrets

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go"
	"golang.org/x/sync/errgroup"
)

// DescribeAPI is the part of *secretsmanager.Client the check uses.
type DescribeAPI interface {
	DescribeSecret(ctx context.Context, params *secretsmanager.DescribeSecretInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.DescribeSecretOutput, error)
}

var _ DescribeAPI = (*secretsmanager.Client)(nil)

// concurrency bounds the parallel DescribeSecret calls.
const concurrency = 4

// Check verifies the secrets behind ECS secrets[].valueFrom values; see Verify.
func Check(ctx context.Context, api DescribeAPI, valueFroms []string) error {
	refs := make([]Reference, len(valueFroms))
	for i, v := range valueFroms {
		refs[i] = Reference{ValueFrom: v}
	}
	_, err := Verify(ctx, api, nil, refs)
	return err
}

// Report is what Verify looked at.
type Report struct {
	Checked    []Reference // Secrets Manager secrets that exist
	Parameters []Reference // SSM parameters that exist
	NotChecked []Reference // SSM parameters not checked: no Parameter Store client
}

// Summary is a one-line account for progress output, e.g.
// "2 secrets found in Secrets Manager; 1 not checked (SSM Parameter Store): /prod/token".
func (r *Report) Summary() string {
	s := fmt.Sprintf("%d secrets found in Secrets Manager", len(r.Checked))
	if len(r.Parameters) > 0 {
		s += fmt.Sprintf(", %d parameters in Parameter Store", len(r.Parameters))
	}
	if len(r.NotChecked) > 0 {
		names := make([]string, len(r.NotChecked))
		for i, ref := range r.NotChecked {
			names[i] = ref.ValueFrom
		}
		s += fmt.Sprintf("; %d not checked (SSM Parameter Store): %s", len(r.NotChecked), strings.Join(names, ", "))
	}
	return s
}

// Verify checks every reference and returns a report with an *Error naming
// each reference that a task could not use: a missing secret, one scheduled
// for deletion, a version stage or id the secret does not have, an invalid
// valueFrom, or a secret the caller may not describe; with params, an SSM
// parameter that does not exist or may not be read. params nil leaves
// the SSM references unchecked.
func Verify(ctx context.Context, api DescribeAPI, params ParametersAPI, refs []Reference) (*Report, error) {
	report := &Report{}
	problems := make([]Problem, 0)
	var paramNames []string
	targets := make([]target, len(refs))
	lookups := map[string]*lookup{}
	for i, ref := range refs {
		targets[i] = parse(ref.ValueFrom)
		switch t := targets[i]; {
		case t.invalid != "":
			problems = append(problems, Problem{Ref: ref, Index: i, Reason: "invalid valueFrom: " + t.invalid})
		case t.source == sourceParameterStore && params == nil:
			report.NotChecked = append(report.NotChecked, ref)
		case t.source == sourceParameterStore:
			paramNames = append(paramNames, ref.ValueFrom)
		case lookups[t.secretID] == nil:
			lookups[t.secretID] = &lookup{}
		}
	}
	if len(lookups) > 0 && api == nil {
		return nil, errors.New("check secrets: no Secrets Manager client given")
	}
	if err := describeAll(ctx, api, lookups); err != nil {
		return nil, err
	}
	missing := map[string]string{}
	if len(paramNames) > 0 {
		var err error
		if missing, err = findParameters(ctx, params, paramNames); err != nil {
			return nil, err
		}
	}
	for i, ref := range refs {
		t := targets[i]
		if t.source == sourceParameterStore && params != nil {
			if reason, bad := missing[ref.ValueFrom]; bad {
				problems = append(problems, Problem{Ref: ref, Index: i, Reason: reason})
			} else {
				report.Parameters = append(report.Parameters, ref)
			}
			continue
		}
		if t.source != sourceSecretsManager {
			continue
		}
		if reason := lookups[t.secretID].problem(t); reason != "" {
			problems = append(problems, Problem{Ref: ref, Index: i, SecretID: t.secretID, Reason: reason})
			continue
		}
		report.Checked = append(report.Checked, ref)
	}
	if len(problems) > 0 {
		return report, &Error{Problems: problems, Total: len(refs)}
	}
	return report, nil
}

// lookup is the answer to one DescribeSecret.
type lookup struct {
	out *secretsmanager.DescribeSecretOutput
	err error
}

// describeAll describes each secret once, a few at a time. Per-secret
// failures are kept in the lookups; only cancellation aborts.
func describeAll(ctx context.Context, api DescribeAPI, lookups map[string]*lookup) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(concurrency)
	for id, l := range lookups {
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			l.out, l.err = api.DescribeSecret(gctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(id)})
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return fmt.Errorf("check secrets: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("check secrets: %w", err)
	}
	return nil
}

// problem says why a task could not use target t, or "" when it could.
func (l *lookup) problem(t target) string {
	var nf *types.ResourceNotFoundException
	var apiErr smithy.APIError
	switch {
	case errors.As(l.err, &nf):
		return "Secrets Manager can't find this secret in its account and region"
	case errors.As(l.err, &apiErr) && apiErr.ErrorCode() == "AccessDeniedException":
		return "not allowed to describe it: grant secretsmanager:DescribeSecret on it to the deploying role"
	case l.err != nil:
		return "describe secret: " + l.err.Error()
	case l.out.DeletedDate != nil:
		return fmt.Sprintf("it is scheduled for deletion on %s: restore it with aws secretsmanager restore-secret",
			l.out.DeletedDate.UTC().Format(time.RFC3339))
	}
	if t.versionID != "" {
		if _, ok := l.out.VersionIdsToStages[t.versionID]; !ok {
			return fmt.Sprintf("the secret has no version id %s", t.versionID)
		}
	}
	if t.versionStage != "" && !hasStage(l.out.VersionIdsToStages, t.versionID, t.versionStage) {
		return fmt.Sprintf("the secret has no version labelled %s", t.versionStage)
	}
	return ""
}

func hasStage(versions map[string][]string, versionID, stage string) bool {
	for id, stages := range versions {
		if versionID != "" && id != versionID {
			continue
		}
		for _, s := range stages {
			if s == stage {
				return true
			}
		}
	}
	return false
}

// Problem is one reference a task could not use.
type Problem struct {
	Ref      Reference
	Index    int    // position in the list given to Verify or Check
	SecretID string // the secret ARN looked up, when the valueFrom was one
	Reason   string
}

// Error lists every reference a task could not use. Nothing was changed.
type Error struct {
	Problems []Problem
	Total    int
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "check secrets: %d of %d secret references cannot be used by the task (nothing was changed):", len(e.Problems), e.Total)
	for _, p := range e.Problems {
		fmt.Fprintf(&b, "\n  - %s (%s): %s", p.Ref.label(p.Index), p.Ref.ValueFrom, p.Reason)
	}
	b.WriteString("\ncreate the missing secrets (aws secretsmanager create-secret --name <name> ..., aws ssm put-parameter --name <name> ...) or fix their valueFrom, then deploy again")
	return b.String()
}
