package migration

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
)

// LogsAPI is the part of *cloudwatchlogs.Client the log follower uses.
type LogsAPI interface {
	GetLogEvents(ctx context.Context, params *cloudwatchlogs.GetLogEventsInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.GetLogEventsOutput, error)
}

// maxKeptLines bounds the log kept in memory and in the release record.
const maxKeptLines = 500

// Follower reads one awslogs stream from its head, writing each new line to
// Out as it arrives and keeping the last lines for the release record.
type Follower struct {
	api           LogsAPI
	group, stream string
	out           io.Writer

	mu    sync.Mutex
	token *string
	lines []string
}

// NewFollower returns a follower for stream in group. Lines go to out
// prefixed with "    | ".
func NewFollower(api LogsAPI, group, stream string, out io.Writer) *Follower {
	return &Follower{api: api, group: group, stream: stream, out: out}
}

// Poll reads every event available now. A stream that does not exist yet
// (the task has not started) is not an error.
func (f *Follower) Poll(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for {
		out, err := f.api.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{
			LogGroupName:  aws.String(f.group),
			LogStreamName: aws.String(f.stream),
			StartFromHead: aws.Bool(true),
			NextToken:     f.token,
		})
		var notFound *cwtypes.ResourceNotFoundException
		if errors.As(err, &notFound) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("get log events %s/%s: %w", f.group, f.stream, err)
		}
		for _, e := range out.Events {
			line := aws.ToString(e.Message)
			fmt.Fprintf(f.out, "    | %s\n", line)
			f.lines = append(f.lines, line)
		}
		if len(f.lines) > maxKeptLines {
			f.lines = append([]string(nil), f.lines[len(f.lines)-maxKeptLines:]...)
		}
		next := out.NextForwardToken
		// The end of the stream is reached when the token comes back unchanged.
		done := len(out.Events) == 0 || next == nil || aws.ToString(next) == aws.ToString(f.token)
		if next != nil {
			f.token = next
		}
		if done {
			return nil
		}
	}
}

// Follow polls every interval until ctx is done. Errors are reported once to
// Out and do not stop following: logs are best effort, the exit code decides.
func (f *Follower) Follow(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	warned := false
	for {
		if err := f.Poll(ctx); err != nil && ctx.Err() == nil && !warned {
			fmt.Fprintf(f.out, "    warning: %v (still waiting for the task)\n", err)
			warned = true
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Lines returns a copy of the lines read so far.
func (f *Follower) Lines() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.lines...)
}

// Tail returns the last n lines read so far.
func Tail(lines []string, n int) []string {
	if len(lines) > n {
		return lines[len(lines)-n:]
	}
	return lines
}
