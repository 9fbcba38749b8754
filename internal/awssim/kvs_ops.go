package awssim

import (
	"encoding/base64"
	"encoding/json"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// kvsPrefix is where the KeyValueStore data plane's resources live:
// /key-value-stores/{KvsARN}[/keys[/{Key}]], the ARN and key URL-escaped.
const kvsPrefix = "/key-value-stores/"

// kvsRequest is one parsed data-plane call.
type kvsRequest struct {
	op, arn, key, ifMatch string
	query                 url.Values
	body                  []byte
}

// serveKVS answers the KeyValueStore data plane (REST-JSON).
// Errors carry their code in X-Amzn-ErrorType and a {"Message"} body, as the SDK's
// deserializers read them; writes and DescribeKeyValueStore return the
// store's ETag header.
func (s *Server) serveKVS(w http.ResponseWriter, r *http.Request, body []byte) {
	fail := func(e *APIError) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Amzn-ErrorType", e.Code)
		w.WriteHeader(e.Status)
		_ = json.NewEncoder(w).Encode(map[string]string{"Message": e.Message})
	}
	if apiErr := s.verifySigV4A(r, body, kvsSigningName); apiErr != nil {
		fail(apiErr)
		return
	}
	req, apiErr := parseKVSRequest(r, body)
	if apiErr != nil {
		fail(apiErr)
		return
	}
	s.record(kvsSigningName, req.op, body)
	out, etag, apiErr := s.KVS.serve(req)
	if apiErr != nil {
		fail(apiErr)
		return
	}
	if etag != "" {
		w.Header().Set("ETag", etag)
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}

// parseKVSRequest names the operation and its store and key.
// They come from the method and the escaped path, whose segments are
// unescaped one by one (an ARN or key may hold a "/", sent as %2F).
func parseKVSRequest(r *http.Request, body []byte) (kvsRequest, *APIError) {
	req := kvsRequest{ifMatch: r.Header.Get("If-Match"), query: r.URL.Query(), body: body}
	parts := strings.Split(strings.TrimPrefix(r.URL.EscapedPath(), kvsPrefix), "/")
	for i, p := range parts {
		v, err := url.PathUnescape(p)
		if err != nil {
			return req, kvsError("ValidationException", "malformed path segment %q", p)
		}
		parts[i] = v
	}
	req.arn = parts[0]
	switch {
	case len(parts) == 1 && r.Method == http.MethodGet:
		req.op = "DescribeKeyValueStore"
	case len(parts) == 2 && parts[1] == "keys" && r.Method == http.MethodGet:
		req.op = "ListKeys"
	case len(parts) == 3 && parts[1] == "keys":
		req.key = parts[2]
		req.op = map[string]string{http.MethodGet: "GetKey", http.MethodPut: "PutKey", http.MethodDelete: "DeleteKey"}[r.Method]
	}
	if req.op == "" {
		// UpdateKeys (POST .../keys) is not simulated either.
		return req, clientError("UnknownOperationException", "%s %s is not simulated", r.Method, r.URL.EscapedPath())
	}
	return req, nil
}

// serve runs one call on the store it names.
// It returns the JSON to send and, for writes and DescribeKeyValueStore,
// the store's (new) ETag.
func (x *KVS) serve(req kvsRequest) (any, string, *APIError) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if e := x.fault(req.op); e != nil {
		return nil, "", e
	}
	st := x.stores[req.arn]
	if st == nil {
		return nil, "", kvsError("ResourceNotFoundException", "Key value store %s was not found.", req.arn)
	}
	counts := func() map[string]any {
		return map[string]any{"ItemCount": len(st.items), "TotalSizeInBytes": st.size}
	}
	switch req.op {
	case "DescribeKeyValueStore":
		out := counts()
		out["KvsARN"], out["Status"] = st.arn, "READY"
		// REST-JSON timestamps are epoch seconds by default, as in JSON 1.1.
		out["Created"], out["LastModified"] = epochSeconds(st.created), epochSeconds(st.modified)
		return out, st.etag(), nil
	case "GetKey":
		value, ok := st.items[req.key]
		if !ok {
			return nil, "", kvsError("ResourceNotFoundException", "Key %s was not found in key value store %s.", req.key, st.arn)
		}
		out := counts()
		out["Key"], out["Value"] = req.key, value
		return out, "", nil
	case "ListKeys":
		out, err := st.list(req.query)
		return out, "", err
	}
	// PutKey and DeleteKey: optimistic concurrency on the store's version.
	switch {
	case req.ifMatch == "":
		return nil, "", kvsError("ValidationException", "If-Match (the store's ETag) is required.")
	case req.ifMatch != st.etag():
		return nil, "", kvsError("ConflictException", "The ETag %s does not match the key value store's current ETag: describe the store again.", req.ifMatch)
	}
	if req.op == "DeleteKey" {
		old, ok := st.items[req.key]
		if !ok {
			return nil, "", kvsError("ResourceNotFoundException", "Key %s was not found in key value store %s.", req.key, st.arn)
		}
		delete(st.items, req.key)
		st.size -= int64(len(req.key) + len(old))
		st.touch()
		return counts(), st.etag(), nil
	}
	var in struct{ Value *string }
	if err := json.Unmarshal(req.body, &in); err != nil || in.Value == nil {
		return nil, "", kvsError("ValidationException", "The request body must be {\"Value\": string}.")
	}
	if err := st.put(req.key, *in.Value); err != nil {
		return nil, "", err
	}
	return counts(), st.etag(), nil
}

// list answers ListKeys.
// Keys come in byte order, MaxResults (1 to 50, default 10) at a time; NextToken is opaque to the client (here, the last key
// returned, base64url-encoded).
func (st *kvStore) list(query url.Values) (any, *APIError) {
	limit := 10
	if v := query.Get("MaxResults"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 50 {
			return nil, kvsError("ValidationException", "MaxResults must be between 1 and 50.")
		}
		limit = n
	}
	after := ""
	if tok := query.Get("NextToken"); tok != "" {
		b, err := base64.RawURLEncoding.DecodeString(tok)
		if err != nil {
			return nil, kvsError("ValidationException", "NextToken is not valid.")
		}
		after = string(b)
	}
	var keys []string
	for _, k := range slices.Sorted(maps.Keys(st.items)) {
		if k > after { // every key is longer than ""
			keys = append(keys, k)
		}
	}
	items := []map[string]string{}
	for _, k := range keys[:min(limit, len(keys))] {
		items = append(items, map[string]string{"Key": k, "Value": st.items[k]})
	}
	out := map[string]any{"Items": items}
	if len(keys) > limit {
		out["NextToken"] = base64.RawURLEncoding.EncodeToString([]byte(keys[limit-1]))
	}
	return out, nil
}
