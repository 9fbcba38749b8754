package release

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Amend rewrites what the held lock says it is for, so a lock that cannot
// be released afterwards tells the next deploy what really happened (a
// release that succeeded but whose record could not be written is not one
// that "died mid-publish"). It writes only over this acquisition's own lock
// (same token, If-Match on its ETag).
func (l *Lock) Amend(ctx context.Context, what, backup string) error {
	if l == nil || l.store == nil || l.released {
		return fmt.Errorf("amend lock: no lock held")
	}
	s := l.store
	cur, etag, err := s.readLock(ctx, l.key)
	if err != nil {
		return fmt.Errorf("amend lock %s: read %s: %w", l.Name, l.URI, err)
	}
	if cur.Token != l.token {
		return l.lostTo(cur.Holder)
	}
	h := l.Holder
	h.What, h.Backup = what, backup
	body, err := json.MarshalIndent(lockBody{Holder: h, Token: l.token}, "", "  ")
	if err != nil {
		return fmt.Errorf("encode lock %s: %w", l.Name, err)
	}
	out, err := s.api.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(s.bucket), Key: aws.String(l.key), Body: bytes.NewReader(body),
		ContentType: aws.String("application/json"), IfMatch: aws.String(etag),
	})
	if err != nil {
		return fmt.Errorf("amend lock %s: write %s: %w", l.Name, l.URI, err)
	}
	l.Holder, l.etag = h, aws.ToString(out.ETag)
	return nil
}

// Overlapping returns the holders of the locks held on names that enclose
// name or that name encloses ("frontend/b/www" and "frontend/b/www/blog"):
// a site and a site inside it must not be deployed at once. A caller takes
// its own lock first and then asks, so of two overlapping deploys at least
// one sees the other.
func (s *Store) Overlapping(ctx context.Context, name string) (map[string]Holder, error) {
	if s.err != nil {
		return nil, s.err
	}
	found := map[string]Holder{}
	parts := strings.Split(name, "/")
	for i := 2; i < len(parts); i++ { // "frontend/bucket" is the shortest site lock
		outer := strings.Join(parts[:i], "/")
		cur, _, err := s.readLock(ctx, s.prefix+"/locks/"+outer+".json")
		if isNotFound(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read lock %s: %w", outer, err)
		}
		found[outer] = cur.Holder
	}
	dir := s.prefix + "/locks/" + name + "/"
	pages := s3.NewListObjectsV2Paginator(s.api, &s3.ListObjectsV2Input{Bucket: aws.String(s.bucket), Prefix: aws.String(dir)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list locks under %s: %w", s.uri(dir), err)
		}
		for _, o := range page.Contents {
			key := aws.ToString(o.Key)
			inner, ok := strings.CutSuffix(strings.TrimPrefix(key, s.prefix+"/locks/"), ".json")
			if !ok {
				continue
			}
			cur, _, err := s.readLock(ctx, key)
			if isNotFound(err) {
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("read lock %s: %w", inner, err)
			}
			found[inner] = cur.Holder
		}
	}
	return found, nil
}

// Held returns the holder of lock name, or nil when it is free.
func (s *Store) Held(ctx context.Context, name string) (*Holder, error) {
	if s.err != nil {
		return nil, s.err
	}
	cur, _, err := s.readLock(ctx, s.prefix+"/locks/"+name+".json")
	if isNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read lock %s: %w", name, err)
	}
	return &cur.Holder, nil
}
