package awssim

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
)

// kvsSigningName is the KeyValueStore data plane's SigV4A service name.
const kvsSigningName = "cloudfront-keyvaluestore"

// The documented KeyValueStore limits the simulator enforces (CloudFront
// Developer Guide, quotas on key value stores): a key of at most 512 bytes,
// a value of at most 1 KB, a store of at most 5 MB of keys and values.
const (
	maxKVSKeyBytes   = 512
	maxKVSValueBytes = 1024
	maxKVSStoreBytes = 5 << 20
)

// kvsStoreName is CreateKeyValueStore's Name constraint (API reference).
var kvsStoreName = regexp.MustCompile(`^[a-zA-Z0-9-_]{1,64}$`)

// KVS simulates the CloudFront KeyValueStore data plane. It answers the
// cloudfrontkeyvaluestore client (REST-JSON signed with SigV4A):
// DescribeKeyValueStore, GetKey, PutKey, DeleteKey and ListKeys on stores
// created with CreateStore. Every write names the store's current ETag in
// If-Match and changes it; a stale ETag is refused with ConflictException.
// Script makes the next calls of an operation fail.
type KVS struct {
	s *Server

	mu     sync.Mutex
	stores map[string]*kvStore // by ARN
	faults []KVSFault
}

type kvStore struct {
	name, arn         string
	created, modified time.Time
	version           int
	items             map[string]string
	size              int64 // bytes of keys and values
}

// KVSStore is a store's state, for tests and the sandbox's control endpoint.
type KVSStore struct {
	Name string            `json:"name"`
	ARN  string            `json:"arn"`
	ETag string            `json:"etag"`
	Keys map[string]string `json:"keys"`
}

// KVSFault makes the next Count calls of one operation fail with Code.
// Every attempt counts: the SDK retries a 500 (twice more by default).
type KVSFault struct {
	// Operation is DescribeKeyValueStore, GetKey, PutKey, DeleteKey or ListKeys.
	Operation string `json:"operation"`
	// Count is how many calls fail (at least 1).
	Count int `json:"count"`
	// Code is one of the service's errors; default InternalServerException (500).
	Code string `json:"code,omitempty"`
}

// kvsErrorStatus is the HTTP status of each error the service's model
// declares (@httpError in the Smithy model the SDKs are generated from).
var kvsErrorStatus = map[string]int{
	"AccessDeniedException": http.StatusForbidden, "ConflictException": http.StatusConflict,
	"InternalServerException": http.StatusInternalServerError, "ResourceNotFoundException": http.StatusNotFound,
	"ServiceQuotaExceededException": http.StatusPaymentRequired, "ValidationException": http.StatusBadRequest,
}

var kvsOperations = []string{"DescribeKeyValueStore", "GetKey", "PutKey", "DeleteKey", "ListKeys"}

func newKVS(s *Server) *KVS { return &KVS{s: s, stores: map[string]*kvStore{}} }

// CreateStore creates an empty, READY store and returns its ARN.
// The ARN is arn:aws:cloudfront::<account>:key-value-store/<id>, the id
// derived from the account and the name, so a store keeps its ARN across
// restarts. A name already taken or not matching [a-zA-Z0-9-_]{1,64} is
// refused.
func (x *KVS) CreateStore(name string) (string, error) {
	if !kvsStoreName.MatchString(name) {
		return "", fmt.Errorf("key value store name %q: use 1 to 64 of a-z, A-Z, 0-9, - and _", name)
	}
	storeARN := KVSStoreARN(x.s.opts.AccountID, name)
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, st := range x.stores {
		if st.name == name {
			return "", fmt.Errorf("key value store %s already exists (%s)", name, st.arn)
		}
	}
	now := time.Now().UTC()
	x.stores[storeARN] = &kvStore{name: name, arn: storeARN, created: now, modified: now, items: map[string]string{}}
	return storeARN, nil
}

// Keys returns a copy of a store's keys and values; false if there is no such store.
func (x *KVS) Keys(storeARN string) (map[string]string, bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	st := x.stores[storeARN]
	if st == nil {
		return nil, false
	}
	return maps.Clone(st.items), true
}

// SetKey puts a key as PutKey would, without an ETag: setup for a test.
// It changes the store's ETag, as any write does.
func (x *KVS) SetKey(storeARN, key, value string) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	st := x.stores[storeARN]
	if st == nil {
		return fmt.Errorf("no key value store %s", storeARN)
	}
	if err := st.put(key, value); err != nil {
		return err
	}
	return nil
}

