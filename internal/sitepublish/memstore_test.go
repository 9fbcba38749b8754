package sitepublish

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// memStore is an in-memory objectStore for unit tests. failAt["put"] = 3
// makes the third Put fail (likewise "copy", "delete", "list", "head");
// corruptCopies flips a byte in every copy; log records every change in order.
type memStore struct {
	mu, hookMu sync.Mutex
	buckets    map[string]map[string]memObject
	failAt     map[string]int
	calls      map[string]int
	log        []string

	corruptCopies bool
	// noChecksums: a server that keeps and reports no SHA-256 checksums
	// (and does not check the one a Put sends).
	noChecksums bool
	// copiesLoseHeaders: a Copy that keeps the source's headers (nil replace)
	// stores none; with loseAllHeaders, replaced ones are lost too.
	copiesLoseHeaders, loseAllHeaders bool
	afterPut                          func(key string) // called after each successful Put, outside the lock
}

type memObject struct {
	data []byte
	h    headers
	mod  time.Time
	sum  string // the SHA-256 "S3" computed from the bytes (hex), "" when none
}

var errInjected = errors.New("injected failure")

func newMemStore(buckets ...string) *memStore {
	m := &memStore{buckets: map[string]map[string]memObject{}, failAt: map[string]int{}, calls: map[string]int{}}
	for _, b := range buckets {
		m.buckets[b] = map[string]memObject{}
	}
	return m
}

func (m *memStore) fail(op string) error {
	m.calls[op]++
	if n := m.failAt[op]; n > 0 && m.calls[op] == n {
		return errInjected
	}
	return nil
}

func (m *memStore) bucket(name string) (map[string]memObject, error) {
	b, ok := m.buckets[name]
	if !ok {
		return nil, errors.New("NoSuchBucket: " + name)
	}
	return b, nil
}

func etagOf(data []byte) string { s := md5.Sum(data); return hex.EncodeToString(s[:]) }

