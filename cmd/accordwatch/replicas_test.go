package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/accordwatch/accordwatch"
	"github.com/accordwatch/accordwatch/internal/pgtest"
	"github.com/accordwatch/accordwatch/pgstore"
)

func TestIndexPosRoundTrip(t *testing.T) {
	tests := []struct {
		name  string
		write string // file content; "" = no file
		want  int64
	}{
		{"no file", "", 0},
		{"saved", "1234\n", 1234},
		{"garbage", "12ab", 0},
		{"negative", "-5", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if tt.write != "" {
				if err := os.WriteFile(filepath.Join(dir, indexPosFile), []byte(tt.write), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if got := readIndexPos(dir); got != tt.want {
				t.Errorf("got %d, want %d", got, tt.want)
			}
			if err := writeIndexPos(dir, 99); err != nil {
				t.Fatal(err)
			}
			if got := readIndexPos(dir); got != 99 {
				t.Errorf("after saving 99: got %d", got)
			}
			if left, _ := filepath.Glob(filepath.Join(dir, indexPosFile+".*")); len(left) != 0 {
				t.Errorf("temporary files left: %v", left)
			}
		})
	}
}

// countingFeeds serves the feed fixtures and counts the requests of each.
type countingFeeds struct {
	*httptest.Server
	mu   sync.Mutex
	hits map[string]int
}

func newCountingFeeds(t *testing.T) *countingFeeds {
	t.Helper()
	inner := feedServer(t)
	c := &countingFeeds{hits: map[string]int{}}
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		c.hits[r.URL.Path]++
		c.mu.Unlock()
		inner.Config.Handler.ServeHTTP(w, r)
	}))
	t.Cleanup(c.Server.Close)
	return c
}

// TestTwoServeReplicasShareOneDatabase starts two serve processes (two
// data dirs, one database): each feed is fetched by one of them, each
// alert posted once, and both find every item in their own index.
func TestTwoServeReplicasShareOneDatabase(t *testing.T) {
	dbURL := pgtest.Database(t)
	feedsSrv := newCountingFeeds(t)
	slack := newFakeSlack(t)
	env := map[string]string{
		envDatabaseURL:    dbURL,
		"SLACK_BOT_TOKEN": "xoxb-test-token",
		"SLACK_API_URL":   slack.URL + "/api/",
		"SLACK_CHANNEL":   "#accord-alerts",
	}
	getenv := func(k string) string { return env[k] }
	ctx, cancel := context.WithCancel(t.Context())
	type replica struct {
		cfg, dataDir string
		log          *syncWriter
		done         chan int
	}
	var reps []*replica
	for i := range 2 {
		dir := t.TempDir()
		r := &replica{dataDir: filepath.Join(dir, "data"), log: &syncWriter{}, done: make(chan int, 1)}
		r.cfg = writeConfig(t, dir, fmt.Sprintf(`data_dir: data
listen: 127.0.0.1:0
timezone: UTC
fetch:
  allow_private_networks: true
feeds:
  - name: Test Newsroom
    url: %[1]s/news.rss
  - name: Test Research
    url: %[1]s/research.atom
rules:
  - name: state-linked
    query: state_linked:true
`, feedsSrv.URL))
		go func() {
			r.done <- Main(ctx, []string{"serve", "--config", r.cfg}, strings.NewReader(""), &bytes.Buffer{}, r.log, getenv)
		}()
		reps = append(reps, r)
		t.Logf("replica %d in %s", i, dir)
	}
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		for i, r := range reps {
			select {
			case code := <-r.done:
				if code != 0 {
					t.Errorf("replica %d exited %d:\n%s", i, code, r.log)
				}
			case <-time.After(60 * time.Second):
				t.Errorf("replica %d did not stop", i)
			}
		}
	}
	defer stop()

	st, err := pgstore.Open(t.Context(), accordwatch.Secret(dbURL), pgstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	// Every item found on both replicas (one fetched each feed, the other
	// learned its items from the database), and every alert delivered.
	// New feeds are first due within 10s of a start.
	deadline := time.Now().Add(90 * time.Second)
	for _, q := range []string{"state:russia", "Lazarus"} {
		for i, r := range reps {
			for {
				o, ok := readOwner(r.dataDir)
				if ok && o.Listen != "" && !strings.HasSuffix(o.Listen, ":0") && searchJSON(t, env, "--config", r.cfg, q).Total >= 1 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("replica %d never found %q; its log:\n%s", i, q, r.log)
				}
				time.Sleep(100 * time.Millisecond)
			}
		}
	}
	for {
		alerts, err := st.Alerts()
		if err != nil {
			t.Fatal(err)
		}
		sent := 0
		for _, a := range alerts {
			if a.Status == accordwatch.AlertSent {
				sent++
			}
		}
		if len(alerts) > 0 && sent == len(alerts) {
			if posts := slack.snapshot(); len(posts) != len(alerts) {
				t.Errorf("got %d messages posted for %d alerts, want one each", len(posts), len(alerts))
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d alerts sent; logs:\n%s\n---\n%s", sent, len(alerts), reps[0].log, reps[1].log)
		}
		time.Sleep(100 * time.Millisecond)
	}
	stop()
	feedsSrv.mu.Lock()
	defer feedsSrv.mu.Unlock()
	for _, path := range []string{"/news.rss", "/research.atom"} {
		if n := feedsSrv.hits[path]; n != 1 {
			t.Errorf("%s: fetched %d times by the two replicas, want once", path, n)
		}
	}
	for i, r := range reps {
		if strings.Contains(r.log.String(), "postgres://") {
			t.Errorf("replica %d logged the database URL", i)
		}
	}
}

// syncWriter lets a replica's log be written by its goroutines and read
// by the test.
type syncWriter struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncWriter) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
