package notify

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/slack-go/slack/slacktest"

	"github.com/accordwatch/accordwatch"
)

// TestRunSocketModeReturnsAfterItsAnswers cancels RunSocketMode while a
// slash command is being answered by a search that takes a moment to
// notice: RunSocketMode must return only once that search is over, since
// its caller closes the index right after. The cancellation is logged at
// debug, not as a failed search.
func TestRunSocketModeReturnsAfterItsAnswers(t *testing.T) {
	const envelope = `{"type":"slash_commands","envelope_id":"env-1","accepts_response_payload":true,` +
		`"payload":{"command":"/accord","text":"state:russia","user_id":"U1","channel_id":"C1","response_url":"https://hooks.slack.com/commands/T/1/x"}}`
	srv := slacktest.NewTestServer(func(c slacktest.Customize) {
		c.Handle("/ws", slacktest.Websocket(func(conn *websocket.Conn) {
			for _, m := range []string{`{"type":"hello","num_connections":1}`, envelope} {
				if err := conn.WriteMessage(websocket.TextMessage, []byte(m)); err != nil {
					return
				}
			}
			for {
				if _, _, err := conn.ReadMessage(); err != nil {
					return // the client closed the connection
				}
			}
		}))
	})
	srv.Start()
	t.Cleanup(srv.Stop)

	searching := make(chan struct{})
	var once sync.Once
	var finished atomic.Bool
	s := &fakeSearcher{fn: func(ctx context.Context, _ accordwatch.SearchRequest) (accordwatch.SearchResult, error) {
		once.Do(func() { close(searching) })
		<-ctx.Done()
		// A search that notices cancellation late (bleve checks between
		// segments): what RunSocketMode must wait for.
		<-time.After(300 * time.Millisecond)
		finished.Store(true)
		return accordwatch.SearchResult{}, ctx.Err()
	}}
	var logs syncBuffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- RunSocketMode(ctx, "xapp-1-test", "xoxb-test", srv.GetAPIURL(), s, log) }()
	select {
	case <-searching:
	case err := <-errc:
		t.Fatalf("RunSocketMode returned before the command arrived: %v", err)
	case <-time.After(30 * time.Second): // a hang guard, not a timing assertion
		t.Fatal("the slash command never reached the searcher")
	}

	cancel()
	select {
	case err := <-errc:
		if err != nil {
			t.Errorf("RunSocketMode = %v after cancel, want nil", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("RunSocketMode did not return after cancel")
	}
	if !finished.Load() {
		t.Error("RunSocketMode returned while a slash command was still searching, want it to wait for the answer")
	}
	if out := logs.String(); strings.Contains(out, "level=ERROR") || !strings.Contains(out, "slash search cancelled") {
		t.Errorf("want the cancelled search logged at debug and no error line; log:\n%s", out)
	}
}

// syncBuffer is a bytes.Buffer safe for the logger's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
