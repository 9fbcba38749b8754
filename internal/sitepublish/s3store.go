package sitepublish

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"golang.org/x/sync/errgroup"
)

// errNotFound is returned by Head and Read for a missing key.
var errNotFound = errors.New("object not found")

// s3Store implements objectStore over the SDK.
type s3Store struct {
	api      S3API
	uploader *manager.Uploader
}

var _ objectStore = (*s3Store)(nil)

// defaultPartSize is the multipart threshold and part size (the SDK minimum).
const defaultPartSize = manager.MinUploadPartSize

func newS3Store(api S3API, partSize int64) *s3Store {
	if partSize <= 0 {
		partSize = defaultPartSize
	}
	return &s3Store{api: api, uploader: manager.NewUploader(api, func(u *manager.Uploader) {
		u.PartSize = partSize
		u.Concurrency = 4
	})}
}

// List lists every object under prefix. ListObjectsV2 pages are read one
// after the other, so a large site is listed by its folders in parallel:
// one delimited listing of the top (descending while it holds a single
// folder), then each folder's listing at once.
func (s *s3Store) List(ctx context.Context, bucket, prefix string) ([]object, error) {
	var objs []object
	dirs := []string{prefix}
	for depth := 0; len(dirs) == 1 && depth < maxListDepth; depth++ {
		top, sub, err := s.listPages(ctx, bucket, dirs[0], "/")
		if err != nil {
			return nil, err
		}
		objs, dirs = append(objs, top...), sub
	}
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(listConcurrency)
	for _, d := range dirs {
		g.Go(func() error {
			got, _, err := s.listPages(gctx, bucket, d, "")
			mu.Lock()
			objs = append(objs, got...)
			mu.Unlock()
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	slices.SortFunc(objs, func(a, b object) int { return strings.Compare(a.Key, b.Key) })
	return objs, nil
}

// maxListDepth and listConcurrency bound List: how far it descends through
// single folders, and how many folders it lists at once.
const (
	maxListDepth    = 3
	listConcurrency = 16
)

// listPages reads every page of one listing; with a delimiter it also
// returns the common prefixes.
func (s *s3Store) listPages(ctx context.Context, bucket, prefix, delimiter string) ([]object, []string, error) {
	in := &s3.ListObjectsV2Input{Bucket: aws.String(bucket)}
	if prefix != "" {
		in.Prefix = aws.String(prefix)
	}
	if delimiter != "" {
		in.Delimiter = aws.String(delimiter)
	}
	var objs []object
	var dirs []string
	p := s3.NewListObjectsV2Paginator(s.api, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx, fastList)
		if err != nil {
			return nil, nil, fmt.Errorf("list s3://%s/%s: %w", bucket, prefix, err)
		}
		for _, o := range page.Contents {
			objs = append(objs, object{Key: aws.ToString(o.Key), Size: aws.ToInt64(o.Size), ETag: cleanETag(o.ETag),
				Modified: aws.ToTime(o.LastModified)})
		}
		for _, cp := range page.CommonPrefixes {
			dirs = append(dirs, aws.ToString(cp.Prefix))
		}
	}
	return objs, dirs, nil
}

func (s *s3Store) Dirs(ctx context.Context, bucket, prefix string) ([]string, error) {
	_, dirs, err := s.listPages(ctx, bucket, prefix, "/")
	return dirs, err
}

func (s *s3Store) Head(ctx context.Context, bucket, key string) (object, error) {
	out, err := s.api.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key),
		ChecksumMode: types.ChecksumModeEnabled})
	if err != nil {
		if isNotFound(err) {
			return object{}, fmt.Errorf("head s3://%s/%s: %w", bucket, key, errNotFound)
		}
		return object{}, fmt.Errorf("head s3://%s/%s: %w", bucket, key, err)
	}
	o := object{Key: key, Size: aws.ToInt64(out.ContentLength), ETag: cleanETag(out.ETag), Headers: headers{
		ContentType: aws.ToString(out.ContentType), CacheControl: aws.ToString(out.CacheControl),
		ContentEncoding: aws.ToString(out.ContentEncoding), Metadata: map[string]string{},
	}}
	for k, v := range out.Metadata {
		o.Headers.Metadata[strings.ToLower(k)] = v
	}
	o.SHA256 = wholeSHA256(out.ChecksumSHA256, out.ChecksumType)
	return o, nil
}

func (s *s3Store) Read(ctx context.Context, bucket, key string) (io.ReadCloser, error) {
	out, err := s.api.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		if isNotFound(err) {
			return nil, fmt.Errorf("get s3://%s/%s: %w", bucket, key, errNotFound)
		}
		return nil, fmt.Errorf("get s3://%s/%s: %w", bucket, key, err)
	}
	return out.Body, nil
}

