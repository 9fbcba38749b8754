package teststack

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// startupTimeout bounds how long a server may take to answer its first request.
const startupTimeout = 30 * time.Second

// process is a server child process whose output is kept for error messages.
type process struct {
	name   string
	cmd    *exec.Cmd
	output *lockedBuffer
	exited chan struct{}
	err    error // set before exited is closed
}

// startProcess runs bin with args and env added to the environment.
func startProcess(name, bin string, args, env []string) (*process, error) {
	p := &process{name: name, output: &lockedBuffer{}, exited: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout = p.output
	p.cmd.Stderr = p.output
	// Kill the server if the test binary dies without running Main's cleanup.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

// waitHTTP polls url until the server answers with any HTTP status, the
// process exits or the startup deadline passes.
func (p *process) waitHTTP(url string) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(startupTimeout)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			return nil
		}
		if time.Now().After(deadline) {
			p.stop()
			return fmt.Errorf("%s did not answer on %s within %s: %w\n%s", p.name, url, startupTimeout, err, p.output.tail())
		}
		select {
		case <-p.exited:
			return fmt.Errorf("%s exited before answering on %s: %v\n%s", p.name, url, p.err, p.output.tail())
		case <-tick.C:
		}
	}
}

// stop kills the process and waits for it to exit.
func (p *process) stop() {
	select {
	case <-p.exited:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(5 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

// lockedBuffer collects a process's output from its two pipes.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf.Len() > 1<<20 { // keep memory bounded for chatty servers
		return len(p), nil
	}
	return b.buf.Write(p)
}

// tail returns the last lines of output, for error messages.
func (b *lockedBuffer) tail() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	lines := strings.Split(strings.TrimSpace(b.buf.String()), "\n")
	if len(lines) > 20 {
		lines = lines[len(lines)-20:]
	}
	return "output:\n" + strings.Join(lines, "\n")
}
