package accordwatch

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestRedactURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"https://example.com/feed.xml", "https://example.com/feed.xml"},
		{"https://alice:hunter2@example.com/feed", "https://alice:xxxxx@example.com/feed"},
		{"https://ghp_abc123@example.com/feed", "https://xxxxx@example.com/feed"},
		{"https://example.com/feed?token=s3cr3t&page=2", "https://example.com/feed?page=2&token=xxxxx"},
		{"https://example.com/rss?API-Key=s3cr3t", "https://example.com/rss?API-Key=xxxxx"},
		{"https://example.com/rss?X-Amz-Signature=abc&x=1", "https://example.com/rss?X-Amz-Signature=xxxxx&x=1"},
		{"https://example.com/a?q=ransomware", "https://example.com/a?q=ransomware"},
		{"/var/feeds/local.xml", "/var/feeds/local.xml"},
		{"http://u:p@[::1:bad/x", "http://xxxxx@[::1:bad/x"},
		{"ht tp://u:p@host/x?token=1", "ht tp://xxxxx@host/x?xxxxx"},
	}
	for _, tt := range tests {
		if got := RedactURL(tt.in); got != tt.want {
			t.Errorf("RedactURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestRedactURLNeverKeepsTheSecret attacks the function with secrets in
// every place a URL can hold them.
func TestRedactURLNeverKeepsTheSecret(t *testing.T) {
	const s = "TOPSECRETvalue"
	for _, raw := range []string{
		"https://user:" + s + "@host/feed",
		"https://" + s + "@host/feed",
		"https://host/feed?access_token=" + s,
		"https://host/feed?a=1&password=" + s + "&b=2",
		"https://host/feed?Signature=" + s,
		"ht tp://user:" + s + "@host",
		"https://host/feed?private_token=" + s + "#frag",
	} {
		if got := RedactURL(raw); strings.Contains(got, s) {
			t.Errorf("RedactURL(%q) = %q still holds the secret", raw, got)
		}
	}
}

func TestFeedHealthJSONHidesCredentials(t *testing.T) {
	h := FeedHealth{
		Feed: Feed{Name: "private", URL: "https://alice:TOPSECRET1@feeds.example/x?token=TOPSECRET2",
			Headers: map[string]string{"Authorization": "Bearer TOPSECRET3", "X-Api-Key": "TOPSECRET4"}},
		State: FeedState{URL: "https://alice:TOPSECRET1@feeds.example/x", MovedTo: "https://new.example/x?key=TOPSECRET5"},
	}
	raw, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), "TOPSECRET") {
		t.Errorf("FeedHealth JSON holds a credential: %s", raw)
	}
	for _, want := range []string{`"header_names":["Authorization","X-Api-Key"]`, `"url":"https://alice:xxxxx@feeds.example/x?token=xxxxx"`, `"name":"private"`} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("JSON lacks %s: %s", want, raw)
		}
	}
	// The CLI reads it back from the daemon's API.
	var back FeedHealth
	if err := json.Unmarshal(raw, &back); err != nil || back.Feed.Name != "private" {
		t.Errorf("round trip: %v %+v", err, back)
	}
}

func TestFeedSecretsAndScrub(t *testing.T) {
	got := feedSecrets(map[string]string{"Authorization": "Bearer abc/def+1", "X-Short": "ab"},
		"https://tok3n@h.example/", "https://u:p%40ss@h.example/?key=k+123&page=2", "::not a url")
	msg := scrub("a abc/def+1 b abc%2Fdef%2B1 c tok3n d p@ss e k 123 f k+123 g page=2 h Bearer i ab", got)
	want := "a xxxxx b xxxxx c xxxxx d xxxxx e xxxxx f xxxxx g page=2 h Bearer i ab"
	if msg != want {
		t.Errorf("got %q, want %q (secrets %q)", msg, want, got)
	}
}

func TestFeedHealthRedactedScrubsLastError(t *testing.T) {
	u := "https://alice:TOPSECRET1@feeds.example/x?token=TOPSECRET2"
	h := FeedHealth{
		Feed:  Feed{URL: u, Headers: map[string]string{"Authorization": "Bearer TOPSECRET3"}},
		State: FeedState{LastError: `invalid URL: parse "` + u + `": bad; sent Bearer TOPSECRET3`},
	}
	r := h.Redacted()
	if strings.Contains(r.State.LastError, "TOPSECRET") || r.Feed.Headers["Authorization"] != "xxxxx" {
		t.Errorf("got %+v", r)
	}
	if h.Feed.Headers["Authorization"] != "Bearer TOPSECRET3" {
		t.Error("Redacted changed the original's headers")
	}
}
