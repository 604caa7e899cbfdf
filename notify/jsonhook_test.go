package notify

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/accordwatch/accordwatch"
)

const jsonSecret = "json-HMAC-secret-42"

// fakeReceiver is a JSON webhook receiver that records deliveries.
type fakeReceiver struct {
	// statuses are answered in turn; after the last, 200.
	statuses   []int
	retryAfter string

	mu   sync.Mutex
	reqs []delivery
}

type delivery struct {
	header http.Header
	body   []byte
}

func (f *fakeReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/hook/T0K3N" {
		http.NotFound(w, r)
		return
	}
	b, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	i := len(f.reqs)
	f.reqs = append(f.reqs, delivery{header: r.Header.Clone(), body: b})
	f.mu.Unlock()
	if i < len(f.statuses) {
		if f.retryAfter != "" {
			w.Header().Set("Retry-After", f.retryAfter)
		}
		w.WriteHeader(f.statuses[i])
		io.WriteString(w, "receiver says no; "+jsonSecret) // must not be echoed
	}
}

func (f *fakeReceiver) Deliveries() []delivery {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]delivery(nil), f.reqs...)
}

var fixedNow = time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)

// newJSON starts a receiver and a Notifier delivering to it; mutate may add
// Slack options.
func newJSON(t *testing.T, recv *fakeReceiver, mutate func(*Options)) *Notifier {
	t.Helper()
	srv := httptest.NewServer(recv)
	t.Cleanup(srv.Close)
	opts := Options{
		JSONWebhookURL:     accordwatch.Secret(srv.URL + "/hook/T0K3N"),
		JSONWebhookSecret:  jsonSecret,
		HTTPClient:         srv.Client(),
		PerChannelInterval: time.Millisecond,
	}
	if mutate != nil {
		mutate(&opts)
	}
	n, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	n.now = func() time.Time { return fixedNow }
	return n
}