func (m *memStore) List(_ context.Context, bucket, prefix string) ([]object, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.fail("list"); err != nil {
		return nil, err
	}
	b, err := m.bucket(bucket)
	if err != nil {
		return nil, err
	}
	var out []object
	for k, o := range b {
		if strings.HasPrefix(k, prefix) {
			out = append(out, object{Key: k, Size: int64(len(o.data)), ETag: etagOf(o.data), Modified: o.mod})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

func (m *memStore) Dirs(_ context.Context, bucket, prefix string) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.fail("list"); err != nil {
		return nil, err
	}
	b, err := m.bucket(bucket)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for k := range b {
		rest, ok := strings.CutPrefix(k, prefix)
		if i := strings.Index(rest, "/"); ok && i >= 0 {
			seen[prefix+rest[:i+1]] = true
		}
	}
	return slices.Sorted(maps.Keys(seen)), nil
}

func (m *memStore) Head(_ context.Context, bucket, key string) (object, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.fail("head"); err != nil {
		return object{}, err
	}
	b, err := m.bucket(bucket)
	if err != nil {
		return object{}, err
	}
	o, ok := b[key]
	if !ok {
		return object{}, errNotFound
	}
	return object{Key: key, Size: int64(len(o.data)), ETag: etagOf(o.data), SHA256: o.sum, Headers: o.h}, nil
}

func (m *memStore) Read(_ context.Context, bucket, key string) (io.ReadCloser, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, err := m.bucket(bucket)
	if err != nil {
		return nil, err
	}
	o, ok := b[key]
	if !ok {
		return nil, errNotFound
	}
	return io.NopCloser(bytes.NewReader(o.data)), nil
}

func (m *memStore) Put(_ context.Context, bucket, key string, bd body, h headers) (string, error) {
	r, err := bd.Open()
	if err != nil {
		return "", err
	}
	data, _ := io.ReadAll(r)
	r.Close()
	sum := bd.SHA256
	if m.noChecksums {
		sum = ""
	}
	if sum != "" && hashBytes(data) != sum {
		return "", errors.New("BadDigest: the SHA256 you specified did not match the calculated checksum")
	}
	etag, err := m.put(bucket, key, data, h, sum)
	if err == nil && m.afterPut != nil {
		// One call at a time, outside the store's lock: the hook may read it.
		m.hookMu.Lock()
		m.afterPut(key)
		m.hookMu.Unlock()
	}
	return etag, err
}

func (m *memStore) put(bucket, key string, data []byte, h headers, sum string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.fail("put"); err != nil {
		return "", err
	}
	b, err := m.bucket(bucket)
	if err != nil {
		return "", err
	}
	h.Metadata = maps.Clone(h.Metadata)
	b[key] = memObject{data: data, h: h, mod: time.Now(), sum: sum}
	m.log = append(m.log, "put "+key)
	return etagOf(data), nil
}

func (m *memStore) Copy(_ context.Context, srcBucket, srcKey, dstBucket, dstKey string, replace *headers) (copied, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.fail("copy"); err != nil {
		return copied{}, err
	}
	sb, err := m.bucket(srcBucket)
	if err != nil {
		return copied{}, err
	}
	db, err := m.bucket(dstBucket)
	if err != nil {
		return copied{}, err
	}
	o, ok := sb[srcKey]
	if !ok {
		return copied{}, errNotFound
	}
	if replace != nil {
		o.h = *replace
		o.h.Metadata = maps.Clone(replace.Metadata)
	}
	if m.loseAllHeaders || (m.copiesLoseHeaders && replace == nil) {
		o.h = headers{Metadata: o.h.Metadata}
	}
	if m.corruptCopies && len(o.data) > 0 {
		o.data = append([]byte(nil), o.data...)
		o.data[0] ^= 0xff
	}
	o.mod, o.sum = time.Now(), hashBytes(o.data) // S3 hashes the bytes it copies
	if m.noChecksums {
		o.sum = ""
	}
	db[dstKey] = o
	m.log = append(m.log, "copy "+dstKey)
	return copied{ETag: etagOf(o.data), SHA256: o.sum}, nil
}

// rewrite replaces the bytes of bucket/key and keeps its headers and
// metadata, as a client that rewrites an object without asking for a
// SHA-256 checksum would: "S3" keeps none.
func (m *memStore) rewrite(bucket, key string, data []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	o := m.buckets[bucket][key]
	o.data, o.sum, o.mod = data, "", time.Now()
	m.buckets[bucket][key] = o
}

func (m *memStore) Delete(_ context.Context, bucket string, keys []string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.fail("delete"); err != nil {
		return err
	}
	b, err := m.bucket(bucket)
	if err != nil {
		return err
	}
	for _, k := range keys {
		delete(b, k)
		m.log = append(m.log, "delete "+k)
	}
	return nil
}

// snapshot returns key → content of a bucket's objects under prefix.
func (m *memStore) snapshot(bucket, prefix string) map[string]string {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]string{}
	for k, o := range m.buckets[bucket] {
		if strings.HasPrefix(k, prefix) && !strings.Contains(k, reservedDir) {
			out[strings.TrimPrefix(k, prefix)] = string(o.data)
		}
	}
	return out
}

// objects returns key → content of every object under prefix, esteira's
// own included, keyed without the prefix.
func (m *memStore) objects(bucket, prefix string) map[string]string {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]string{}
	for k, o := range m.buckets[bucket] {
		if rest, ok := strings.CutPrefix(k, prefix); ok {
			out[rest] = string(o.data)
		}
	}
	return out
}

// headersOf returns key → headers.sig() of a bucket's objects under prefix.
func (m *memStore) headersOf(bucket, prefix string) map[string]string {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]string{}
	for k, o := range m.buckets[bucket] {
		if strings.HasPrefix(k, prefix) && !strings.Contains(k, reservedDir) {
			out[strings.TrimPrefix(k, prefix)] = o.h.sig()
		}
	}
	return out
}

func (m *memStore) changes() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.log...)
}

var _ objectStore = (*memStore)(nil)
