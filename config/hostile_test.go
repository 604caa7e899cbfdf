package config

import (
	"strings"
	"testing"
)

// TestListenAndHostsAreValidated: check-config once accepted
// listen: 0.0.0.0:99999, which only failed when serve tried to bind.
func TestListenAndHostsAreValidated(t *testing.T) {
	tests := []struct{ yaml, want string }{
		{"listen: 0.0.0.0:99999\n", `c.yaml:1: listen: port must be a number from 0 to 65535, got "99999"`},
		{"listen: 127.0.0.1\n", `c.yaml:1: listen: must be host:port such as 127.0.0.1:8080, got "127.0.0.1"`},
		{"listen: 'bad host!:80'\n", `c.yaml:1: listen: host "bad host!" is neither an IP address nor a host name`},
		{"allowed_hosts:\n  - https://aw.example.org/\n", `c.yaml:2: allowed_hosts[0]: must be a host name without scheme, port or path, got "https://aw.example.org/"`},
	}
	for _, tt := range tests {
		_, err := Parse([]byte(tt.yaml), "c.yaml", t.TempDir(), Options{Getenv: noEnv})
		if err == nil || err.Error() != tt.want {
			t.Errorf("%q: got %v, want %s", tt.yaml, err, tt.want)
		}
	}
	for _, ok := range []string{"listen: 127.0.0.1:0\n", "listen: '[::1]:8080'\n", "listen: localhost:8080\n", "allowed_hosts: [aw.example.org, 10.0.0.5]\n"} {
		if _, err := Parse([]byte(ok), "c.yaml", t.TempDir(), Options{Getenv: noEnv}); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
}

func TestHeaderValuesComeFromTheEnvironment(t *testing.T) {
	env := map[string]string{"FEED_TOKEN": "s3cr3t"}
	getenv := func(k string) string { return env[k] }
	doc := "feeds:\n  - url: https://private.example/feed\n    headers:\n      Authorization: Bearer ${FEED_TOKEN}\n      X-Plain: literal\n"
	cfg, err := Parse([]byte(doc), "c.yaml", t.TempDir(), Options{Getenv: getenv})
	if err != nil {
		t.Fatal(err)
	}
	h := cfg.FeedList()[0].Headers
	if h["Authorization"] != "Bearer s3cr3t" || h["X-Plain"] != "literal" {
		t.Errorf("got headers %v", h)
	}
	_, err = Parse([]byte(strings.ReplaceAll(doc, "FEED_TOKEN", "MISSING_TOKEN")), "c.yaml", t.TempDir(), Options{Getenv: getenv})
	if want := "c.yaml:4: feeds[0].headers.Authorization: environment variable MISSING_TOKEN is not set"; err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
	_, err = Parse([]byte(strings.ReplaceAll(doc, "${FEED_TOKEN}", "${FEED TOKEN}")), "c.yaml", t.TempDir(), Options{Getenv: getenv})
	if err == nil || !strings.Contains(err.Error(), "malformed ${…} reference") {
		t.Errorf("got %v, want a malformed-reference problem", err)
	}
}

func TestWarnings(t *testing.T) {
	tests := []struct {
		yaml string
		env  map[string]string
		want string // substring of one warning; "" = no warnings
	}{
		{"listen: 127.0.0.1:8080\n", nil, ""},
		{"listen: 0.0.0.0:8080\n", nil, "ACCORDWATCH_API_TOKEN is not set"},
		{"listen: 0.0.0.0:8080\n", map[string]string{"ACCORDWATCH_API_TOKEN": "t"}, ""},
		{"slack:\n  api_url: http://slack.internal.example/api/\n", map[string]string{"SLACK_BOT_TOKEN": "xoxb-1"}, "bot token would cross the network in clear"},
		{"slack:\n  api_url: http://127.0.0.1:9000/api/\n", map[string]string{"SLACK_BOT_TOKEN": "xoxb-1"}, ""},
		{"fetch:\n  allow_private_networks: true\n", nil, "allow_private_networks is on"},
	}
	for _, tt := range tests {
		cfg, err := Parse([]byte(tt.yaml), "c.yaml", t.TempDir(), Options{Getenv: func(k string) string { return tt.env[k] }})
		if err != nil {
			t.Fatalf("%q: %v", tt.yaml, err)
		}
		w := strings.Join(cfg.Warnings(), "\n")
		if (tt.want == "") != (w == "") || !strings.Contains(w, tt.want) {
			t.Errorf("%q: got warnings %q, want one containing %q", tt.yaml, w, tt.want)
		}
		if strings.Contains(w, "xoxb-1") {
			t.Errorf("a warning shows the token: %q", w)
		}
	}
}

// TestHostileYAMLIsRefused: the config parser is the last parser of
// untrusted-ish text without limits of its own; yaml's alias and depth
// guards and our size cap must answer with an error, quickly.
func TestHostileYAMLIsRefused(t *testing.T) {
	bomb := "a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\nfeeds: *g\n"
	deep := "feeds: " + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + "\n"
	huge := "# " + strings.Repeat("x", MaxFileSize) + "\n"
	for name, doc := range map[string]string{"alias bomb": bomb, "deep": deep, "huge": huge} {
		if _, err := Parse([]byte(doc), "c.yaml", t.TempDir(), Options{Getenv: noEnv}); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestWatchQueryQuotesLikeTheParser: strconv.Quote once wrote a tab as
// \t, which the query language reads as "t".
func TestWatchQueryQuotesLikeTheParser(t *testing.T) {
	w := Watch{Actors: []string{"Fancy\tBear"}, Keywords: []string{`say "hi"`}}
	if got, want := w.Query(), "actor:\"Fancy\tBear\" OR \"say \\\"hi\\\"\""; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
