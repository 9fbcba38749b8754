package sitepublish

import (
	"context"
	"fmt"
	"net/url"
	"path"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
)

// invalidationPaths turns the changed site paths into CloudFront paths
// (relative to the site root, so the distribution's origin path is the
// site prefix). A changed dir/index.html also invalidates "/dir/". Over
// limit paths collapse to "/*".
func invalidationPaths(p *SitePlan, limit int) []string {
	seen := map[string]bool{}
	add := func(rel string) {
		seen["/"+escapePath(rel)] = true
		if path.Base(rel) == "index.html" {
			dir := strings.TrimSuffix(rel, "index.html")
			seen["/"+escapePath(dir)] = true
		}
	}
	for _, c := range p.Upload {
		add(c.Path)
	}
	for _, rel := range p.Delete {
		add(rel)
	}
	if len(seen) > limit {
		return []string{"/*"}
	}
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func escapePath(rel string) string {
	parts := strings.Split(rel, "/")
	for i, s := range parts {
		parts[i] = url.PathEscape(s)
	}
	return strings.Join(parts, "/")
}

// invalidate asks CloudFront to drop the changed paths and returns the
// invalidation id; it does not wait for completion.
func invalidate(ctx context.Context, cf CloudFrontAPI, distID, ref string, p *SitePlan, limit int) (string, error) {
	if distID == "" || cf == nil {
		return "", nil
	}
	paths := invalidationPaths(p, limit)
	out, err := cf.CreateInvalidation(ctx, &cloudfront.CreateInvalidationInput{
		DistributionId: aws.String(distID),
		InvalidationBatch: &types.InvalidationBatch{
			CallerReference: aws.String(ref),
			Paths:           &types.Paths{Quantity: aws.Int32(int32(len(paths))), Items: paths},
		},
	})
	if err != nil {
		return "", fmt.Errorf("invalidate %d paths in CloudFront distribution %s: %w", len(paths), distID, err)
	}
	if out.Invalidation == nil {
		return "", nil
	}
	return aws.ToString(out.Invalidation.Id), nil
}
