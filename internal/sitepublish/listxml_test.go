package sitepublish

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	"github.com/futuraplataforma/esteira/internal/teststack"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// cannedHTTP answers every request with one response.
type cannedHTTP struct {
	status int
	header http.Header
	body   []byte
}

func (c cannedHTTP) Do(*http.Request) (*http.Response, error) {
	h := c.header
	if h == nil {
		h = http.Header{}
	}
	return &http.Response{StatusCode: c.status, Header: h, Body: io.NopCloser(bytes.NewReader(c.body)), ContentLength: int64(len(c.body))}, nil
}

// listBoth lists through the SDK's deserializer and through fastList, from
// the same response, and reports whether fastList read it itself.
func listBoth(t testing.TB, resp cannedHTTP) (sdk, fast *s3.ListObjectsV2Output, sdkErr, fastErr error, readItself bool) {
	t.Helper()
	c := s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String("http://127.0.0.1:1"), UsePathStyle: true,
		Credentials: aws.AnonymousCredentials{}, HTTPClient: resp, RetryMaxAttempts: 1})
	in := &s3.ListObjectsV2Input{Bucket: aws.String("site")}
	sdk, sdkErr = c.ListObjectsV2(context.Background(), in)
	before := listFallbacks.Load()
	fast, fastErr = c.ListObjectsV2(context.Background(), in, fastList)
	for _, o := range []*s3.ListObjectsV2Output{sdk, fast} {
		if o != nil {
			o.ResultMetadata = middleware.Metadata{}
		}
	}
	return sdk, fast, sdkErr, fastErr, listFallbacks.Load() == before
}

const listHead = `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">`

// plainLists are responses as S3, versitygw and MinIO write them.
var plainLists = map[string]string{
	"AWS, truncated": listHead + `<Name>site</Name><Prefix>www/</Prefix><KeyCount>2</KeyCount><MaxKeys>2</MaxKeys><IsTruncated>true</IsTruncated>` +
		`<ContinuationToken>abc</ContinuationToken><NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>` +
		`<Contents><Key>www/index.html</Key><LastModified>2026-12-01T10:00:00.000Z</LastModified><ETag>&quot;9e107d9d372bb6826bd81d3542a419d6&quot;</ETag>` +
		`<ChecksumAlgorithm>CRC64NVME</ChecksumAlgorithm><ChecksumType>FULL_OBJECT</ChecksumType><Size>5120</Size><StorageClass>STANDARD</StorageClass></Contents>` +
		`<Contents><Key>www/a &amp; b &lt;c&gt; &apos;d&apos;.html</Key><LastModified>2026-12-01T10:00:01.5Z</LastModified><ETag>&quot;e4d909c290d0fb1ca068ffaddf22cbd0-3&quot;</ETag>` +
		`<Size>16777216</Size><Owner><ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a</ID><DisplayName>me</DisplayName></Owner><StorageClass>STANDARD_IA</StorageClass></Contents></ListBucketResult>`,
	"Go's encoding/xml, with folders": `<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>site</Name><Prefix></Prefix><Delimiter>/</Delimiter>` +
		`<MaxKeys>1000</MaxKeys><KeyCount>3</KeyCount><IsTruncated>false</IsTruncated>` +
		`<Contents><Key>ünïcødé &#34;quoted&#34; +plus.txt</Key><LastModified>2026-12-01T10:00:00Z</LastModified><ETag>&#34;d41d8cd98f00b204e9800998ecf8427e&#34;</ETag><Size>0</Size><StorageClass>STANDARD</StorageClass></Contents>` +
		`<CommonPrefixes><Prefix>www/</Prefix></CommonPrefixes><CommonPrefixes><Prefix>a&#x9;tab&#10;newline&#13;/</Prefix></CommonPrefixes></ListBucketResult>`,
	"indented": listHead + "\r\n  <Name>site</Name>\n  <IsTruncated>false</IsTruncated>\n  <Contents>\n    <Key> spaced key </Key>\n    <Size>7</Size>\n  </Contents>\n</ListBucketResult>\n",
	"empty":    `<ListBucketResult><Name>site</Name><KeyCount>0</KeyCount><IsTruncated>false</IsTruncated></ListBucketResult>`,
}

func TestListDecode_ReadsWhatTheSDKReads(t *testing.T) {
	for name, doc := range plainLists {
		t.Run(name, func(t *testing.T) {
			sdk, fast, sdkErr, fastErr, itself := listBoth(t, cannedHTTP{status: 200, body: []byte(doc), header: http.Header{"X-Amz-Request-Charged": {"requester"}}})
			require.NoError(t, sdkErr)
			require.NoError(t, fastErr)
			assert.True(t, itself, "read without the SDK's deserializer")
			assert.Equal(t, sdk, fast)
		})
	}
	sdk, _, _, _, _ := listBoth(t, cannedHTTP{status: 200, body: []byte(plainLists["AWS, truncated"])})
	assert.Equal(t, `a & b <c> 'd'.html`, strings.TrimPrefix(aws.ToString(sdk.Contents[1].Key), "www/"), "the cases are worth comparing")
}

