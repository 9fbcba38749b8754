package awssim_test

import (
	"bytes"
	"io"
	"math/big"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	kvs "github.com/aws/aws-sdk-go-v2/service/cloudfrontkeyvaluestore"
	"github.com/futuraplataforma/esteira/internal/awssim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The key derivation gives the SDK's own test vector (internal/v4a,
// TestDeriveECDSAKeyPairFromSecret), so a signature made with the SDK's
// key verifies with ours.
func TestSigV4AKey_MatchesTheSDKTestVector(t *testing.T) {
	key, err := awssim.SigV4AKey("AKISORANDOMAASORANDOM", "q+jcrXGc+0zWN6uzclKVhvMmUsIfRPa4rlRandom")
	require.NoError(t, err)
	x, _ := new(big.Int).SetString("15D242CEEBF8D8169FD6A8B5A746C41140414C3B07579038DA06AF89190FFFCB", 16)
	y, _ := new(big.Int).SetString("515242CEDD82E94799482E4C0514B505AFCCF2C0C98D6A553BF539F424C5EC0", 16)
	assert.Zero(t, x.Cmp(key.X), "X: %X", key.X)
	assert.Zero(t, y.Cmp(key.Y), "Y: %X", key.Y)
}

// doFunc lets a test change a request after the SDK signed it.
type doFunc func(*http.Request) (*http.Response, error)

func (f doFunc) Do(r *http.Request) (*http.Response, error) { return f(r) }

func tamper(change func(r *http.Request)) func(*kvs.Options) {
	return func(o *kvs.Options) {
		o.HTTPClient = doFunc(func(r *http.Request) (*http.Response, error) {
			change(r)
			return http.DefaultClient.Do(r)
		})
	}
}

// Requests that AWS would refuse are refused, and change nothing: another
// secret key, an unknown access key, a body, path or header changed after
// signing, a SigV4 (not SigV4A) signature, a stale X-Amz-Date.
func TestKVS_RefusesWhatTheSignatureDoesNotCover(t *testing.T) {
	o := awssim.DefaultOptions()
	tests := []struct {
		name string
		opt  func(*kvs.Options)
		code string
		msg  string // in the error, when the code alone does not tell the check apart
	}{
		{"another secret key", func(c *kvs.Options) {
			c.Credentials = credentials.NewStaticCredentialsProvider(o.AccessKeyID, "not-the-secret", "")
		}, "InvalidSignatureException", ""},
		{"an unknown access key", func(c *kvs.Options) {
			c.Credentials = credentials.NewStaticCredentialsProvider("AKIAUNKNOWN000000000", o.SecretAccessKey, "")
		}, "UnrecognizedClientException", ""},
		{"a body changed after signing", tamper(func(r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(bytes.Replace(b, []byte("good"), []byte("evil"), 1)))
		}), "InvalidSignatureException", ""},
		{"a key changed after signing", tamper(func(r *http.Request) {
			r.URL.RawPath = strings.Replace(r.URL.RawPath, "/keys/a", "/keys/b", 1)
			r.URL.Path = strings.Replace(r.URL.Path, "/keys/a", "/keys/b", 1)
		}), "InvalidSignatureException", ""},
		{"an If-Match changed after signing", tamper(func(r *http.Request) {
			r.Header.Set("If-Match", "KV00000000000000")
		}), "InvalidSignatureException", ""},
		{"a region set changed after signing", tamper(func(r *http.Request) {
			r.Header.Set("X-Amz-Region-Set", "eu-west-1")
		}), "InvalidSignatureException", ""},
		{"a region set without this region", kvs.WithSigV4ASigningRegions([]string{"us-west-2"}), "InvalidSignatureException", "region set"},
		{"a stale X-Amz-Date", tamper(func(r *http.Request) {
			at, _ := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
			skew := -20 * time.Minute
			if at.Hour() == 0 {
				skew = -skew // stay on the credential scope's day
			}
			r.Header.Set("X-Amz-Date", at.Add(skew).Format("20060102T150405Z"))
		}), "InvalidSignatureException", "15 min."},
		{"SigV4 instead of SigV4A", func(c *kvs.Options) { c.AuthSchemePreference = []string{"sigv4"} }, "IncompleteSignatureException", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sim, good, storeARN := newKVSClient(t)
			bad := kvs.New(good.Options(), tt.opt)
			etag := etagOf(t, good, storeARN)
			_, err := bad.PutKey(t.Context(), &kvs.PutKeyInput{KvsARN: aws.String(storeARN), Key: aws.String("a"),
				Value: aws.String("good"), IfMatch: aws.String(etag)})
			require.Error(t, err)
			assert.Equal(t, tt.code, apiCode(err), "%v", err)
			assert.Contains(t, err.Error(), tt.msg)
			if tt.code != "IncompleteSignatureException" {
				assert.Equal(t, 403, status(err))
			}
			keys, _ := sim.KVS.Keys(storeARN)
			assert.Empty(t, keys)
			assert.Equal(t, etag, etagOf(t, good, storeARN))
			assert.Zero(t, sim.Count("cloudfront-keyvaluestore", "PutKey"), "a refused request is not served")
		})
	}
}

// A region set naming the simulator's region, rather than "*", is accepted.
func TestKVS_AcceptsARegionSetNamingItsRegion(t *testing.T) {
	sim, c, storeARN := newKVSClient(t, kvs.WithSigV4ASigningRegions([]string{"us-west-2", awssim.DefaultOptions().Region}))
	_, err := c.PutKey(t.Context(), &kvs.PutKeyInput{KvsARN: aws.String(storeARN), Key: aws.String("a"), Value: aws.String("1"),
		IfMatch: aws.String(etagOf(t, c, storeARN))})
	require.NoError(t, err)
	assert.Equal(t, 1, sim.Count("cloudfront-keyvaluestore", "PutKey"))
}

// Without awsenv.KeyValueStoreEndpoints the SDK's rules send the call to
// <account>.<endpoint host>, which a loopback endpoint does not answer.
func TestKVS_TheSDKRulesPrefixTheAccountToACustomEndpoint(t *testing.T) {
	_, c, storeARN := newKVSClient(t, func(o *kvs.Options) { o.EndpointResolverV2 = kvs.NewDefaultEndpointResolverV2() })
	_, err := c.DescribeKeyValueStore(t.Context(), &kvs.DescribeKeyValueStoreInput{KvsARN: aws.String(storeARN)})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "123456789012.127.0.0.1")
}
