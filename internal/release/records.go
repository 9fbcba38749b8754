package release

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"golang.org/x/sync/errgroup"
)

// listConcurrency bounds the parallel GetObject calls of List.
const listConcurrency = 8

// Put writes r as indented JSON to s3://bucket/<prefix>/<kind>/<target>/<id>.json
// and returns that URI. An empty ID is filled with NewID(StartedAt or now).
func (s *Store) Put(ctx context.Context, r *Record) (string, error) {
	if s.err != nil {
		return "", s.err
	}
	if r == nil {
		return "", fmt.Errorf("put release record: record is nil")
	}
	if r.ID == "" {
		at := r.StartedAt
		if at.IsZero() {
			at = time.Now()
		}
		r.ID = NewID(at)
	}
	if err := validatePath("record id", r.ID); err != nil || strings.Contains(r.ID, "/") {
		return "", fmt.Errorf("put release record: invalid id %q: use NewID", r.ID)
	}
	dir, err := s.recordDir(r.Kind, r.Target)
	if err != nil {
		return "", fmt.Errorf("put release record %s: %w", r.ID, err)
	}
	r.scrub(r.redactor()) // nothing is stored that Finish did not see, nor a credential
	body, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return "", fmt.Errorf("encode release record %s: %w", r.ID, err)
	}
	key := dir + r.ID + ".json"
	_, err = s.api.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(s.bucket), Key: aws.String(key),
		Body: bytes.NewReader(body), ContentType: aws.String("application/json"),
	})
	if err != nil {
		return "", fmt.Errorf("write release record %s: %w", s.uri(key), err)
	}
	return s.uri(key), nil
}

// List returns the records of one kind and target, newest first.
func (s *Store) List(ctx context.Context, kind, target string) ([]*Record, error) {
	if s.err != nil {
		return nil, s.err
	}
	dir, err := s.recordDir(kind, target)
	if err != nil {
		return nil, fmt.Errorf("list release records: %w", err)
	}
	keys, err := s.recordKeys(ctx, dir)
	if err != nil {
		return nil, err
	}
	records := make([]*Record, len(keys))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(listConcurrency)
	for i, key := range keys {
		g.Go(func() error {
			r, err := s.getRecord(gctx, key)
			records[i] = r
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	// Newest first by start time: ids sort by the second only, and two
	// releases started within one second would otherwise come in the order
	// of their random suffixes.
	sort.SliceStable(records, func(i, j int) bool {
		if !records[i].StartedAt.Equal(records[j].StartedAt) {
			return records[i].StartedAt.After(records[j].StartedAt)
		}
		return records[i].ID > records[j].ID
	})
	return records, nil
}

// recordKeys lists the record objects directly under dir (not deeper targets).
func (s *Store) recordKeys(ctx context.Context, dir string) ([]string, error) {
	var keys []string
	p := s3.NewListObjectsV2Paginator(s.api, &s3.ListObjectsV2Input{
		Bucket: aws.String(s.bucket), Prefix: aws.String(dir),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list release records in %s: %w", s.uri(dir), err)
		}
		for _, o := range page.Contents {
			rest := strings.TrimPrefix(aws.ToString(o.Key), dir)
			if strings.HasSuffix(rest, ".json") && !strings.Contains(rest, "/") {
				keys = append(keys, aws.ToString(o.Key))
			}
		}
	}
	return keys, nil
}

func (s *Store) getRecord(ctx context.Context, key string) (*Record, error) {
	out, err := s.api.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)})
	if err != nil {
		return nil, fmt.Errorf("read release record %s: %w", s.uri(key), err)
	}
	defer out.Body.Close()
	data, err := io.ReadAll(out.Body)
	if err != nil {
		return nil, fmt.Errorf("read release record %s: %w", s.uri(key), err)
	}
	var r Record
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("decode release record %s: %w", s.uri(key), err)
	}
	return &r, nil
}

// recordDir returns "<prefix>/<kind>/<target>/" after checking kind and target.
func (s *Store) recordDir(kind, target string) (string, error) {
	if kind != KindBackend && kind != KindFrontend && kind != KindEnvironment && kind != KindLambda {
		return "", fmt.Errorf("invalid kind %q: use %q, %q, %q or %q", kind, KindBackend, KindFrontend, KindEnvironment, KindLambda)
	}
	target = strings.Trim(target, "/")
	if err := validatePath("target", target); err != nil {
		return "", fmt.Errorf("%w (a target is \"cluster/service\", \"bucket/prefix\", a function name or an environment name)", err)
	}
	return s.prefix + "/" + kind + "/" + target + "/", nil
}
