// Command app is esteira's example backend: a tiny HTTP service with a
// /healthz endpoint and a "migrate" subcommand that esteira runs as a
// one-off ECS task before it changes the service.
//
//	app            serve HTTP on $PORT (default 8080)
//	app migrate    apply the pending migrations to $DATABASE_URL
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

// version is the release the service reports on /version; the Dockerfile
// sets it from the VERSION file with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	if err := run(context.Background(), os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "app:", err)
		os.Exit(1)
	}
}

// run dispatches on the first argument: no argument serves HTTP, "migrate"
// applies the migrations.
func run(ctx context.Context, args []string, getenv func(string) string, out io.Writer) error {
	if len(args) == 0 || args[0] == "serve" {
		return serve(ctx, getenv)
	}
	switch args[0] {
	case "migrate":
		return migrate(ctx, getenv("DATABASE_URL"), out)
	default:
		return fmt.Errorf("unknown command %q: use no argument to serve or \"migrate\" to apply migrations", args[0])
	}
}

// serve answers HTTP until SIGINT/SIGTERM, then drains for up to 10 seconds
// (ECS sends SIGTERM and waits stopTimeout before SIGKILL).
func serve(ctx context.Context, getenv func(string) string) error {
	port := getenv("PORT")
	if port == "" {
		port = "8080"
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	srv := &http.Server{Addr: ":" + port, Handler: newMux(), ReadHeaderTimeout: 5 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	log.Printf("serving version %s on :%s", version, port)

	select {
	case err := <-errc:
		return fmt.Errorf("listen on :%s: %w", port, err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shut down: %w", err)
	}
	return nil
}

// newMux routes /healthz (the container and target-group health check) and
// /version.
func newMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /version", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, strings.TrimSpace(version))
	})
	return mux
}
