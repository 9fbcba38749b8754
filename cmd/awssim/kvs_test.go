package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	kvs "github.com/aws/aws-sdk-go-v2/service/cloudfrontkeyvaluestore"
	"github.com/futuraplataforma/esteira/internal/awsenv"
	"github.com/futuraplataforma/esteira/internal/awssim"
	"github.com/futuraplataforma/esteira/internal/sandbox/control"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// -key-value-stores creates the stores and prints their ARNs; the control
// endpoint lists them with their keys (package control tests its faults).
func TestRun_KeyValueStoresArePrintedAndListed(t *testing.T) {
	url, rest := startWithOutput(t, "-addr", "127.0.0.1:0", "-key-value-stores", "site-routes, flags")
	printed := map[string]string{}
	for len(printed) < 2 {
		select {
		case line := <-rest:
			if f := strings.Fields(line); len(f) == 3 && f[0] == "key-value-store" {
				printed[f[1]] = f[2]
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("awssim printed %d of 2 key value stores", len(printed))
		}
	}
	go func() {
		for range rest {
		}
	}()
	require.Contains(t, printed, "site-routes")
	assert.True(t, strings.HasPrefix(printed["site-routes"], "arn:aws:cloudfront::123456789012:key-value-store/"), printed["site-routes"])

	type state struct {
		Stores []awssim.KVSStore `json:"stores"`
		Faults []awssim.KVSFault `json:"faults"`
	}
	get := func() state {
		resp, err := http.Get(url + control.KeyValueStorePath)
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		var s state
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&s))
		return s
	}
	s := get()
	require.Len(t, s.Stores, 2)
	assert.Equal(t, "flags", s.Stores[0].Name)
	assert.Equal(t, printed["site-routes"], s.Stores[1].ARN)
	assert.Empty(t, s.Faults)

	o := awssim.DefaultOptions()
	c := kvs.New(kvs.Options{BaseEndpoint: aws.String(url), Region: o.Region, RetryMaxAttempts: 1,
		EndpointResolverV2: awsenv.KeyValueStoreEndpoints(),
		Credentials:        credentials.NewStaticCredentialsProvider(o.AccessKeyID, o.SecretAccessKey, "")})
	in := &kvs.PutKeyInput{KvsARN: aws.String(printed["site-routes"]), Key: aws.String("/old"), Value: aws.String("/new"),
		IfMatch: aws.String(s.Stores[1].ETag)}
	out, err := c.PutKey(t.Context(), in)
	require.NoError(t, err)

	s = get()
	assert.Equal(t, map[string]string{"/old": "/new"}, s.Stores[1].Keys)
	assert.Equal(t, aws.ToString(out.ETag), s.Stores[1].ETag)
}

func TestRun_RefusesABadKeyValueStoreName(t *testing.T) {
	err := run(t.Context(), []string{"-addr", "127.0.0.1:0", "-key-value-stores", "a,a"}, io.Discard)
	assert.ErrorContains(t, err, "-key-value-stores")
	err = run(t.Context(), []string{"-addr", "127.0.0.1:0", "-key-value-stores", "no/slash"}, io.Discard)
	assert.ErrorContains(t, err, "-key-value-stores")
}
