package awssim_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	kvs "github.com/aws/aws-sdk-go-v2/service/cloudfrontkeyvaluestore"
	kvstypes "github.com/aws/aws-sdk-go-v2/service/cloudfrontkeyvaluestore/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/futuraplataforma/esteira/internal/awsenv"
	"github.com/futuraplataforma/esteira/internal/awssim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// newKVSClient returns a simulator with one store and a KeyValueStore
// client for it, set up as a caller must: the simulator's endpoint, its
// keys, a region of the aws partition (the client signs with SigV4A for
// region set "*") and the resolver that keeps the rules' host usable.
func newKVSClient(t *testing.T, opts ...func(*kvs.Options)) (*awssim.Server, *kvs.Client, string) {
	t.Helper()
	sim := awssim.New(awssim.DefaultOptions())
	url := sim.Start(t)
	storeARN, err := sim.KVS.CreateStore("site-routes")
	require.NoError(t, err)
	o := sim.Options()
	base := kvs.Options{BaseEndpoint: aws.String(url), Region: "us-east-1", RetryMaxAttempts: 1,
		EndpointResolverV2: awsenv.KeyValueStoreEndpoints(),
		Credentials:        credentials.NewStaticCredentialsProvider(o.AccessKeyID, o.SecretAccessKey, "")}
	return sim, kvs.New(base, opts...), storeARN
}

// status is the HTTP status of a failed call, 0 if it got no response.
func status(err error) int {
	var resp *smithyhttp.ResponseError
	if errors.As(err, &resp) {
		return resp.HTTPStatusCode()
	}
	return 0
}

func etagOf(t *testing.T, c *kvs.Client, storeARN string) string {
	t.Helper()
	d, err := c.DescribeKeyValueStore(t.Context(), &kvs.DescribeKeyValueStoreInput{KvsARN: aws.String(storeARN)})
	require.NoError(t, err)
	return aws.ToString(d.ETag)
}

// A write names the store's current ETag and gets a new one; a write with
// an old ETag is refused with ConflictException (409) and changes nothing.
func TestKVS_WritesNeedTheCurrentETag(t *testing.T) {
	sim, c, storeARN := newKVSClient(t)
	ctx := t.Context()
	arnIn := aws.String(storeARN)
	assert.Regexp(t, `^arn:aws:cloudfront::123456789012:key-value-store/[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$`, storeARN)

	d, err := c.DescribeKeyValueStore(ctx, &kvs.DescribeKeyValueStoreInput{KvsARN: arnIn})
	require.NoError(t, err)
	assert.Equal(t, storeARN, aws.ToString(d.KvsARN))
	assert.Equal(t, "READY", aws.ToString(d.Status))
	assert.EqualValues(t, 0, aws.ToInt32(d.ItemCount))
	require.NotNil(t, d.Created)
	assert.WithinDuration(t, *d.Created, aws.ToTime(d.LastModified), 0)
	e0 := aws.ToString(d.ETag)
	require.NotEmpty(t, e0)

	key := "/docs/a b:c" // escaped in the path: "/", " " and ":" must come back intact
	put, err := c.PutKey(ctx, &kvs.PutKeyInput{KvsARN: arnIn, Key: aws.String(key), Value: aws.String("v1"), IfMatch: aws.String(e0)})
	require.NoError(t, err)
	e1 := aws.ToString(put.ETag)
	assert.NotEqual(t, e0, e1, "a write changes the ETag")
	assert.EqualValues(t, 1, aws.ToInt32(put.ItemCount))
	assert.EqualValues(t, len(key)+2, aws.ToInt64(put.TotalSizeInBytes))
	assert.Equal(t, e1, etagOf(t, c, storeARN))

	got, err := c.GetKey(ctx, &kvs.GetKeyInput{KvsARN: arnIn, Key: aws.String(key)})
	require.NoError(t, err)
	assert.Equal(t, key, aws.ToString(got.Key))
	assert.Equal(t, "v1", aws.ToString(got.Value))
	assert.EqualValues(t, 1, aws.ToInt32(got.ItemCount))
	assert.EqualValues(t, len(key)+2, aws.ToInt64(got.TotalSizeInBytes))

	_, err = c.PutKey(ctx, &kvs.PutKeyInput{KvsARN: arnIn, Key: aws.String(key), Value: aws.String("stale"), IfMatch: aws.String(e0)})
	var conflict *kvstypes.ConflictException
	require.ErrorAs(t, err, &conflict)
	assert.Equal(t, 409, status(err))
	keys, _ := sim.KVS.Keys(storeARN)
	assert.Equal(t, map[string]string{key: "v1"}, keys, "a refused write changes nothing")
	assert.Equal(t, e1, etagOf(t, c, storeARN))

	put, err = c.PutKey(ctx, &kvs.PutKeyInput{KvsARN: arnIn, Key: aws.String("b"), Value: aws.String("2"), IfMatch: aws.String(e1)})
	require.NoError(t, err)
	e2 := aws.ToString(put.ETag)
	del, err := c.DeleteKey(ctx, &kvs.DeleteKeyInput{KvsARN: arnIn, Key: aws.String(key), IfMatch: aws.String(e1)})
	require.ErrorAs(t, err, &conflict, "deletes need the current ETag too")
	require.Nil(t, del)
	del, err = c.DeleteKey(ctx, &kvs.DeleteKeyInput{KvsARN: arnIn, Key: aws.String(key), IfMatch: aws.String(e2)})
	require.NoError(t, err)
	assert.NotEqual(t, e2, aws.ToString(del.ETag))
	assert.EqualValues(t, 1, aws.ToInt32(del.ItemCount))
	assert.EqualValues(t, 2, aws.ToInt64(del.TotalSizeInBytes))
	keys, _ = sim.KVS.Keys(storeARN)
	assert.Equal(t, map[string]string{"b": "2"}, keys)

	var notFound *kvstypes.ResourceNotFoundException
	_, err = c.GetKey(ctx, &kvs.GetKeyInput{KvsARN: arnIn, Key: aws.String(key)})
	require.ErrorAs(t, err, &notFound)
	assert.Equal(t, 404, status(err))
	_, err = c.DeleteKey(ctx, &kvs.DeleteKeyInput{KvsARN: arnIn, Key: aws.String(key), IfMatch: del.ETag})
	require.ErrorAs(t, err, &notFound, "deleting a missing key")
	other := strings.Replace(storeARN, "key-value-store/", "key-value-store/0", 1)
	_, err = c.DescribeKeyValueStore(ctx, &kvs.DescribeKeyValueStoreInput{KvsARN: aws.String(other)})
	require.ErrorAs(t, err, &notFound, "an unknown store")
	assert.Equal(t, 3, sim.Count("cloudfront-keyvaluestore", "PutKey"))
	assert.Equal(t, 3, sim.Count("cloudfront-keyvaluestore", "DeleteKey"))
}

