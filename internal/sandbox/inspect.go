package sandbox

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// LiveRevision is the task definition (family:revision) of a service's
// PRIMARY deployment and how many deployments it has: what the demo and
// the end-to-end tests check after every drill.
func LiveRevision(ctx context.Context, api *ecs.Client, cluster, service string) (string, int, error) {
	out, err := api.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: []string{service}})
	if err != nil {
		return "", 0, fmt.Errorf("describe service %s/%s: %w", cluster, service, err)
	}
	if len(out.Services) != 1 {
		return "", 0, fmt.Errorf("describe service %s/%s: not found", cluster, service)
	}
	for _, d := range out.Services[0].Deployments {
		if aws.ToString(d.Status) == "PRIMARY" {
			return lastPart(aws.ToString(d.TaskDefinition)), len(out.Services[0].Deployments), nil
		}
	}
	return "", 0, fmt.Errorf("service %s/%s has no PRIMARY deployment", cluster, service)
}

// Site is what a site is made of in S3: key → size and ETag.
type Site map[string]string

// Snapshot lists every object under prefix with its size and ETag.
func Snapshot(ctx context.Context, api *s3.Client, bucket, prefix string) (Site, error) {
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	site := Site{}
	pages := s3.NewListObjectsV2Paginator(api, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list s3://%s/%s: %w", bucket, prefix, err)
		}
		for _, o := range page.Contents {
			key := strings.TrimPrefix(aws.ToString(o.Key), prefix)
			if strings.HasPrefix(key, ".esteira/") {
				continue // the publisher's own bookkeeping
			}
			site[key] = fmt.Sprintf("%d %s", aws.ToInt64(o.Size), aws.ToString(o.ETag))
		}
	}
	return site, nil
}

// Diff says how two snapshots differ, or "" when they are the same.
func (a Site) Diff(b Site) string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(a)) {
		if v, ok := b[k]; !ok {
			out = append(out, "-"+k)
		} else if v != a[k] {
			out = append(out, "~"+k)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(b)) {
		if _, ok := a[k]; !ok {
			out = append(out, "+"+k)
		}
	}
	return strings.Join(out, " ")
}
