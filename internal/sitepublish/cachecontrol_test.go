package sitepublish

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCacheRules_DefaultsMakeHashedAssetsImmutableAndHTMLNoCache(t *testing.T) {
	cm, err := newCacheMatcher(nil)
	require.NoError(t, err)
	for _, tc := range []struct{ path, want string }{
		{"index.html", "no-cache"},
		{"blog/post/index.html", "no-cache"},
		{"assets/index-BQ8H6eYx.js", "public, max-age=31536000, immutable"},
		{"static/js/main.3f9a1c2b.js", "public, max-age=31536000, immutable"},
		{"assets/main-KLOBH7JQ.js", "public, max-age=31536000, immutable"},
		{"_next/static/chunks/pages/index-0f1e2d3c4b5a6978.js", "public, max-age=31536000, immutable"},
		{"assets/app-component.js", "public, max-age=300"},
		{"img/hero-1920x1080.jpg", "public, max-age=300"},
		{"docs/report-20240101.pdf", "public, max-age=300"},
		{"img/photo.Summer2024.jpg", "public, max-age=300"},
		{"robots.txt", "public, max-age=300"},
	} {
		assert.Equal(t, tc.want, cm.value(tc.path), tc.path)
	}
}

func TestParseCacheRules_FirstMatchWinsAndValueMayContainEquals(t *testing.T) {
	rules, err := ParseCacheRules("assets/**=public, max-age=31536000, immutable; **/*.html=no-cache")
	require.NoError(t, err)
	require.Len(t, rules, 2)
	cm, err := newCacheMatcher(rules)
	require.NoError(t, err)
	assert.Equal(t, "public, max-age=31536000, immutable", cm.value("assets/a/b.png"))
	assert.Equal(t, "no-cache", cm.value("index.html"))
	assert.Equal(t, "no-cache", cm.value("docs/x.html"))
	assert.Equal(t, "", cm.value("favicon.ico"), "no rule matches: no Cache-Control")
}

func TestParseCacheRules_RejectsRuleWithoutValue(t *testing.T) {
	_, err := ParseCacheRules("assets/**")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "pattern=value")
	rules, err := ParseCacheRules("")
	require.NoError(t, err)
	assert.Nil(t, rules, "empty means the defaults")
}

func TestContentType_TextTypesCarryUTF8Charset(t *testing.T) {
	for _, tc := range []struct{ path, want string }{
		{"index.html", "text/html; charset=utf-8"},
		{"a/app.JS", "text/javascript; charset=utf-8"},
		{"style.css", "text/css; charset=utf-8"},
		{"data.json", "application/json; charset=utf-8"},
		{"logo.svg", "image/svg+xml; charset=utf-8"},
		{"logo.png", "image/png"},
		{"font.woff2", "font/woff2"},
		{"blob.unknownext", "application/octet-stream"},
	} {
		assert.Equal(t, tc.want, contentType(tc.path), tc.path)
	}
}
