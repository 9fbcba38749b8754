package sitepublish

import (
	"bytes"
	"context"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfrontkeyvaluestore"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// S3API is the subset of *s3.Client the publisher uses, with the SDK's exact
// signatures. The multipart methods are what the SDK's upload manager needs.
type S3API interface {
	manager.UploadAPIClient
	s3.ListObjectsV2APIClient
	s3.HeadObjectAPIClient
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	CopyObject(ctx context.Context, in *s3.CopyObjectInput, optFns ...func(*s3.Options)) (*s3.CopyObjectOutput, error)
	DeleteObjects(ctx context.Context, in *s3.DeleteObjectsInput, optFns ...func(*s3.Options)) (*s3.DeleteObjectsOutput, error)
}

// CloudFrontAPI is the subset of *cloudfront.Client used for invalidations.
type CloudFrontAPI interface {
	CreateInvalidation(ctx context.Context, in *cloudfront.CreateInvalidationInput, optFns ...func(*cloudfront.Options)) (*cloudfront.CreateInvalidationOutput, error)
}

// KeyValueStoreAPI is the subset of *cloudfrontkeyvaluestore.Client that
// atomic releases use to read and switch the live pointer.
type KeyValueStoreAPI interface {
	DescribeKeyValueStore(ctx context.Context, in *cloudfrontkeyvaluestore.DescribeKeyValueStoreInput, optFns ...func(*cloudfrontkeyvaluestore.Options)) (*cloudfrontkeyvaluestore.DescribeKeyValueStoreOutput, error)
	GetKey(ctx context.Context, in *cloudfrontkeyvaluestore.GetKeyInput, optFns ...func(*cloudfrontkeyvaluestore.Options)) (*cloudfrontkeyvaluestore.GetKeyOutput, error)
	PutKey(ctx context.Context, in *cloudfrontkeyvaluestore.PutKeyInput, optFns ...func(*cloudfrontkeyvaluestore.Options)) (*cloudfrontkeyvaluestore.PutKeyOutput, error)
}

// Clients holds the AWS clients the publisher calls. A nil CloudFront means
// no invalidation; KeyValueStore is needed by atomic releases only.
type Clients struct {
	S3            S3API
	CloudFront    CloudFrontAPI
	KeyValueStore KeyValueStoreAPI
}

var (
	_ S3API            = (*s3.Client)(nil)
	_ CloudFrontAPI    = (*cloudfront.Client)(nil)
	_ KeyValueStoreAPI = (*cloudfrontkeyvaluestore.Client)(nil)
)

// metaSHA256 is the user-metadata key holding the object's content SHA-256
// (hex), written by every publish for people and other tools to read. S3
// returns it as x-amz-meta-esteira-sha256. esteira never trusts it: anyone
// who rewrites the bytes can keep it (integrity.go).
const metaSHA256 = "esteira-sha256"

// headers are the HTTP headers a site object is served with.
type headers struct {
	ContentType, CacheControl, ContentEncoding string
	Metadata                                   map[string]string
}

// sig is the part of the headers a publish compares, as one string.
func (h headers) sig() string {
	return h.ContentType + "\n" + h.CacheControl + "\n" + h.ContentEncoding
}

func parseSig(s string) headers {
	p := strings.SplitN(s, "\n", 3)
	for len(p) < 3 {
		p = append(p, "")
	}
	return headers{ContentType: p[0], CacheControl: p[1], ContentEncoding: p[2]}
}

// object is one remote object. List fills Key, Size and ETag; Head also
// fills Headers and SHA256: the SHA-256 S3 computed from the bytes when they
// were written (x-amz-checksum-sha256 of the whole object), "" when it holds
// none.
type object struct {
	Key     string
	Size    int64
	ETag    string // without quotes
	SHA256  string // hex, "" when unknown
	Headers headers
	// Modified is the object's LastModified (List fills it).
	Modified time.Time
}

// singlePart reports whether the ETag is the MD5 of the content (objects
// written by one PutObject or CopyObject), so equal ETags mean equal bytes.
func (o object) singlePart() bool {
	return len(o.ETag) == 32 && !strings.Contains(o.ETag, "-")
}

// body is content to upload: Open returns a fresh reader each call,
// seekable so the SDK can hash and retry it. SHA256 (hex, optional) is the
// SHA-256 of its bytes: S3 checks it against what it receives and keeps it
// as the object's checksum.
type body struct {
	Size   int64
	Open   func() (io.ReadSeekCloser, error)
	SHA256 string
}

// bytesBody is an in-memory body.
func bytesBody(data []byte) body {
	return body{Size: int64(len(data)), Open: func() (io.ReadSeekCloser, error) {
		return nopSeekCloser{bytes.NewReader(data)}, nil
	}}
}

type nopSeekCloser struct{ io.ReadSeeker }

func (nopSeekCloser) Close() error { return nil }

// copied is what a Copy wrote: the new ETag and the SHA-256 of the bytes
// as S3 computed it while copying them (hex, "" when not reported).
type copied struct{ ETag, SHA256 string }

// objectStore is the seam between the publish logic and S3 (compare bep/s3deploy's
// remoteStore). Keys are full object keys.
type objectStore interface {
	List(ctx context.Context, bucket, prefix string) ([]object, error)
	// Dirs lists the common prefixes one "/" below prefix (each ends in "/").
	Dirs(ctx context.Context, bucket, prefix string) ([]string, error)
	Head(ctx context.Context, bucket, key string) (object, error)
	Read(ctx context.Context, bucket, key string) (io.ReadCloser, error)
	// Put uploads b with h and returns the new ETag.
	Put(ctx context.Context, bucket, key string, b body, h headers) (string, error)
	// Copy copies server-side and returns the new ETag and the SHA-256 S3
	// computed from the bytes it copied ("" when it reports none). A nil
	// replace keeps the source's headers and metadata; otherwise they are
	// replaced.
	Copy(ctx context.Context, srcBucket, srcKey, dstBucket, dstKey string, replace *headers) (copied, error)
	// Delete removes keys (any number; the store batches).
	Delete(ctx context.Context, bucket string, keys []string) error
}