// Stores returns every store with its ETag and keys, by name.
func (x *KVS) Stores() []KVSStore {
	x.mu.Lock()
	defer x.mu.Unlock()
	out := []KVSStore{}
	for _, st := range x.stores {
		out = append(out, KVSStore{Name: st.name, ARN: st.arn, ETag: st.etag(), Keys: maps.Clone(st.items)})
	}
	slices.SortFunc(out, func(a, b KVSStore) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Script replaces the faults (none: every call is answered). A call takes
// the first fault naming its operation, after its signature is checked.
func (x *KVS) Script(faults []KVSFault) error {
	for i, f := range faults {
		if !slices.Contains(kvsOperations, f.Operation) {
			return fmt.Errorf("fault %d: operation %q is not one of %s", i, f.Operation, strings.Join(kvsOperations, ", "))
		}
		if f.Count < 1 {
			return fmt.Errorf("fault %d: count must be at least 1", i)
		}
		if _, ok := kvsErrorStatus[f.Code]; f.Code != "" && !ok {
			return fmt.Errorf("fault %d: code %q is not an error of the service", i, f.Code)
		}
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	x.faults = append([]KVSFault(nil), faults...)
	return nil
}

// ScriptJSON is Script for a body {"faults": [...]}, as the sandbox's
// control endpoint receives it; unknown fields are refused.
func (x *KVS) ScriptJSON(body []byte) error {
	var in struct {
		Faults []KVSFault `json:"faults"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return fmt.Errorf("parse kvs faults: %w", err)
	}
	return x.Script(in.Faults)
}

// Faults returns the faults not used up yet.
func (x *KVS) Faults() []KVSFault {
	x.mu.Lock()
	defer x.mu.Unlock()
	return append([]KVSFault{}, x.faults...)
}

// fault uses up one call of the first fault for op, if any. x.mu is held.
func (x *KVS) fault(op string) *APIError {
	for i := range x.faults {
		f := &x.faults[i]
		if f.Operation != op {
			continue
		}
		code := f.Code
		if code == "" {
			code = "InternalServerException"
		}
		if f.Count--; f.Count == 0 {
			x.faults = slices.Delete(x.faults, i, i+1)
		}
		return &APIError{Status: kvsErrorStatus[code], Code: code, Message: "awssim: " + op + " refused by a scripted fault"}
	}
	return nil
}

// etag names the store's current version, as DescribeKeyValueStore returns it.
func (st *kvStore) etag() string {
	sum := sha256.Sum256(fmt.Appendf(nil, "%s#%d", st.arn, st.version))
	return "KV" + strings.ToUpper(hex.EncodeToString(sum[:7]))
}

// put checks the limits and writes one key, a new version of the store.
func (st *kvStore) put(key, value string) *APIError {
	switch {
	case key == "":
		return kvsError("ValidationException", "Key must have a length of at least 1.")
	case len(key) > maxKVSKeyBytes:
		return kvsError("ValidationException", "Key is %d bytes: the limit is %d bytes.", len(key), maxKVSKeyBytes)
	case len(value) > maxKVSValueBytes:
		return kvsError("ValidationException", "Value is %d bytes: the limit is %d bytes.", len(value), maxKVSValueBytes)
	}
	size := st.size + int64(len(key)+len(value))
	if old, ok := st.items[key]; ok {
		size -= int64(len(key) + len(old))
	}
	if size > maxKVSStoreBytes {
		return kvsError("ServiceQuotaExceededException", "The key value store would be %d bytes: the limit is %d bytes.", size, maxKVSStoreBytes)
	}
	st.items[key], st.size = value, size
	st.touch()
	return nil
}

func (st *kvStore) touch() {
	st.version++
	st.modified = time.Now().UTC()
}

func kvsError(code, format string, args ...any) *APIError {
	return &APIError{Status: kvsErrorStatus[code], Code: code, Message: fmt.Sprintf(format, args...)}
}

// KVSStoreARN is the ARN CreateStore gives the store name in account: the
// same on every start, so a sandbox user can name it before it exists.
func KVSStoreARN(account, name string) string {
	sum := sha256.Sum256([]byte(account + "/key-value-store/" + name))
	id := hex.EncodeToString(sum[:16])
	return fmt.Sprintf("arn:aws:cloudfront::%s:key-value-store/%s-%s-%s-%s-%s", account, id[:8], id[8:12], id[12:16], id[16:20], id[20:])
}
