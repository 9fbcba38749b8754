package awsenv

import (
	"context"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/cloudfrontkeyvaluestore"
	smithyendpoints "github.com/aws/smithy-go/endpoints"
)

// KeyValueStoreClient returns a CloudFront KeyValueStore client for cfg.
// With an endpoint override (a local simulator) it uses
// KeyValueStoreEndpoints, so the calls reach that endpoint.
func KeyValueStoreClient(cfg aws.Config, o Options) *cloudfrontkeyvaluestore.Client {
	return cloudfrontkeyvaluestore.NewFromConfig(cfg, func(ko *cloudfrontkeyvaluestore.Options) {
		if o.Endpoint != "" {
			ko.EndpointResolverV2 = KeyValueStoreEndpoints()
		}
	})
}

// KeyValueStoreEndpoints is the endpoint resolver a KeyValueStore client
// needs next to a BaseEndpoint: the SDK's rules put the store's account ID
// in front of a custom endpoint's host (http://127.0.0.1:4566 becomes
// http://123456789012.127.0.0.1:4566, which does not resolve). It keeps
// everything the rules decide (the ARN checks, SigV4A with region set "*")
// and only drops that label again.
func KeyValueStoreEndpoints() cloudfrontkeyvaluestore.EndpointResolverV2 {
	return kvsResolver{cloudfrontkeyvaluestore.NewDefaultEndpointResolverV2()}
}

type kvsResolver struct {
	rules cloudfrontkeyvaluestore.EndpointResolverV2
}

func (r kvsResolver) ResolveEndpoint(ctx context.Context, p cloudfrontkeyvaluestore.EndpointParameters) (smithyendpoints.Endpoint, error) {
	e, err := r.rules.ResolveEndpoint(ctx, p)
	if err != nil || p.Endpoint == nil || p.KvsARN == nil {
		return e, err
	}
	if a, perr := arn.Parse(*p.KvsARN); perr == nil {
		e.URI.Host = strings.TrimPrefix(e.URI.Host, a.AccountID+".")
	}
	return e, nil
}
