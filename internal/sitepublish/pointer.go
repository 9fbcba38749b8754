package sitepublish

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfrontkeyvaluestore"
	"github.com/aws/aws-sdk-go-v2/service/cloudfrontkeyvaluestore/types"
)

// pointer is the live pointer of an atomic site: one key of a CloudFront
// KeyValueStore whose value is the live release's folder name. The
// CloudFront Function prefixes every request's path with it, so switching
// the value switches the whole site at once, at every edge within seconds.
type pointer struct {
	api      KeyValueStoreAPI
	arn, key string
}

// kvsARN is a CloudFront KeyValueStore ARN.
var kvsARN = regexp.MustCompile(`^arn:aws[\w-]*:cloudfront::\d{12}:key-value-store/[\w-]+$`)

// read returns the pointer's value ("" when the key is not set yet) and
// the store's ETag, which a switch must match.
func (p pointer) read(ctx context.Context) (value, etag string, err error) {
	d, err := p.api.DescribeKeyValueStore(ctx, &cloudfrontkeyvaluestore.DescribeKeyValueStoreInput{KvsARN: aws.String(p.arn)})
	if err != nil {
		return "", "", fmt.Errorf("describe key value store %s: %w", p.arn, err)
	}
	out, err := p.api.GetKey(ctx, &cloudfrontkeyvaluestore.GetKeyInput{KvsARN: aws.String(p.arn), Key: aws.String(p.key)})
	var nf *types.ResourceNotFoundException
	switch {
	case errors.As(err, &nf):
		return "", aws.ToString(d.ETag), nil
	case err != nil:
		return "", "", fmt.Errorf("read the live pointer %q in %s: %w", p.key, p.arn, err)
	}
	return aws.ToString(out.Value), aws.ToString(d.ETag), nil
}

// swap sets the pointer to value if the store still has etag: the one step
// that makes a release live. A refused swap changed nothing.
func (p pointer) swap(ctx context.Context, etag, value string) error {
	_, err := p.api.PutKey(ctx, &cloudfrontkeyvaluestore.PutKeyInput{KvsARN: aws.String(p.arn), Key: aws.String(p.key),
		Value: aws.String(value), IfMatch: aws.String(etag)})
	var conflict *types.ConflictException
	if errors.As(err, &conflict) {
		return fmt.Errorf("the key value store %s changed since this release read it (another release or rollback?): the pointer was not switched: %w", p.arn, err)
	}
	if err != nil {
		return fmt.Errorf("switch the live pointer %q in %s: %w", p.key, p.arn, err)
	}
	return nil
}

// releaseAt is the folder of release id under the site prefix.
func releaseAt(site location, id string) location {
	return newLocation(site.Bucket, site.Prefix+strings.Trim(id, "/"))
}
