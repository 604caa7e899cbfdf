package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// recordingSlack is a Slack Web API that records chat.postMessage and
// chat.update calls and accepts them, answering each post with its own
// ts ("1764000000.<n>" for the n-th post) in the channel with the given
// ID, so replies can be told from parents. With delay > 0 it answers
// after that long, so posts are in flight when a process dies; a client
// that gives up meanwhile gets no answer. Failure modes come from a gate
// (crashSlack's); fakeSlack's 429 and shutdownSlack have their own fakes.
type recordingSlack struct {
	*httptest.Server
	mu      sync.Mutex
	posts   []url.Values
	updates []url.Values
}

func newRecordingSlack(t *testing.T, channelID string, delay time.Duration) *recordingSlack {
	t.Helper()
	return newGatedSlack(t, channelID, func(http.ResponseWriter, *http.Request) (bool, time.Duration) { return false, delay })
}

// slackGate sees each parsed call before it is recorded: it answers the
// call itself (answered), or lets it be recorded and answered after delay.
type slackGate func(w http.ResponseWriter, r *http.Request) (answered bool, delay time.Duration)

func newGatedSlack(t *testing.T, channelID string, gate slackGate) *recordingSlack {
	t.Helper()
	f := &recordingSlack{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		method := strings.TrimPrefix(r.URL.Path, "/api/")
		if method != "chat.postMessage" && method != "chat.update" {
			http.NotFound(w, r)
			return
		}
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		answered, delay := gate(w, r)
		if answered {
			return
		}
		ts := r.PostForm.Get("ts")
		f.mu.Lock()
		if method == "chat.postMessage" {
			f.posts = append(f.posts, r.PostForm)
			ts = fmt.Sprintf("1764000000.%06d", len(f.posts))
		} else {
			f.updates = append(f.updates, r.PostForm)
		}
		f.mu.Unlock()
		if delay > 0 {
			select {
			case <-time.After(delay):
			case <-r.Context().Done():
				return
			}
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"ok":true,"channel":%q,"ts":%q}`, channelID, ts)
	}))
	t.Cleanup(f.Server.Close)
	return f
}

// calls returns copies of the recorded posts and updates.
func (f *recordingSlack) calls() (posts, updates []url.Values) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.posts), slices.Clone(f.updates)
}
