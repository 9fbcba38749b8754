//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestEngineOverTCP proves that a CI agent can reach a shared engine over
// TCP (README: Many CI agents, one engine): the engine here listens only on
// its unix socket, so the test puts a TCP listener on 127.0.0.1 in front of
// it, points the dagger CLI at it with _EXPERIMENTAL_DAGGER_RUNNER_HOST=tcp://,
// runs one real call, and checks the call's traffic went through the bridge.
//
// It needs the engine's socket (ESTEIRA_ENGINE_SOCKET) and a dagger CLI that
// honours the variable (ESTEIRA_DAGGER_CLI; the ../shared wrapper in $DAGGER
// sets its own): make e2e passes both for the offline engine.
func TestEngineOverTCP(t *testing.T) {
	socket := os.Getenv("ESTEIRA_ENGINE_SOCKET")
	if socket == "" {
		t.Skip("ESTEIRA_ENGINE_SOCKET is not set: the engine's unix socket is not known (make e2e sets it for the " +
			"engine in ../shared/dagger/engine; with an engine of your own, set it to that engine's socket and " +
			"ESTEIRA_DAGGER_CLI to the dagger binary)")
	}
	if info, err := os.Stat(socket); err != nil || info.Mode()&os.ModeSocket == 0 {
		t.Fatalf("ESTEIRA_ENGINE_SOCKET=%s is not a unix socket (%v): is the engine running?", socket, err)
	}
	cli := os.Getenv("ESTEIRA_DAGGER_CLI")
	if cli == "" {
		cli = "dagger"
	}

	bridge := startBridge(t, socket)
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, cli, "--progress", "plain", "call", "build", "--source", "./examples/backend", "sync")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "_EXPERIMENTAL_DAGGER_RUNNER_HOST=tcp://"+bridge.addr(),
		"DO_NOT_TRACK=1", "DAGGER_NO_NAG=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("dagger call build through tcp://%s: %v\n--- stdout\n%s\n--- stderr (tail)\n%s",
			bridge.addr(), err, stdout.String(), tail(stderr.String(), 40))
	}

	conns, up, down := bridge.conns.Load(), bridge.up.Load(), bridge.down.Load()
	t.Logf("through tcp://%s: %d connections, %d bytes to the engine, %d bytes back", bridge.addr(), conns, up, down)
	if conns == 0 {
		t.Fatalf("the call succeeded but never connected to tcp://%s: it reached the engine another way", bridge.addr())
	}
	// A session's handshake alone is a few kilobytes; a module call uploads
	// the source and streams progress back.
	if up < 4096 || down < 4096 {
		t.Fatalf("only %d bytes to the engine and %d back went through the bridge: the call did not run there", up, down)
	}
}

// tcpBridge accepts TCP connections on 127.0.0.1 and copies each, both ways,
// to a new connection to a unix socket, counting what it carries.
type tcpBridge struct {
	ln        net.Listener
	socket    string
	conns     atomic.Int64
	up, down  atomic.Int64 // bytes to the socket, bytes from it
	wg        sync.WaitGroup
	mu        sync.Mutex
	openConns []net.Conn
}

func startBridge(t *testing.T, socket string) *tcpBridge {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen on 127.0.0.1: %v", err)
	}
	b := &tcpBridge{ln: ln, socket: socket}
	b.wg.Add(1)
	go b.serve(t)
	t.Cleanup(b.close)
	return b
}

func (b *tcpBridge) addr() string { return b.ln.Addr().String() }

func (b *tcpBridge) serve(t *testing.T) {
	defer b.wg.Done()
	for {
		client, err := b.ln.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				t.Errorf("bridge: accept: %v", err)
			}
			return
		}
		engine, err := net.Dial("unix", b.socket)
		if err != nil {
			t.Errorf("bridge: dial the engine at %s: %v", b.socket, err)
			client.Close()
			continue
		}
		b.conns.Add(1)
		b.track(client, engine)
		b.wg.Add(2)
		go b.pipe(engine, client, &b.up)
		go b.pipe(client, engine, &b.down)
	}
}

// pipe copies src to dst until either side ends, then closes dst's write
// side so the other direction sees the end too.
func (b *tcpBridge) pipe(dst, src net.Conn, counter *atomic.Int64) {
	defer b.wg.Done()
	_, _ = io.Copy(countingWriter{dst, counter}, src)
	if cw, ok := dst.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
	} else {
		_ = dst.Close()
	}
}

func (b *tcpBridge) track(conns ...net.Conn) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.openConns = append(b.openConns, conns...)
}

func (b *tcpBridge) close() {
	_ = b.ln.Close()
	b.mu.Lock()
	for _, c := range b.openConns {
		_ = c.Close()
	}
	b.mu.Unlock()
	b.wg.Wait()
}

type countingWriter struct {
	w io.Writer
	n *atomic.Int64
}

func (c countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n.Add(int64(n))
	return n, err
}