// TestJSONWebhook delivers each kind and checks the signature with
// VerifySignature, as a receiver would; the incident payload is golden.
func TestJSONWebhook(t *testing.T) {
	recv := &fakeReceiver{}
	n := newJSON(t, recv, nil)
	if got := n.Mode(); got != ModeJSON {
		t.Fatalf("Mode() = %q, want %q", got, ModeJSON)
	}
	sends := []struct {
		alert accordwatch.Alert
		item  accordwatch.Item
		kind  string
	}{
		{accordwatch.Alert{ID: "a1", Rule: "state-linked-signatory", Channel: "#alerts", ItemID: "it-normal", IncidentID: "inc1", Sources: 1}, normalItem(), "incident"},
		{accordwatch.Alert{ID: "a2", Kind: accordwatch.KindFollowup, Rule: "state-linked-signatory", IncidentID: "inc1", Sources: 2}, followupItem(), "followup"},
		{summaryAlert(2), accordwatch.Item{}, "summary"},
	}
	for _, s := range sends {
		ref, err := n.Send(t.Context(), s.alert, s.item)
		if err != nil || ref != "" {
			t.Fatalf("Send %s = %q, %v; want \"\", nil", s.kind, ref, err)
		}
	}
	if err := n.UpdateParent(t.Context(), "C/1", sends[0].alert, normalItem(), 2); err != nil {
		t.Errorf("UpdateParent = %v, want nil (Slack only)", err)
	}
	if err := n.NotifyOps(t.Context(), "feed <x> down"); err != nil {
		t.Fatalf("NotifyOps: %v", err)
	}

	ds := recv.Deliveries()
	if len(ds) != 4 {
		t.Fatalf("receiver saw %d deliveries, want 4 (3 alerts, 1 ops; no update)", len(ds))
	}
	for i, d := range ds {
		ts := d.header.Get(TimestampHeader)
		if want := strconv.FormatInt(fixedNow.Unix(), 10); ts != want {
			t.Errorf("delivery %d timestamp = %q, want %q", i, ts, want)
		}
		if ct := d.header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("delivery %d content type = %q", i, ct)
		}
		if err := VerifySignature(jsonSecret, ts, d.body, d.header.Get(SignatureHeader), fixedNow.Add(time.Minute), 0); err != nil {
			t.Errorf("delivery %d: signature does not verify: %v", i, err)
		}
		tampered := bytes.Replace(d.body, []byte(`"kind":"`), []byte(`"kind":"x`), 1)
		if err := VerifySignature(jsonSecret, ts, tampered, d.header.Get(SignatureHeader), fixedNow, 0); !errors.Is(err, ErrBadSignature) {
			t.Errorf("delivery %d: tampered body verified with %v, want ErrBadSignature", i, err)
		}
	}
	var kinds []string
	for _, d := range ds {
		var p struct {
			Kind  string             `json:"kind"`
			Alert *accordwatch.Alert `json:"alert"`
			Item  *accordwatch.Item  `json:"item"`
			Text  string             `json:"text"`
		}
		if err := json.Unmarshal(d.body, &p); err != nil {
			t.Fatalf("payload is not JSON: %v", err)
		}
		kinds = append(kinds, p.Kind)
		switch p.Kind {
		case "summary":
			if p.Item != nil || p.Alert == nil || len(p.Alert.Summary) != 2 {
				t.Errorf("summary payload item=%v alert=%+v, want no item and 2 entries", p.Item, p.Alert)
			}
		case "ops":
			if p.Text != "feed <x> down" {
				t.Errorf("ops text = %q, want the raw text", p.Text)
			}
		case "followup":
			if p.Alert.Kind != "followup" || p.Item == nil || p.Item.Title != followupItem().Title {
				t.Errorf("followup payload = %+v", p)
			}
		}
	}
	if want := []string{"incident", "followup", "summary", "ops"}; !equalStrings(kinds, want) {
		t.Errorf("kinds = %v, want %v", kinds, want)
	}

	var v any
	if err := json.Unmarshal(ds[0].body, &v); err != nil {
		t.Fatal(err)
	}
	golden(t, filepath.Join("testdata", "json_webhook.golden"), v)
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestVerifySignature(t *testing.T) {
	body := []byte(`{"kind":"incident"}`)
	ts := strconv.FormatInt(fixedNow.Unix(), 10)
	good := Sign(jsonSecret, ts, body)
	tests := []struct {
		name    string
		secret  string
		ts      string
		body    []byte
		sig     string
		now     time.Time
		skew    time.Duration
		wantErr error
	}{
		{"valid", jsonSecret, ts, body, good, fixedNow, 0, nil},
		{"valid at the skew edge", jsonSecret, ts, body, good, fixedNow.Add(5 * time.Minute), 0, nil},
		{"stale", jsonSecret, ts, body, good, fixedNow.Add(5*time.Minute + time.Second), 0, ErrStaleTimestamp},
		{"from the future", jsonSecret, ts, body, good, fixedNow.Add(-time.Hour), 0, ErrStaleTimestamp},
		{"custom skew", jsonSecret, ts, body, good, fixedNow.Add(time.Minute), 30 * time.Second, ErrStaleTimestamp},
		{"tampered body", jsonSecret, ts, []byte(`{"kind":"summary"}`), good, fixedNow, 0, ErrBadSignature},
		{"other timestamp", jsonSecret, strconv.FormatInt(fixedNow.Unix()+1, 10), body, good, fixedNow, 0, ErrBadSignature},
		{"wrong secret", "other", ts, body, good, fixedNow, 0, ErrBadSignature},
		{"empty secret", "", ts, body, good, fixedNow, 0, ErrBadSignature},
		{"no prefix", jsonSecret, ts, body, good[len("sha256="):], fixedNow, 0, ErrBadSignature},
		{"not hex", jsonSecret, ts, body, "sha256=zz", fixedNow, 0, ErrBadSignature},
		{"short", jsonSecret, ts, body, "sha256=abcd", fixedNow, 0, ErrBadSignature},
		{"missing", jsonSecret, ts, body, "", fixedNow, 0, ErrBadSignature},
		{"bad timestamp", jsonSecret, "yesterday", body, good, fixedNow, 0, ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := VerifySignature(tt.secret, tt.ts, tt.body, tt.sig, tt.now, tt.skew)
			if (tt.wantErr == nil) != (err == nil) || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) {
				t.Errorf("VerifySignature = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestJSONWebhookErrors(t *testing.T) {
	tests := []struct {
		name           string
		recv           *fakeReceiver
		wantCode       string
		wantPermanent  bool
		wantRetryAfter time.Duration
	}{
		{"429 Retry-After", &fakeReceiver{statuses: []int{429}, retryAfter: "9"}, "http_429", false, 9 * time.Second},
		{"500", &fakeReceiver{statuses: []int{500}}, "http_500", false, 0},
		{"408", &fakeReceiver{statuses: []int{408}}, "http_408", false, 0},
		{"401 bad signature at the receiver", &fakeReceiver{statuses: []int{401}}, "http_401", true, 0},
		{"410 gone", &fakeReceiver{statuses: []int{410}}, "http_410", true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := newJSON(t, tt.recv, nil)
			_, err := n.Send(t.Context(), accordwatch.Alert{ID: "a", Rule: "r"}, normalItem())
			var se *SendError
			if !errors.As(err, &se) {
				t.Fatalf("error %v, want *SendError", err)
			}
			if se.Sink != "json" || se.Code != tt.wantCode || se.Permanent != tt.wantPermanent || se.RetryAfter != tt.wantRetryAfter {
				t.Errorf("got {Sink:%q Code:%q Permanent:%v RetryAfter:%v}, want {Sink:json Code:%q Permanent:%v RetryAfter:%v}",
					se.Sink, se.Code, se.Permanent, se.RetryAfter, tt.wantCode, tt.wantPermanent, tt.wantRetryAfter)
			}
			if got := len(tt.recv.Deliveries()); got != 1 {
				t.Errorf("receiver saw %d deliveries, want 1", got)
			}
		})
	}
}

// TestBothSinks pins the choice for Slack + JSON: Slack first; when JSON
// fails after Slack accepted, the retry of the same alert goes to JSON
// only and returns Slack's ref, so Slack never gets the alert twice.
func TestBothSinks(t *testing.T) {
	fake := &fakeSlack{token: testToken}
	slackSrv := httptest.NewServer(fake)
	t.Cleanup(slackSrv.Close)
	recv := &fakeReceiver{statuses: []int{503}}
	n := newJSON(t, recv, func(o *Options) {
		o.BotToken = testToken
		o.Channel = "#alerts"
		o.APIURL = slackSrv.URL + "/api/"
	})
	if got := n.Mode(); got != ModeBot {
		t.Errorf("Mode() = %q, want %q (JSON is an extra sink)", got, ModeBot)
	}
	a := accordwatch.Alert{ID: "a1", Rule: "r"}

	_, err := n.Send(t.Context(), a, normalItem())
	var se *SendError
	if !errors.As(err, &se) || se.Sink != "json" || se.Permanent {
		t.Fatalf("first Send error = %v, want a transient JSON SendError", err)
	}
	ref, err := n.Send(t.Context(), a, normalItem())
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	if want := "C1/" + okTS; ref != want {
		t.Errorf("retry ref = %q, want Slack's first ref %q", ref, want)
	}
	if got := len(fake.Calls()); got != 1 {
		t.Errorf("Slack saw %d posts, want 1 (the retry must not repost)", got)
	}
	if got := len(recv.Deliveries()); got != 2 {
		t.Errorf("receiver saw %d deliveries, want 2", got)
	}

	// Once both accepted, the same alert ID again is a new delivery (the
	// memory is cleared), and another alert is unaffected.
	if _, err := n.Send(t.Context(), accordwatch.Alert{ID: "a2", Rule: "r"}, normalItem()); err != nil {
		t.Fatal(err)
	}
	if got := len(fake.Calls()); got != 2 {
		t.Errorf("Slack saw %d posts, want 2", got)
	}

}

// TestBothSinksSlackFails: a Slack failure is returned as is and the JSON
// webhook is not tried, so the retry delivers to both exactly once.
func TestBothSinksSlackFails(t *testing.T) {
	fake := &fakeSlack{token: testToken, respond: func(w http.ResponseWriter, _ url.Values) {
		w.WriteHeader(http.StatusInternalServerError)
	}}
	slackSrv := httptest.NewServer(fake)
	t.Cleanup(slackSrv.Close)
	recv := &fakeReceiver{}
	n := newJSON(t, recv, func(o *Options) {
		o.BotToken = testToken
		o.Channel = "#alerts"
		o.APIURL = slackSrv.URL + "/api/"
	})
	_, err := n.Send(t.Context(), accordwatch.Alert{ID: "a1", Rule: "r"}, normalItem())
	var se *SendError
	if !errors.As(err, &se) || se.Sink != "" || se.Code != "http_500" {
		t.Fatalf("error = %v, want Slack's http_500", err)
	}
	if got := len(recv.Deliveries()); got != 0 {
		t.Errorf("receiver saw %d deliveries, want 0", got)
	}
}