// ListKeys pages through the keys in order, 10 at a time unless asked.
func TestKVS_ListKeysPages(t *testing.T) {
	sim, c, storeARN := newKVSClient(t)
	want := map[string]string{}
	for i := range 23 {
		k, v := fmt.Sprintf("key-%02d", i), fmt.Sprintf("value %d", i)
		require.NoError(t, sim.KVS.SetKey(storeARN, k, v))
		want[k] = v
	}
	var pages []int
	got := map[string]string{}
	var order []string
	p := kvs.NewListKeysPaginator(c, &kvs.ListKeysInput{KvsARN: aws.String(storeARN), MaxResults: aws.Int32(5)})
	for p.HasMorePages() {
		page, err := p.NextPage(t.Context())
		require.NoError(t, err)
		pages = append(pages, len(page.Items))
		for _, it := range page.Items {
			got[aws.ToString(it.Key)] = aws.ToString(it.Value)
			order = append(order, aws.ToString(it.Key))
		}
	}
	assert.Equal(t, []int{5, 5, 5, 5, 3}, pages)
	assert.Equal(t, want, got)
	assert.IsIncreasing(t, order)

	first, err := c.ListKeys(t.Context(), &kvs.ListKeysInput{KvsARN: aws.String(storeARN)})
	require.NoError(t, err)
	assert.Len(t, first.Items, 10, "the default page")
	require.NotNil(t, first.NextToken)
	_, err = c.ListKeys(t.Context(), &kvs.ListKeysInput{KvsARN: aws.String(storeARN), MaxResults: aws.Int32(51)})
	var invalid *kvstypes.ValidationException
	assert.ErrorAs(t, err, &invalid, "at most 50 per page")
	// A token that needs escaping passes the signature (the canonical query
	// escapes it as the signer does) and is refused by ListKeys itself.
	_, err = c.ListKeys(t.Context(), &kvs.ListKeysInput{KvsARN: aws.String(storeARN), NextToken: aws.String("not a token+/=")})
	assert.ErrorAs(t, err, &invalid)
}