func TestListDecode_HandsAnythingElseToTheSDK(t *testing.T) {
	wrap := func(s string) string { return listHead + s + `</ListBucketResult>` }
	for name, resp := range map[string]cannedHTTP{
		"CDATA":                       {status: 200, body: []byte(wrap(`<Contents><Key><![CDATA[a<b]]></Key></Contents>`))},
		"a comment":                   {status: 200, body: []byte(wrap(`<!-- hi --><Name>site</Name>`))},
		"an element it does not know": {status: 200, body: []byte(wrap(`<Contents><Key>a</Key><RestoreStatus><IsRestoreInProgress>true</IsRestoreInProgress></RestoreStatus></Contents>`))},
		"a new element":               {status: 200, body: []byte(wrap(`<Contents><Key>a</Key><Future>x</Future></Contents>`))},
		"a raw carriage return":       {status: 200, body: []byte(wrap("<Contents><Key>a\rb</Key></Contents>"))},
		"another entity":              {status: 200, body: []byte(wrap(`<Contents><Key>a&nbsp;b</Key></Contents>`))},
		"an attribute":                {status: 200, body: []byte(wrap(`<Contents><Key x="1">a</Key></Contents>`))},
		"a self-closing element":      {status: 200, body: []byte(wrap(`<Contents><Key/></Contents>`))},
		"another case":                {status: 200, body: []byte(wrap(`<contents><key>a</key></contents>`))},
		"a size that is no number":    {status: 200, body: []byte(wrap(`<Contents><Key>a</Key><Size>x</Size></Contents>`))},
		"a bad date":                  {status: 200, body: []byte(wrap(`<Contents><LastModified>yesterday</LastModified></Contents>`))},
		"latin-1":                     {status: 200, body: []byte(`<?xml version="1.0" encoding="ISO-8859-1"?><ListBucketResult><Name>site</Name></ListBucketResult>`)},
		"cut short":                   {status: 200, body: []byte(listHead + `<Contents><Key>a</Key>`)},
		"trailing text":               {status: 200, body: []byte(wrap(`<Name>site</Name>`) + "x")},
		"an empty body":               {status: 200},
		"an error in a 200":           {status: 200, body: []byte(`<Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>`)},
		"access denied":               {status: 403, body: []byte(`<Error><Code>AccessDenied</Code><Message>Access Denied</Message><RequestId>1</RequestId></Error>`)},
	} {
		t.Run(name, func(t *testing.T) {
			sdk, fast, sdkErr, fastErr, itself := listBoth(t, resp)
			assert.False(t, itself, "handed to the SDK")
			assert.Equal(t, sdk, fast)
			if sdkErr == nil {
				require.NoError(t, fastErr)
				return
			}
			require.Error(t, fastErr)
			assert.Equal(t, sdkErr.Error(), fastErr.Error())
			var a, b smithy.APIError
			if assert.Equal(t, errors.As(sdkErr, &a), errors.As(fastErr, &b)) && a != nil {
				assert.Equal(t, a.ErrorCode(), b.ErrorCode())
			}
		})
	}
}

// FuzzListDecode holds the fast path to the SDK: the same output or the
// same error for any response.
func FuzzListDecode(f *testing.F) {
	for _, doc := range plainLists {
		f.Add([]byte(doc))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		_, decoded := decodeListV2(doc)
		sdk, fast, sdkErr, fastErr, itself := listBoth(t, cannedHTTP{status: 200, body: doc})
		require.Equal(t, sdk, fast)
		if sdkErr != nil {
			// The SDK checks a 200's body for an <Error> before any deserializer.
			require.EqualError(t, fastErr, sdkErr.Error())
			return
		}
		require.NoError(t, fastErr)
		require.Equal(t, decoded, itself, "read itself exactly what decodeListV2 reads")
	})
}

// A real server's listings take the fast path and equal the SDK's, for
// keys XML must escape, with folders and with pages.
func TestS3_ListDecodeOnARealServer(t *testing.T) {
	srv := teststack.S3(t)
	c, bucket := srv.Client(t), srv.NewBucket(t)
	keys := []string{`www/a & b.html`, `www/<tag>.html`, `www/"quoted" 'single'.txt`, "www/ünïcødé/ß.css", "www/ spaced .js", "www/c++.html", "www/d/e/f.png"}
	for i := range 7 {
		keys = append(keys, fmt.Sprintf("www/page%d.html", i))
	}
	for _, k := range keys {
		_, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(k), Body: strings.NewReader(k)})
		require.NoError(t, err)
	}
	for _, in := range []s3.ListObjectsV2Input{
		{Prefix: aws.String("www/"), MaxKeys: aws.Int32(4)},
		{Prefix: aws.String("www/"), Delimiter: aws.String("/")},
	} {
		in.Bucket = aws.String(bucket)
		pages := func(opts ...func(*s3.Options)) []*s3.ListObjectsV2Output {
			var out []*s3.ListObjectsV2Output
			p := s3.NewListObjectsV2Paginator(c, &in)
			for p.HasMorePages() {
				page, err := p.NextPage(context.Background(), opts...)
				require.NoError(t, err)
				page.ResultMetadata = middleware.Metadata{}
				// MinIO's tokens name the listing: only whether there is one compares.
				page.ContinuationToken = aws.String(fmt.Sprint(page.ContinuationToken != nil))
				page.NextContinuationToken = aws.String(fmt.Sprint(page.NextContinuationToken != nil))
				out = append(out, page)
			}
			return out
		}
		sdk := pages()
		before := listFallbacks.Load()
		fast := pages(fastList)
		assert.Equal(t, before, listFallbacks.Load(), "every page read by the fast path")
		require.NotEmpty(t, sdk)
		assert.Equal(t, sdk, fast)
	}
}
