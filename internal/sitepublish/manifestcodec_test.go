package sitepublish

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func sampleManifest() manifest {
	return manifest{Backup: true, Site: "s3://site/www/", Content: "www/.esteira/content/", Taken: time.Date(2026, 12, 2, 4, 5, 6, 7, time.UTC),
		Objects: map[string]manifestEntry{
			"index.html":              {Size: 5120, ETag: "9e107d9d372bb6826bd81d3542a419d6", SHA256: strings.Repeat("a", 64), Headers: "text/html\nno-cache\n"},
			"assets/app.js":           {Size: 20480, ETag: "e4d909c290d0fb1ca068ffaddf22cbd0-2", SHA256: strings.Repeat("b", 64), Headers: "text/javascript\nmax-age=31536000\ngzip"},
			"odd\tname\n\"q\"\\.txt":  {Size: 0, ETag: "d41d8cd98f00b204e9800998ecf8427e", SHA256: strings.Repeat("c", 64), Headers: "text/plain\n\n"},
			"ünïcødé/<&>.html":        {Size: 1, ETag: "x", SHA256: strings.Repeat("d", 64), Headers: "text/html\nno-cache\n"},
			"[bracket],comma\"].json": {Size: 1 << 40, ETag: "y", SHA256: strings.Repeat("e", 64), Headers: "application/json\n\n"},
		}}
}

func TestManifest_RoundTripsAnyPathAndHeaders(t *testing.T) {
	m := sampleManifest()
	data, err := encodeManifest(m)
	require.NoError(t, err)
	got, err := decodeManifest(data)
	require.NoError(t, err)
	m.Version = manifestVersion
	assert.Equal(t, m, got)

	again, err := encodeManifest(got)
	require.NoError(t, err)
	assert.Equal(t, data, again, "the encoding is deterministic")
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	assert.Len(t, lines, 1+len(m.Objects), "a header line and one line per object")
	for _, l := range lines {
		assert.True(t, json.Valid([]byte(l)), "every line is JSON: %s", l)
	}
	assert.Contains(t, lines[0], `"headers":["`, "each distinct header set once, in the header")
	assert.Equal(t, 4, strings.Count(lines[0], `\n`)/2, "four distinct header sets")
}

func TestManifest_EmptySite(t *testing.T) {
	data, err := encodeManifest(manifest{Objects: map[string]manifestEntry{}})
	require.NoError(t, err)
	got, err := decodeManifest(data)
	require.NoError(t, err)
	assert.Empty(t, got.Objects)
	assert.NotNil(t, got.Objects)
}

// legacyJSON is a manifest as esteira wrote it before version 3: one JSON
// document.
func legacyJSON(t *testing.T, version int, m manifest) []byte {
	t.Helper()
	type entry struct {
		Size    int64  `json:"size"`
		ETag    string `json:"etag"`
		SHA256  string `json:"sha256"`
		Headers string `json:"headers"`
	}
	objects := map[string]entry{}
	for rel, e := range m.Objects {
		objects[rel] = entry{e.Size, e.ETag, e.SHA256, e.Headers}
	}
	data, err := json.Marshal(struct {
		Version int              `json:"version"`
		Backup  bool             `json:"backup,omitempty"`
		Site    string           `json:"site,omitempty"`
		Content string           `json:"content,omitempty"`
		Taken   time.Time        `json:"taken,omitzero"`
		Objects map[string]entry `json:"objects"`
		Stored  []string         `json:"stored,omitempty"`
	}{version, m.Backup, m.Site, m.Content, m.Taken, objects, m.Stored})
	require.NoError(t, err)
	return data
}

func TestManifest_VersionsOneAndTwoStillRead(t *testing.T) {
	v2 := sampleManifest()
	v2.Version = 2
	got, err := decodeManifest(legacyJSON(t, 2, v2))
	require.NoError(t, err)
	assert.Equal(t, v2, got)

	v1 := manifest{Version: 1, Backup: true, Objects: v2.Objects, Stored: []string{"index.html"}}
	got, err = decodeManifest(append(legacyJSON(t, 1, v1), '\n'))
	require.NoError(t, err)
	assert.Equal(t, v1, got)
}

func TestManifest_RefusesWhatItCannotTrust(t *testing.T) {
	data, err := encodeManifest(sampleManifest())
	require.NoError(t, err)
	lines := strings.SplitAfter(string(data), "\n")
	header, first := lines[0], lines[1]
	for name, tc := range map[string]struct {
		data, want string
	}{
		"cut at a line":           {strings.Join(lines[:3], ""), "it was cut short"},
		"cut inside a line":       {string(data[:len(data)-5]), "cut short"},
		"a line listed twice":     {header + first + first, "listed twice"},
		"not JSON":                {"{not json", "invalid character"},
		"a newer version":         {`{"version":4,"count":0,"headers":[]}` + "\n", "upgrade esteira"},
		"a header out of table":   {`{"version":3,"count":1,"headers":[]}` + "\n" + `["a",1,"e","s",0]` + "\n", "not in the header's table"},
		"a field missing":         {`{"version":3,"count":1,"headers":["x"]}` + "\n" + `["a",1,"e",0]` + "\n", "not [\"path\""},
		"a field too many":        {`{"version":3,"count":1,"headers":["x"]}` + "\n" + `["a",1,"e","s",0,1]` + "\n", "not [\"path\""},
		"a size that is a string": {`{"version":3,"count":1,"headers":["x"]}` + "\n" + `["a","1","e","s",0]` + "\n", "not [\"path\""},
		"an unterminated string":  {`{"version":3,"count":1,"headers":["x"]}` + "\n" + `["a,1,"e","s",0]` + "\n", "not [\"path\""},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := decodeManifest([]byte(tc.data))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestManifest_LoadNamesTheManifestOnError(t *testing.T) {
	st := newMemStore("site")
	_, err := st.Put(context.Background(), "site", "www/.esteira/manifest.json", bytesBody([]byte(`{"version":3,"count":2,"headers":[]}`+"\n")), headers{})
	require.NoError(t, err)
	m, err := loadManifest(context.Background(), st, newLocation("site", "www"))
	require.ErrorContains(t, err, "s3://site/www/.esteira/manifest.json")
	assert.NotNil(t, m.Objects, "a site's unreadable manifest is an empty cache")
}

// BenchmarkManifest times the codec on a 50,000-file site's manifest.
func BenchmarkManifest(b *testing.B) {
	m := manifest{Objects: map[string]manifestEntry{}}
	for i := range 50000 {
		m.Objects[fmt.Sprintf("d%03d/f%05d.js", i/100, i)] = manifestEntry{Size: int64(i), ETag: fmt.Sprintf("%032x", i),
			SHA256: fmt.Sprintf("%064x", i), Headers: "text/javascript\nmax-age=31536000, immutable\n"}
	}
	data, err := encodeManifest(m)
	require.NoError(b, err)
	b.Run("encode", func(b *testing.B) {
		for b.Loop() {
			_, _ = encodeManifest(m)
		}
	})
	b.Run("decode", func(b *testing.B) {
		for b.Loop() {
			_, _ = decodeManifest(data)
		}
	})
	b.ReportMetric(float64(bytes.Count(data, []byte("\n"))), "lines")
}