// The documented limits: key 512 bytes, value 1 KB (ValidationException),
// 5 MB per store (ServiceQuotaExceededException, 402).
func TestKVS_EnforcesTheLimits(t *testing.T) {
	sim, c, storeARN := newKVSClient(t)
	ctx := t.Context()
	put := func(key, value string) error {
		_, err := c.PutKey(ctx, &kvs.PutKeyInput{KvsARN: aws.String(storeARN), Key: aws.String(key), Value: aws.String(value),
			IfMatch: aws.String(etagOf(t, c, storeARN))})
		return err
	}
	var invalid *kvstypes.ValidationException
	require.NoError(t, put(strings.Repeat("k", 512), strings.Repeat("v", 1024)))
	err := put(strings.Repeat("k", 513), "v")
	require.ErrorAs(t, err, &invalid)
	assert.Equal(t, 400, status(err))
	assert.Contains(t, err.Error(), "512")
	require.ErrorAs(t, put("k", strings.Repeat("v", 1025)), &invalid)
	require.ErrorAs(t, put("é", strings.Repeat("é", 513)), &invalid, "bytes, not characters")

	// Fill the store to exactly 5 MB: 5120 entries of 1024 bytes.
	require.NoError(t, sim.KVS.SetKey(storeARN, strings.Repeat("k", 512), strings.Repeat("v", 512)))
	for i := range 5119 {
		require.NoError(t, sim.KVS.SetKey(storeARN, fmt.Sprintf("k%05d", i), strings.Repeat("v", 1018)))
	}
	d, err := c.DescribeKeyValueStore(ctx, &kvs.DescribeKeyValueStoreInput{KvsARN: aws.String(storeARN)})
	require.NoError(t, err)
	require.EqualValues(t, 5<<20, aws.ToInt64(d.TotalSizeInBytes))
	err = put("x", "y")
	var quota *kvstypes.ServiceQuotaExceededException
	require.ErrorAs(t, err, &quota)
	assert.Equal(t, 402, status(err))
	assert.Equal(t, aws.ToString(d.ETag), etagOf(t, c, storeARN), "a refused write changes nothing")
	require.NoError(t, put("k00000", strings.Repeat("w", 1018)), "replacing a value of the same size fits")
}

// Script makes the next calls of an operation fail; each attempt counts.
func TestKVS_ScriptedFaultsFailTheNextCalls(t *testing.T) {
	sim, c, storeARN := newKVSClient(t)
	ctx := t.Context()
	require.NoError(t, sim.KVS.Script([]awssim.KVSFault{{Operation: "PutKey", Count: 2}, {Operation: "GetKey", Count: 1, Code: "AccessDeniedException"}}))
	put := func() error {
		_, err := c.PutKey(ctx, &kvs.PutKeyInput{KvsARN: aws.String(storeARN), Key: aws.String("a"), Value: aws.String("1"),
			IfMatch: aws.String(etagOf(t, c, storeARN))})
		return err
	}
	var internal *kvstypes.InternalServerException
	for range 2 {
		err := put()
		require.ErrorAs(t, err, &internal)
		assert.Equal(t, 500, status(err))
	}
	keys, _ := sim.KVS.Keys(storeARN)
	assert.Empty(t, keys, "a failed call changes nothing")
	require.NoError(t, put(), "the faults are used up")

	var denied *kvstypes.AccessDeniedException
	_, err := c.GetKey(ctx, &kvs.GetKeyInput{KvsARN: aws.String(storeARN), Key: aws.String("a")})
	require.ErrorAs(t, err, &denied)
	assert.Equal(t, 403, status(err))
	assert.Empty(t, sim.KVS.Faults())
	_, err = c.GetKey(ctx, &kvs.GetKeyInput{KvsARN: aws.String(storeARN), Key: aws.String("a")})
	require.NoError(t, err)

	assert.ErrorContains(t, sim.KVS.Script([]awssim.KVSFault{{Operation: "UpdateKeys", Count: 1}}), "operation")
	assert.ErrorContains(t, sim.KVS.Script([]awssim.KVSFault{{Operation: "PutKey"}}), "count")
	assert.ErrorContains(t, sim.KVS.Script([]awssim.KVSFault{{Operation: "PutKey", Count: 1, Code: "Boom"}}), "code")
	assert.ErrorContains(t, sim.KVS.ScriptJSON([]byte(`{"faults":[{"operaton":"PutKey","count":1}]}`)), "unknown field")
	require.NoError(t, sim.KVS.ScriptJSON([]byte(`{"faults":[{"operation":"ListKeys","count":3,"code":"ConflictException"}]}`)))
	assert.Equal(t, []awssim.KVSFault{{Operation: "ListKeys", Count: 3, Code: "ConflictException"}}, sim.KVS.Faults())
}

func TestKVS_CreateStoreRefusesBadAndDuplicateNames(t *testing.T) {
	sim := awssim.New(awssim.DefaultOptions())
	a, err := sim.KVS.CreateStore("routes_v2-prod")
	require.NoError(t, err)
	_, err = sim.KVS.CreateStore("routes_v2-prod")
	assert.ErrorContains(t, err, "already exists")
	_, err = sim.KVS.CreateStore("no/slash")
	assert.Error(t, err)
	b, err := sim.KVS.CreateStore("other")
	require.NoError(t, err)
	assert.NotEqual(t, a, b)
	again, err := awssim.New(awssim.DefaultOptions()).KVS.CreateStore("other")
	require.NoError(t, err)
	assert.Equal(t, b, again, "a store keeps its ARN across simulators")
	stores := sim.KVS.Stores()
	require.Len(t, stores, 2)
	assert.Equal(t, []string{"other", "routes_v2-prod"}, []string{stores[0].Name, stores[1].Name})
	assert.Equal(t, map[string]string{}, stores[0].Keys)
}
