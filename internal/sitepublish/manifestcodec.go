package sitepublish

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// A manifest is read and written on every release, twice at a time, and a
// 50,000-file site's took encoding/json half a CPU second each way. Since
// version 3 it is JSON lines, which a hand-written loop reads and writes in
// a few milliseconds and jq still reads:
//
//	{"version":3,"backup":true,...,"count":2,"headers":["text/html\nno-cache\n"]}
//	["index.html",5120,"9e107d9d372bb6826bd81d3542a419d6","d7a8fbb3...",0]
//	["app.js",20480,"e4d909c290d0fb1ca068ffaddf22cbd0","ef537f25...",1]
//
// The first line is the header; every other is one object: path, size,
// ETag, SHA-256 and its index in the header's table of distinct headers.
// count makes a manifest cut short an error rather than a smaller site.
// Versions 1 and 2 were one JSON document and still read.

const (
	manifestVersion = 3
	manifestType    = "application/x-ndjson"
)

type manifestHeader struct {
	Version int       `json:"version"`
	Backup  bool      `json:"backup,omitempty"`
	Site    string    `json:"site,omitempty"`
	Content string    `json:"content,omitempty"`
	Taken   time.Time `json:"taken,omitzero"`
	Stored  []string  `json:"stored,omitempty"`
	Count   int       `json:"count"`
	Headers []string  `json:"headers"`
}

func encodeManifest(m manifest) ([]byte, error) {
	h := manifestHeader{Version: manifestVersion, Backup: m.Backup, Site: m.Site, Content: m.Content, Taken: m.Taken,
		Stored: m.Stored, Count: len(m.Objects), Headers: []string{}}
	index := map[string]int{}
	rels := make([]string, 0, len(m.Objects))
	for rel := range m.Objects {
		rels = append(rels, rel)
	}
	slices.Sort(rels)
	for _, rel := range rels {
		sig := m.Objects[rel].Headers
		if _, ok := index[sig]; !ok {
			index[sig] = len(h.Headers)
			h.Headers = append(h.Headers, sig)
		}
	}
	head, err := json.Marshal(h)
	if err != nil {
		return nil, err
	}
	b := make([]byte, 0, len(head)+1+len(m.Objects)*(len(`["",,"","",]`)+30+20+32+64+4+1))
	b = append(append(b, head...), '\n')
	for _, rel := range rels {
		e := m.Objects[rel]
		b = append(b, '[')
		b = appendJSONString(b, rel)
		b = append(b, ',')
		b = strconv.AppendInt(b, e.Size, 10)
		b = append(b, ',')
		b = appendJSONString(b, e.ETag)
		b = append(b, ',')
		b = appendJSONString(b, e.SHA256)
		b = append(b, ',')
		b = strconv.AppendInt(b, int64(index[e.Headers]), 10)
		b = append(b, "]\n"...)
	}
	return b, nil
}

// appendJSONString appends s as a JSON string; plain printable ASCII as it
// is, anything else through encoding/json.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			q, _ := json.Marshal(s) // a string always marshals
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

func decodeManifest(data []byte) (manifest, error) {
	line, rest, _ := bytes.Cut(data, []byte("\n"))
	var h manifestHeader
	if err := json.Unmarshal(line, &h); err != nil {
		return manifest{}, err
	}
	if h.Version < manifestVersion {
		return decodeLegacyManifest(data)
	}
	if h.Version > manifestVersion {
		return manifest{}, fmt.Errorf("manifest version %d is newer than this esteira reads (%d): %w", h.Version, manifestVersion, errNewerManifest)
	}
	m := manifest{Version: h.Version, Backup: h.Backup, Site: h.Site, Content: h.Content, Taken: h.Taken, Stored: h.Stored,
		Objects: make(map[string]manifestEntry, h.Count)}
	text := string(rest) // every string of the entries is a slice of this one
	for n := 1; text != ""; n++ {
		line, next, ok := strings.Cut(text, "\n")
		if !ok {
			return manifest{}, fmt.Errorf("manifest line %d is cut short", n+1)
		}
		rel, e, err := decodeEntry(line, h.Headers)
		if err != nil {
			return manifest{}, fmt.Errorf("manifest line %d: %w", n+1, err)
		}
		if _, dup := m.Objects[rel]; dup {
			return manifest{}, fmt.Errorf("manifest line %d: %s is listed twice", n+1, rel)
		}
		m.Objects[rel] = e
		text = next
	}
	if len(m.Objects) != h.Count {
		return manifest{}, fmt.Errorf("the manifest lists %d objects, its header says %d: it was cut short", len(m.Objects), h.Count)
	}
	return m, nil
}

