package release

import (
	"bytes"
	"context"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// conditionals is what an S3 server honours of the conditional requests the
// lock is built on. AWS S3 honours both; S3-compatible servers differ (MinIO
// ignores If-Match on DeleteObject), and a lock that silently relied on a
// guarantee the server does not give would let two deploys both hold it.
type conditionals struct {
	createOnce  bool // PutObject If-None-Match: * refuses an existing key
	deleteMatch bool // DeleteObject If-Match refuses another ETag
}

// probes caches each bucket's answer for the life of the process.
var probes sync.Map // bucket -> conditionals

// conditionals finds out, once per bucket, what the server honours: on a
// scratch key of its own under the store's prefix, it creates the key twice
// with If-None-Match and deletes it with a wrong If-Match, then removes it.
func (s *Store) conditionals(ctx context.Context) (conditionals, error) {
	if c, ok := probes.Load(s.bucket); ok {
		return c.(conditionals), nil
	}
	key := s.prefix + "/.probe-" + newToken()
	put := func() error {
		_, err := s.api.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key),
			Body: bytes.NewReader([]byte("esteira: probe of conditional requests\n")), IfNoneMatch: aws.String("*")})
		return err
	}
	defer func() {
		_, _ = s.api.DeleteObject(context.WithoutCancel(ctx), &s3.DeleteObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)})
	}()
	if err := put(); err != nil {
		return conditionals{}, fmt.Errorf("probe conditional writes in s3://%s/%s: %w", s.bucket, key, err)
	}
	var c conditionals
	switch err := put(); {
	case isPreconditionFailed(err) || isConditionalConflict(err):
		c.createOnce = true
	case err != nil:
		return conditionals{}, fmt.Errorf("probe conditional writes in s3://%s/%s: %w", s.bucket, key, err)
	}
	_, err := s.api.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key),
		IfMatch: aws.String(`"00000000000000000000000000000000"`)})
	switch {
	case isPreconditionFailed(err):
		c.deleteMatch = true
	case err != nil && !isNotFound(err):
		return conditionals{}, fmt.Errorf("probe conditional deletes in s3://%s/%s: %w", s.bucket, key, err)
	}
	probes.Store(s.bucket, c)
	return c, nil
}