func (s *s3Store) Put(ctx context.Context, bucket, key string, b body, h headers) (string, error) {
	r, err := b.Open()
	if err != nil {
		return "", err
	}
	defer r.Close()
	in := &s3.PutObjectInput{
		Bucket: aws.String(bucket), Key: aws.String(key), Body: r, Metadata: h.Metadata,
		ContentType: nonEmpty(h.ContentType), CacheControl: nonEmpty(h.CacheControl),
		ContentEncoding: nonEmpty(h.ContentEncoding),
	}
	if b.Size < s.uploader.PartSize {
		// Small files go straight to PutObject: the upload manager would first
		// copy each one into a part-sized pooled buffer. The SHA-256 is sent
		// as x-amz-checksum-sha256: S3 refuses the upload (BadDigest) unless
		// the bytes it received hash to it, then keeps it as the checksum.
		in.ContentLength = aws.Int64(b.Size)
		if sum, err := hex.DecodeString(b.SHA256); err == nil && len(sum) == sha256.Size {
			in.ChecksumSHA256 = aws.String(base64.StdEncoding.EncodeToString(sum))
		}
		out, err := s.api.PutObject(ctx, in)
		if err != nil {
			return "", fmt.Errorf("upload s3://%s/%s: %w", bucket, key, err)
		}
		return cleanETag(out.ETag), nil
	}
	// In parts: S3 checks each part's SHA-256 and keeps a checksum of the
	// parts' checksums, not the SHA-256 of the whole object.
	in.ChecksumAlgorithm = types.ChecksumAlgorithmSha256
	out, err := s.uploader.Upload(ctx, in)
	if err != nil {
		return "", fmt.Errorf("upload s3://%s/%s: %w", bucket, key, err)
	}
	return cleanETag(out.ETag), nil
}

// Copy asks S3 to compute the copy's SHA-256 from the bytes it copies
// (x-amz-checksum-algorithm SHA256); S3 returns it in the response.
func (s *s3Store) Copy(ctx context.Context, srcBucket, srcKey, dstBucket, dstKey string, replace *headers) (copied, error) {
	in := &s3.CopyObjectInput{
		Bucket: aws.String(dstBucket), Key: aws.String(dstKey),
		CopySource:        aws.String(copySource(srcBucket, srcKey)),
		MetadataDirective: types.MetadataDirectiveCopy,
		ChecksumAlgorithm: types.ChecksumAlgorithmSha256,
	}
	if replace != nil {
		in.MetadataDirective, in.Metadata = types.MetadataDirectiveReplace, replace.Metadata
		in.ContentType, in.CacheControl = nonEmpty(replace.ContentType), nonEmpty(replace.CacheControl)
		in.ContentEncoding = nonEmpty(replace.ContentEncoding)
	}
	out, err := s.api.CopyObject(ctx, in)
	if err != nil {
		return copied{}, fmt.Errorf("copy s3://%s/%s to s3://%s/%s: %w", srcBucket, srcKey, dstBucket, dstKey, err)
	}
	if out.CopyObjectResult == nil {
		return copied{}, nil
	}
	r := out.CopyObjectResult
	return copied{ETag: cleanETag(r.ETag), SHA256: wholeSHA256(r.ChecksumSHA256, r.ChecksumType)}, nil
}

// wholeSHA256 turns an x-amz-checksum-sha256 value into hex when it is the
// SHA-256 of the whole object; a checksum of parts' checksums ("...-3",
// type COMPOSITE) or none gives "".
func wholeSHA256(v *string, t types.ChecksumType) string {
	if t == types.ChecksumTypeComposite {
		return ""
	}
	sum, err := base64.StdEncoding.DecodeString(aws.ToString(v))
	if err != nil || len(sum) != sha256.Size {
		return ""
	}
	return hex.EncodeToString(sum)
}

// deleteBatch is the DeleteObjects limit.
const deleteBatch = 1000

func (s *s3Store) Delete(ctx context.Context, bucket string, keys []string) error {
	for start := 0; start < len(keys); start += deleteBatch {
		batch := keys[start:min(start+deleteBatch, len(keys))]
		ids := make([]types.ObjectIdentifier, len(batch))
		for i, k := range batch {
			ids[i] = types.ObjectIdentifier{Key: aws.String(k)}
		}
		out, err := s.api.DeleteObjects(ctx, &s3.DeleteObjectsInput{
			Bucket: aws.String(bucket), Delete: &types.Delete{Objects: ids, Quiet: aws.Bool(true)},
		})
		if err != nil {
			return fmt.Errorf("delete %d objects from s3://%s: %w", len(batch), bucket, err)
		}
		if len(out.Errors) > 0 {
			e := out.Errors[0]
			return fmt.Errorf("delete s3://%s/%s: %s: %s (and %d more errors)", bucket,
				aws.ToString(e.Key), aws.ToString(e.Code), aws.ToString(e.Message), len(out.Errors)-1)
		}
	}
	return nil
}

// copySource is the x-amz-copy-source value: bucket/key, URL-encoded.
// S3 decodes it like a form value, so every byte but the unreserved ones
// and "/" is percent-encoded; url.PathEscape would leave "+" as is and S3
// would read it as a space (NoSuchKey for c++.html).
func copySource(bucket, key string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.WriteString(bucket + "/")
	for i := 0; i < len(key); i++ {
		c := key[i]
		if c == '/' || c == '-' || c == '_' || c == '.' || c == '~' ||
			'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

func cleanETag(e *string) string { return strings.Trim(aws.ToString(e), `"`) }

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}

func isNotFound(err error) bool {
	var nsk *types.NoSuchKey
	var nf *types.NotFound
	if errors.As(err, &nsk) || errors.As(err, &nf) {
		return true
	}
	var ae smithy.APIError
	return errors.As(err, &ae) && (ae.ErrorCode() == "NoSuchKey" || ae.ErrorCode() == "NotFound")
}
