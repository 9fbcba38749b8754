package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHealthz_AnswersOK(t *testing.T) {
	srv := httptest.NewServer(newMux())
	defer srv.Close()

	res, err := http.Get(srv.URL + "/healthz")
	if err != nil {
		t.Fatalf("get /healthz: %v", err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK || strings.TrimSpace(string(body)) != "ok" {
		t.Fatalf("GET /healthz = %d %q, want 200 \"ok\"", res.StatusCode, body)
	}
}

func TestMigrate(t *testing.T) {
	tests := []struct {
		name    string
		dsn     string
		wantErr string
		wantOut []string
		notOut  string
	}{
		{name: "FailsClearlyWhenDatabaseURLMissing", dsn: "", wantErr: "DATABASE_URL is not set"},
		{name: "FailsWhenDatabaseURLIsNotAURL", dsn: "not a url", wantErr: "DATABASE_URL is not a URL"},
		{
			name:    "AppliesEveryMigrationWithoutPrintingThePassword",
			dsn:     "postgres://app:s3cret@db.internal:5432/app",
			wantOut: []string{"migrating postgres://db.internal:5432/app", "apply 0001_create_users", "2 migrations applied"},
			notOut:  "s3cret",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := run(context.Background(), []string{"migrate"}, func(k string) string {
				if k == "DATABASE_URL" {
					return tt.dsn
				}
				return ""
			}, &out)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("migrate: %v", err)
			}
			for _, w := range tt.wantOut {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output %q does not contain %q", out.String(), w)
				}
			}
			if tt.notOut != "" && strings.Contains(out.String(), tt.notOut) {
				t.Errorf("output leaks %q: %q", tt.notOut, out.String())
			}
		})
	}
}

func TestMigrate_MissingURLIsTheSentinel(t *testing.T) {
	err := migrate(context.Background(), "", io.Discard)
	if !errors.Is(err, errNoDatabaseURL) {
		t.Fatalf("err = %v, want errNoDatabaseURL", err)
	}
}

func TestRun_RejectsUnknownCommand(t *testing.T) {
	err := run(context.Background(), []string{"migrat"}, func(string) string { return "" }, io.Discard)
	if err == nil || !strings.Contains(err.Error(), `unknown command "migrat"`) {
		t.Fatalf("err = %v, want unknown command", err)
	}
}
