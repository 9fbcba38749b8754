package sitepublish

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Listing a 50,000-file site cost this process 1.0 to 1.5 CPU-seconds, most
// of it in encoding/xml under the SDK's ListObjectsV2 deserializer (about
// 24 µs an object), on a machine whose 2 cores the S3 server shares: it was
// the larger part of a one-file release. fastList swaps that deserializer
// for one that reads the common shape of a ListBucketResult in a single
// pass (listxml.go) and hands any response it does not recognise to the
// SDK's own, so what it cannot read exactly the SDK still reads: errors,
// other status codes, unexpected elements, CDATA, comments, entities
// beyond XML's five and character references, raw carriage returns.
// FuzzListDecode holds the two to the same output.

// fastList is the per-call option that installs the fast deserializer on
// a ListObjectsV2 call.
func fastList(o *s3.Options) {
	o.APIOptions = append(o.APIOptions, swapListDeserializer)
}

func swapListDeserializer(stack *middleware.Stack) error {
	sdk, ok := stack.Deserialize.Get(operationDeserializer)
	if !ok {
		return nil
	}
	if t := fmt.Sprintf("%T", sdk); !strings.HasSuffix(t, "ListObjectsV2") {
		return fmt.Errorf("the fast ListObjectsV2 deserializer was installed on another operation (%s)", t)
	}
	_, err := stack.Deserialize.Swap(operationDeserializer, &listDeserializer{sdk: sdk})
	return err
}

const operationDeserializer = "OperationDeserializer"

// listDeserializer reads a 200 response's ListBucketResult itself, or
// replays the response to the SDK's deserializer.
type listDeserializer struct {
	sdk middleware.DeserializeMiddleware
}

// listFallbacks counts the responses handed to the SDK's deserializer.
var listFallbacks atomic.Int64

func (*listDeserializer) ID() string { return operationDeserializer }

func (m *listDeserializer) HandleDeserialize(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (
	middleware.DeserializeOutput, middleware.Metadata, error,
) {
	out, md, err := next.HandleDeserialize(ctx, in)
	resp, ok := out.RawResponse.(*smithyhttp.Response)
	if err == nil && ok && resp.StatusCode == http.StatusOK && resp.Body != nil {
		data, rerr := io.ReadAll(resp.Body)
		resp.Body.Close()
		if rerr == nil {
			if v, ok := decodeListV2(data); ok {
				if h := resp.Header.Values("x-amz-request-charged"); len(h) != 0 {
					v.RequestCharged = types.RequestCharged(strings.TrimSpace(h[0]))
				}
				out.Result = v
				return out, md, nil
			}
		}
		var body io.Reader = bytes.NewReader(data)
		if rerr != nil { // the SDK sees the same failed read
			body = io.MultiReader(body, errReader{rerr})
		}
		resp.Body = io.NopCloser(body)
	}
	listFallbacks.Add(1)
	return m.sdk.HandleDeserialize(ctx, in, replay{out, md, err})
}

// replay is the next handler that returns a response already received.
type replay struct {
	out middleware.DeserializeOutput
	md  middleware.Metadata
	err error
}

func (r replay) HandleDeserialize(context.Context, middleware.DeserializeInput) (middleware.DeserializeOutput, middleware.Metadata, error) {
	return r.out, r.md, r.err
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }
