package release

import (
	"context"
	"errors"
	"fmt"
	"net"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// S3API is the subset of *s3.Client the store uses.
type S3API interface {
	PutObject(ctx context.Context, params *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	GetObject(ctx context.Context, params *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	DeleteObject(ctx context.Context, params *s3.DeleteObjectInput, optFns ...func(*s3.Options)) (*s3.DeleteObjectOutput, error)
	ListObjectsV2(ctx context.Context, params *s3.ListObjectsV2Input, optFns ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
}

var _ S3API = (*s3.Client)(nil)

// DefaultPrefix is the key prefix used when NewStore is given none.
const DefaultPrefix = "esteira"

// Store reads and writes locks and release records in one bucket under one prefix.
type Store struct {
	api    S3API
	bucket string
	prefix string
	err    error // invalid bucket or prefix, returned by every method before any call
}

// NewStore returns a store for bucket, keeping its objects under prefix
// ("esteira" when empty). An invalid bucket name or prefix is reported by the
// store's methods before they touch S3.
func NewStore(api S3API, bucket, prefix string) *Store {
	prefix = strings.Trim(prefix, "/")
	if prefix == "" {
		prefix = DefaultPrefix
	}
	s := &Store{api: api, bucket: bucket, prefix: prefix}
	if err := ValidateBucket(bucket); err != nil {
		s.err = fmt.Errorf("release store: %w", err)
	} else if err := validatePath("prefix", prefix); err != nil {
		s.err = fmt.Errorf("release store: %w", err)
	} else if api == nil {
		s.err = errors.New("release store: no S3 client given")
	}
	return s
}

// Bucket returns the bucket the store writes to.
func (s *Store) Bucket() string { return s.bucket }

// Prefix returns the key prefix the store writes under.
func (s *Store) Prefix() string { return s.prefix }

var (
	bucketChars = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]*[a-z0-9]$`)
	// pathChars: segments of any printable UTF-8 but '/' and '\' (S3 keys
	// are UTF-8; site prefixes like "my site" or "sitio/ção" are valid),
	// joined by single '/'.
	pathChars = regexp.MustCompile(`^[^/\\\x00-\x1f\x7f]+(/[^/\\\x00-\x1f\x7f]+)*$`)
)

// ValidateBucket checks name against S3's general purpose bucket naming rules.
func ValidateBucket(name string) error {
	bad := func(why string) error {
		return fmt.Errorf("invalid bucket name %q: %s (S3 bucket names are 3-63 characters of lower-case letters, digits, '.' and '-', starting and ending with a letter or digit)", name, why)
	}
	switch {
	case name == "":
		return errors.New("bucket name is empty: pass the name of the S3 bucket that holds esteira's locks and release records")
	case len(name) < 3 || len(name) > 63:
		return bad(fmt.Sprintf("it is %d characters long", len(name)))
	case !bucketChars.MatchString(name):
		return bad("it contains characters S3 does not allow or does not start and end with a letter or digit")
	case strings.Contains(name, ".."):
		return bad("it contains two adjacent periods")
	case net.ParseIP(name) != nil:
		return bad("it is formatted as an IP address")
	}
	for _, p := range []string{"xn--", "sthree-", "amzn-s3-demo-"} {
		if strings.HasPrefix(name, p) {
			return bad("it starts with the reserved prefix " + p)
		}
	}
	for _, sfx := range []string{"-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"} {
		if strings.HasSuffix(name, sfx) {
			return bad("it ends with the reserved suffix " + sfx)
		}
	}
	return nil
}

// validatePath checks a key fragment: segments of safe characters joined by '/', no "." or "..".
func validatePath(what, p string) error {
	if p == "" {
		return fmt.Errorf("%s is empty", what)
	}
	if !pathChars.MatchString(p) {
		return fmt.Errorf("invalid %s %q: use segments of printable characters separated by single '/'", what, p)
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "." || seg == ".." {
			return fmt.Errorf("invalid %s %q: segments may not be '.' or '..'", what, p)
		}
	}
	return nil
}

func (s *Store) uri(key string) string { return "s3://" + s.bucket + "/" + key }

// isPreconditionFailed reports whether err is S3's 412 answer to a conditional request.
func isPreconditionFailed(err error) bool {
	return hasCode(err, 412, "PreconditionFailed")
}

// isConditionalConflict reports S3's 409 answer when a conditional write races another.
func isConditionalConflict(err error) bool {
	return hasCode(err, 409, "ConditionalRequestConflict")
}

// isNotFound reports whether err says the object does not exist.
func isNotFound(err error) bool {
	return hasCode(err, 404, "NoSuchKey", "NotFound")
}

func hasCode(err error, status int, codes ...string) bool {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		for _, c := range codes {
			if apiErr.ErrorCode() == c {
				return true
			}
		}
	}
	var respErr *smithyhttp.ResponseError
	return errors.As(err, &respErr) && respErr.HTTPStatusCode() == status
}