// errNewerManifest is a manifest written by a newer esteira: not damaged.
var errNewerManifest = errors.New("upgrade esteira")

var errEntry = errors.New(`not ["path",size,"etag","sha256",headers]`)

// decodeEntry reads ["path",size,"etag","sha256",headers].
func decodeEntry(line string, sigs []string) (string, manifestEntry, error) {
	var e manifestEntry
	if !strings.HasPrefix(line, "[") || !strings.HasSuffix(line, "]") {
		return "", e, errEntry
	}
	f := fields{s: line[1 : len(line)-1]}
	rel := f.str()
	e.Size = f.int()
	e.ETag = f.str()
	e.SHA256 = f.str()
	sig := f.int()
	switch {
	case f.err != nil || f.s != "":
		return "", e, errEntry
	case sig < 0 || sig >= int64(len(sigs)):
		return "", e, fmt.Errorf("headers %d is not in the header's table of %d", sig, len(sigs))
	}
	e.Headers = sigs[sig]
	return rel, e, nil
}

// fields reads the comma-separated values of one entry in turn.
type fields struct {
	s   string
	err error
}

func (f *fields) next() string {
	if f.err != nil {
		return ""
	}
	end := len(f.s)
	if strings.HasPrefix(f.s, `"`) {
		end = stringEnd(f.s)
		if end < 0 {
			f.err = errEntry
			return ""
		}
	} else if i := strings.IndexByte(f.s, ','); i >= 0 {
		end = i
	}
	v := f.s[:end]
	f.s = f.s[end:]
	if f.s != "" {
		if f.s[0] != ',' {
			f.err = errEntry
			return ""
		}
		f.s = f.s[1:]
	}
	return v
}

// stringEnd is the index just after the JSON string s starts with, or -1.
func stringEnd(s string) int {
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return -1
}

func (f *fields) str() string {
	v := f.next()
	if f.err != nil {
		return ""
	}
	if len(v) < 2 || v[0] != '"' {
		f.err = errEntry
		return ""
	}
	if !strings.Contains(v, `\`) {
		return v[1 : len(v)-1]
	}
	var s string
	if err := json.Unmarshal([]byte(v), &s); err != nil {
		f.err = errEntry
	}
	return s
}

func (f *fields) int() int64 {
	v := f.next()
	if f.err != nil {
		return 0
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		f.err = errEntry
	}
	return n
}

// legacyManifest is versions 1 and 2: one JSON document.
type legacyManifest struct {
	Version int       `json:"version"`
	Backup  bool      `json:"backup"`
	Site    string    `json:"site"`
	Content string    `json:"content"`
	Taken   time.Time `json:"taken"`
	Objects map[string]struct {
		Size    int64  `json:"size"`
		ETag    string `json:"etag"`
		SHA256  string `json:"sha256"`
		Headers string `json:"headers"`
	} `json:"objects"`
	Stored []string `json:"stored"`
}

func decodeLegacyManifest(data []byte) (manifest, error) {
	var l legacyManifest
	if err := json.Unmarshal(data, &l); err != nil {
		return manifest{}, err
	}
	m := manifest{Version: l.Version, Backup: l.Backup, Site: l.Site, Content: l.Content, Taken: l.Taken, Stored: l.Stored,
		Objects: make(map[string]manifestEntry, len(l.Objects))}
	for rel, e := range l.Objects {
		m.Objects[rel] = manifestEntry{Size: e.Size, ETag: e.ETag, SHA256: e.SHA256, Headers: e.Headers}
	}
	return m, nil
}
