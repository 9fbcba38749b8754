package release

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

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
	_, err = s.api.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(s.bucket), Key: aws.String(l.key), Body: bytes.NewReader(body),
		ContentType: aws.String("application/json"), IfMatch: aws.String(etag),
	})
	if err != nil {
		return fmt.Errorf("amend lock %s: write %s: %w", l.Name, l.URI, err)
	}
	l.Holder = h
	return nil
}
