package notify

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/accordwatch/accordwatch"
)

// handlerTransport calls a handler in memory: a real TCP server inside a
// synctest bubble keeps synctest.Wait from ever returning.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r.Clone(r.Context()))
	return rec.Result(), nil
}

// TestPerChannelSpacing runs on synctest's fake clock: the times below are
// exact and involve no real waiting.
func TestPerChannelSpacing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		var mu sync.Mutex
		at := map[string][]time.Duration{}
		fake := &fakeSlack{token: testToken, respond: func(w http.ResponseWriter, form url.Values) {
			mu.Lock()
			at[form.Get("channel")] = append(at[form.Get("channel")], time.Since(start))
			mu.Unlock()
			fmt.Fprintf(w, `{"ok":true,"channel":%q,"ts":"1.2"}`, form.Get("channel"))
		}}
		const interval = time.Second
		n, err := New(Options{
			BotToken:           testToken,
			Channel:            "C1",
			APIURL:             "http://slack.invalid/api/",
			HTTPClient:         &http.Client{Transport: handlerTransport{fake}},
			PerChannelInterval: interval,
		})
		if err != nil {
			t.Fatal(err)
		}

		var wg sync.WaitGroup
		refs := make(chan string, 5)
		for _, ch := range []string{"C1", "C1", "C1", "C2", ""} { // "" = default C1
			wg.Go(func() {
				ref, err := n.Send(t.Context(), accordwatch.Alert{Rule: "r", Channel: ch}, normalItem())
				if err != nil {
					t.Errorf("Send to %q: %v", ch, err)
				}
				refs <- ref
			})
		}
		wg.Wait()
		close(refs)

		var gotRefs []string
		for r := range refs {
			gotRefs = append(gotRefs, r)
		}
		slices.Sort(gotRefs)
		if want := []string{"C1/1.2", "C1/1.2", "C1/1.2", "C1/1.2", "C2/1.2"}; !slices.Equal(gotRefs, want) {
			t.Errorf("refs = %v, want %v", gotRefs, want)
		}
		c1 := slices.Sorted(slices.Values(at["C1"]))
		if want := []time.Duration{0, interval, 2 * interval, 3 * interval}; !slices.Equal(c1, want) {
			t.Errorf("C1 posted at %v, want %v (one per interval)", c1, want)
		}
		// Another channel is not held up by C1's queue.
		if want := []time.Duration{0}; !slices.Equal(at["C2"], want) {
			t.Errorf("C2 posted at %v, want %v", at["C2"], want)
		}
	})
}

// TestLimiterHonoursContext: a Send whose deadline comes before its turn
// returns at once without posting.
func TestLimiterHonoursContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fake := &fakeSlack{token: testToken}
		n, err := New(Options{
			BotToken:           testToken,
			Channel:            "C1",
			APIURL:             "http://slack.invalid/api/",
			HTTPClient:         &http.Client{Transport: handlerTransport{fake}},
			PerChannelInterval: time.Minute,
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := n.Send(t.Context(), accordwatch.Alert{Rule: "r"}, normalItem()); err != nil {
			t.Fatalf("first Send: %v", err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		start := time.Now()
		_, err = n.Send(ctx, accordwatch.Alert{Rule: "r"}, normalItem())
		var se *SendError
		if !errors.As(err, &se) || se.Code != "canceled" || se.Permanent {
			t.Fatalf("error %v, want a transient *SendError with Code canceled", err)
		}
		if waited := time.Since(start); waited > time.Second {
			t.Errorf("waited %v on the fake clock, want at most the 1s deadline", waited)
		}
		if got := len(fake.Posts()); got != 1 {
			t.Errorf("server saw %d posts, want 1", got)
		}
	})
}

func TestChannelNameAndIDShareOneLimiter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var at []time.Duration
		start := time.Now()
		fake := &fakeSlack{token: testToken, respond: func(w http.ResponseWriter, form url.Values) {
			mu.Lock()
			at = append(at, time.Since(start))
			mu.Unlock()
			fmt.Fprint(w, `{"ok":true,"channel":"C0ALERTS","ts":"1.1"}`)
		}}
		n, err := New(Options{BotToken: testToken, Channel: "#alerts", APIURL: "http://slack.invalid/api/",
			HTTPClient: &http.Client{Transport: handlerTransport{fake}}, PerChannelInterval: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		it := normalItem()
		if _, err := n.Send(t.Context(), accordwatch.Alert{ID: "a1"}, it); err != nil {
			t.Fatal(err)
		}
		// A follow-up addressed by the channel ID Slack returned must wait
		// for the same per-channel spacing as posts to "#alerts".
		if _, err := n.Send(t.Context(), accordwatch.Alert{ID: "a2", Kind: accordwatch.KindFollowup, ThreadRef: "C0ALERTS/1.1"}, it); err != nil {
			t.Fatal(err)
		}
		if len(at) != 2 || at[1]-at[0] < time.Second {
			t.Errorf("posts at %v, want the second at least 1s after the first", at)
		}
	})
}
