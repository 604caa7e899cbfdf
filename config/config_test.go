package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func fakeChecks() Checks {
	return Checks{
		Query: func(q string) error {
			if strings.Count(q, "(") != strings.Count(q, ")") {
				return errors.New("column 18: expected ')'")
			}
			return nil
		},
		Schedule: func(spec string) error {
			if strings.HasPrefix(spec, "@every ") {
				_, err := time.ParseDuration(strings.TrimPrefix(spec, "@every "))
				return err
			}
			if len(strings.Fields(spec)) != 5 {
				return errors.New("expected 5 fields")
			}
			return nil
		},
	}
}

func noEnv(string) string { return "" }

func TestShippedConfigIsValid(t *testing.T) {
	cfg, err := Load("../config.yaml", Options{Getenv: noEnv, Checks: fakeChecks()})
	if err != nil {
		t.Fatalf("shipped config.yaml: %v", err)
	}
	if got := len(cfg.FeedList()); got < 12 {
		t.Errorf("got %d feeds, want at least 12", got)
	}
	for _, f := range cfg.FeedList() {
		if !strings.HasPrefix(f.URL, "https://") && !strings.HasPrefix(f.URL, "http://") {
			t.Errorf("feed %q: url %q is not http(s)", f.Name, f.URL)
		}
		if f.Schedule == "" {
			t.Errorf("feed %q has no schedule", f.Name)
		}
	}
	if len(cfg.Rules) == 0 {
		t.Error("shipped config has no alert rules")
	}
	if cfg.Slack.BotToken.IsSet() || cfg.Slack.WebhookURL.IsSet() {
		t.Error("shipped config must carry no secrets")
	}
	if !filepath.IsAbs(cfg.DataDir) {
		t.Errorf("data_dir %q not resolved against the config folder", cfg.DataDir)
	}
}

func TestEveryProblemIsReportedWithLineAndField(t *testing.T) {
	_, err := Load("testdata/bad.yaml", Options{Getenv: noEnv, Checks: fakeChecks()})
	var ps Problems
	if !errors.As(err, &ps) {
		t.Fatalf("got %v, want Problems", err)
	}
	want := []string{
		"testdata/bad.yaml:2: timezone: unknown time zone \"Mars/Olympus\"",
		"testdata/bad.yaml:4: fetch.timeout: must be a duration such as 30s or 15m, got \"soon\"",
		"testdata/bad.yaml:5: fetch.concurency: unknown field (did you mean \"concurrency\"?)",
		"testdata/bad.yaml:8: slack.bot_token: secrets never live in the file; set the SLACK_BOT_TOKEN environment variable instead",
		"testdata/bad.yaml:13: feeds[1].url: must be an http(s) URL or a file path, got \"ftp://example.com/feed\"",
		"testdata/bad.yaml:14: feeds[2].name: duplicates feeds[0].name \"Good\"",
		"testdata/bad.yaml:15: feeds[2].url: duplicates feeds[0].url",
		"testdata/bad.yaml:16: feeds[2].schedule: expected 5 fields",
		"testdata/bad.yaml:19: rules[0].query: column 18: expected ')'",
		"testdata/bad.yaml:20: rules[1].name: is required",
		"testdata/bad.yaml:21: rules[1].min_severity: must be between 0 and 100, got 120",
	}
	got := err.Error()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("missing problem %q in:\n%s", w, got)
		}
	}
	if len(ps) != len(want) {
		t.Errorf("got %d problems, want %d:\n%s", len(ps), len(want), got)
	}
}

