package release_test

import (
	"bytes"
	"context"
	"io"
	"sort"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/futuraplataforma/esteira/internal/release"
)

// pagingS3 is an in-memory bucket whose listings come in pages of pageSize,
// to check that List follows continuation tokens.
type pagingS3 struct {
	release.S3API
	mu        sync.Mutex
	pageSize  int
	objects   map[string][]byte
	listCalls int
}

func (p *pagingS3) PutObject(_ context.Context, in *s3.PutObjectInput, _ ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.objects == nil {
		p.objects = map[string][]byte{}
	}
	b, _ := io.ReadAll(in.Body)
	p.objects[aws.ToString(in.Key)] = b
	return &s3.PutObjectOutput{}, nil
}

func (p *pagingS3) GetObject(_ context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return &s3.GetObjectOutput{Body: io.NopCloser(bytes.NewReader(p.objects[aws.ToString(in.Key)]))}, nil
}

func (p *pagingS3) ListObjectsV2(_ context.Context, in *s3.ListObjectsV2Input, _ ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.listCalls++
	var keys []string
	for k := range p.objects {
		if strings.HasPrefix(k, aws.ToString(in.Prefix)) && k > aws.ToString(in.ContinuationToken) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	out := &s3.ListObjectsV2Output{}
	if len(keys) > p.pageSize {
		keys = keys[:p.pageSize]
		out.IsTruncated = aws.Bool(true)
		out.NextContinuationToken = aws.String(keys[len(keys)-1])
	}
	for _, k := range keys {
		out.Contents = append(out.Contents, types.Object{Key: aws.String(k)})
	}
	return out, nil
}
