// Package notify posts a release's outcome to a webhook: a JSON body with a
// Slack-compatible "text" line and the whole release result. A failing
// webhook never fails a release; the caller reports it. The webhook URL is
// a secret (it carries the token): no error here ever contains it.
package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// Timeout bounds one notification; a slow webhook must not hold a release.
const Timeout = 10 * time.Second

// Message is what is posted.
type Message struct {
	Text    string `json:"text"` // one line, shown by Slack and compatible webhooks
	Release any    `json:"release"`
}

// Post sends msg to webhook. Its error names the status or the failure,
// never the URL.
func Post(ctx context.Context, webhook string, msg Message) error {
	u, err := url.Parse(webhook)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return errors.New("the webhook is not an http(s) URL")
	}
	body, err := json.Marshal(msg)
	if err != nil {
		return fmt.Errorf("encode the notification: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, webhook, bytes.NewReader(body))
	if err != nil {
		return errors.New("the webhook URL cannot be requested")
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err // url.Error quotes the URL, which holds the token
		}
		return fmt.Errorf("post to the webhook (host %s): %v", u.Hostname(), err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("the webhook (host %s) answered HTTP %d", u.Hostname(), resp.StatusCode)
	}
	return nil
}