func TestEnvironmentWinsOverFile(t *testing.T) {
	env := map[string]string{
		"SLACK_BOT_TOKEN":   "xoxb-from-env",
		"SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T/B/X",
		"SLACK_CHANNEL":     "#from-env",
		"SLACK_API_URL":     "http://127.0.0.1:9999/api/",
	}
	cfg, err := Parse([]byte("slack:\n  channel: '#from-file'\n  api_url: https://slack.com/api/\n"), "c.yaml", t.TempDir(), Options{Getenv: func(k string) string { return env[k] }})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Slack.Channel != "#from-env" || cfg.Slack.APIURL != env["SLACK_API_URL"] {
		t.Errorf("got channel %q api %q, want the environment's", cfg.Slack.Channel, cfg.Slack.APIURL)
	}
	if cfg.Slack.BotToken.Reveal() != "xoxb-from-env" || cfg.Slack.WebhookURL.Reveal() != env["SLACK_WEBHOOK_URL"] {
		t.Error("secrets not taken from the environment")
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", "c.yaml: file is empty"},
		{"not a mapping", "- a\n- b\n", "c.yaml:1: top level must be a mapping"},
		{"syntax", "feeds:\n  - name: a\n   url: b\n", "c.yaml:1: did not find expected '-' indicator"},
		{"wrong type", "feeds: yes\n", "c.yaml:1: cannot unmarshal"},
		{"feeds entry not a mapping", "feeds:\n  - https://example.com/feed\n", "c.yaml:2: feeds[0]: must be a mapping"},
		{"missing url", "feeds:\n  - name: x\n", "c.yaml:2: feeds[0].url: is required"},
		{"set twice", "listen: a\nlisten: b\n", "c.yaml:2: listen: set twice"},
		{"bad webhook env", "", ""},
	}
	for _, tt := range tests {
		if tt.want == "" {
			continue
		}
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.in), "c.yaml", t.TempDir(), Options{Getenv: noEnv})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestLocalFeedPathsResolveAgainstConfigFolder(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "c.yaml")
	if err := os.WriteFile(p, []byte("feeds:\n  - url: archive/\n  - url: file:///srv/feeds/x.xml\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(p, Options{Getenv: noEnv})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := cfg.Feeds[0].URL, filepath.Join(dir, "archive"); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got, want := cfg.Feeds[1].URL, "/srv/feeds/x.xml"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func FuzzParse(f *testing.F) {
	seed, _ := os.ReadFile("testdata/bad.yaml")
	f.Add(seed)
	f.Add([]byte("feeds:\n  - url: https://a/b\n"))
	f.Add([]byte("listen: 0.0.0.0:99999\nallowed_hosts: [a.example]\n"))
	f.Add([]byte("feeds:\n  - url: https://a/b\n    headers: {Authorization: 'Bearer ${T}${'}\n"))
	f.Add([]byte("a: &a [x,x,x]\nb: &b [*a,*a,*a]\nfeeds: *b\n"))
	f.Add([]byte("feeds: " + strings.Repeat("[", 500)))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse(data, "f.yaml", "/", Options{Getenv: noEnv})
		if err == nil && cfg == nil {
			t.Fatal("nil config without error")
		}
	})
}

func TestPollingDefaultsAndBounds(t *testing.T) {
	cfg, err := Parse([]byte("slack:\n  channel: '#a'\nfeeds:\n  - url: https://a.example/f\n    min_interval: 1h\n"), "c.yaml", t.TempDir(), Options{Getenv: noEnv})
	if err != nil {
		t.Fatal(err)
	}
	p := cfg.Polling
	if p.MinInterval.Duration != 5*time.Minute || p.MaxInterval.Duration != 24*time.Hour || p.MaxBackoff.Duration != 6*time.Hour || p.PerHost != 2 || p.UnhealthyAfter.Duration != 6*time.Hour {
		t.Errorf("got polling defaults %+v", p)
	}
	if cfg.Slack.OpsChannel != "#a" {
		t.Errorf("ops channel defaults to the alert channel: got %q", cfg.Slack.OpsChannel)
	}
	if f := cfg.FeedList()[0]; f.MinInterval != time.Hour || f.Source != "config" {
		t.Errorf("got feed %+v", f)
	}
	_, err = Parse([]byte("polling:\n  min_interval: 2h\n  max_interval: 1h\n  per_host: 0\n"), "c.yaml", t.TempDir(), Options{Getenv: noEnv})
	if err == nil || !strings.Contains(err.Error(), "min_interval <= max_interval") {
		t.Errorf("got %v, want the interval bounds reported", err)
	}
}
