package teststack_test

import (
	"net/http"
	"testing"

	"github.com/futuraplataforma/esteira/internal/teststack"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRegistry_AcceptsItsPasswordAndRefusesOthers(t *testing.T) {
	reg := teststack.StartRegistry(t)
	assert.Equal(t, "AWS", reg.Username)
	assert.Len(t, reg.Password, 64)

	tests := []struct {
		name       string
		user, pass string
		want       int
	}{
		{"right credentials", reg.Username, reg.Password, http.StatusOK},
		{"wrong password", reg.Username, reg.Password + "x", http.StatusUnauthorized},
		{"no credentials", "", "", http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(testContext(t), http.MethodGet, "http://"+reg.Host+"/v2/", nil)
			require.NoError(t, err)
			if tt.user != "" {
				req.SetBasicAuth(tt.user, tt.pass)
			}
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, tt.want, resp.StatusCode)
		})
	}
}

func TestRegistry_StartsOnce(t *testing.T) {
	assert.Same(t, teststack.StartRegistry(t), teststack.StartRegistry(t))
}
