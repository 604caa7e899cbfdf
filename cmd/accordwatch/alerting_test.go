package main

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestSilenceLifecycleWithoutDaemon(t *testing.T) {
	cfg := writeConfig(t, t.TempDir(), "data_dir: data\n")
	code, _, errOut := run(t, nil, "", "silence", "add", "state:russia AND (", "--reason", "x", "--config", cfg)
	if code == 0 || !strings.Contains(errOut, "column") {
		t.Errorf("bad query: exit %d, %q", code, errOut)
	}
	code, _, errOut = run(t, nil, "", "silence", "add", "actor:apt28", "--config", cfg)
	if code == 0 || !strings.Contains(errOut, "--reason is required") {
		t.Errorf("no reason: exit %d, %q", code, errOut)
	}
	code, out, errOut := run(t, nil, "", "silence", "add", "actor:apt28", "--for", "2h", "--reason", "known campaign, tracked in TICKET-1", "--config", cfg)
	if code != 0 || !strings.Contains(out, `"actor:apt28" muted until`) {
		t.Fatalf("add: exit %d\n%s%s", code, out, errOut)
	}
	var id string
	fmt.Sscanf(out, "silence %8s", &id)
	code, out, _ = run(t, nil, "", "silence", "list", "--config", cfg)
	if code != 0 || !strings.Contains(out, id) || !strings.Contains(out, "active") || !strings.Contains(out, "TICKET-1") {
		t.Errorf("list: exit %d\n%s", code, out)
	}
	code, out, _ = run(t, nil, "", "silence", "expire", id, "--config", cfg)
	if code != 0 || !strings.Contains(out, "expired") {
		t.Errorf("expire: exit %d\n%s", code, out)
	}
	code, out, _ = run(t, nil, "", "silence", "list", "--config", cfg)
	if code != 0 || !strings.Contains(out, "no active silences") {
		t.Errorf("list after expiry: exit %d\n%s", code, out)
	}
	code, out, _ = run(t, nil, "", "silence", "list", "--all", "--config", cfg)
	if !strings.Contains(out, "expired") {
		t.Errorf("list --all: %s", out)
	}
	code, _, errOut = run(t, nil, "", "silence", "expire", "nope", "--config", cfg)
	if code == 0 || !strings.Contains(errOut, `no silence "nope"`) {
		t.Errorf("unknown id: exit %d, %q", code, errOut)
	}
}

func TestRulesTestBackTestsOverTheIndex(t *testing.T) {
	feedsSrv := feedServer(t)
	cfg := writeConfig(t, t.TempDir(), fmt.Sprintf(`data_dir: data
fetch:
  allow_private_networks: true # the test's feeds are on loopback
feeds:
  - name: News
    url: %s/news.rss
rules:
  - name: china
    query: state:china
    channel: "#china"
    rate_cap: 3
watch:
  - channel: "#oracle"
    signatories: [Oracle]
`, feedsSrv.URL))
	if code, out, errOut := run(t, nil, "", "run", "--once", "--config", cfg); code != 0 {
		t.Fatalf("run: %s%s", out, errOut)
	}
	code, out, errOut := run(t, nil, "", "rules", "test", "china", "--since", "3650d", "--config", cfg)
	if code != 0 || !strings.Contains(out, "1 matching items would have alerted #china") || !strings.Contains(out, "Cisco devices hijacked") || !strings.Contains(out, "rate cap 3/hour") {
		t.Errorf("rules test: exit %d\n%s%s", code, out, errOut)
	}
	code, out, _ = run(t, nil, "", "rules", "test", "watch #oracle", "--since", "3650d", "--config", cfg)
	if code != 0 || !strings.Contains(out, "Oracle ships quarterly patch") {
		t.Errorf("watch-list back-test: exit %d\n%s", code, out)
	}
	code, _, errOut = run(t, nil, "", "rules", "test", "nope", "--config", cfg)
	if code == 0 || !strings.Contains(errOut, "rules are: china, watch #oracle") {
		t.Errorf("unknown rule: exit %d, %q", code, errOut)
	}
	code, out, _ = run(t, nil, "", "rules", "--config", cfg)
	if code != 0 || !strings.Contains(out, "watch #oracle") || !strings.Contains(out, `signatory:"Oracle"`) {
		t.Errorf("rules list:\n%s", out)
	}
}

// TestSilenceAndRateCapOverSlack runs the whole binary against the fake
// Slack Web API: a silenced story is recorded but never posted, and
// incidents beyond a rule's hourly cap arrive as one summary message.
func TestSilenceAndRateCapOverSlack(t *testing.T) {
	feedsSrv := feedServer(t)
	slack := newFakeSlack(t)
	slack.limitNow = false
	cfg := writeConfig(t, t.TempDir(), fmt.Sprintf(`data_dir: data
fetch:
  allow_private_networks: true # the test's feeds are on loopback
feeds:
  - name: News
    url: %[1]s/news.rss
  - name: Research
    url: %[1]s/research.atom
rules:
  - name: everything
    query: severity:>=0
    rate_cap: 2
`, feedsSrv.URL))
	env := map[string]string{"SLACK_BOT_TOKEN": "xoxb-test-token", "SLACK_API_URL": slack.URL + "/api/", "SLACK_CHANNEL": "#all"}
	if code, out, errOut := run(t, env, "", "silence", "add", "signatory:oracle", "--for", "1h", "--reason", "patch day noise", "--config", cfg); code != 0 {
		t.Fatalf("silence add: %s%s", out, errOut)
	}
	if code, out, errOut := run(t, env, "", "run", "--once", "--config", cfg); code != 0 {
		t.Fatalf("run: %s%s", out, errOut)
	}
	posts := slack.snapshot()
	var texts []string
	summaries := 0
	for _, p := range posts {
		texts = append(texts, p.Get("text"))
		if strings.Contains(p.Get("text"), "held back by the rate cap") || strings.Contains(p.Get("blocks"), "held back by the rate cap") {
			summaries++
		}
	}
	all := strings.Join(texts, "\n")
	if strings.Contains(all, "Oracle ships quarterly patch") {
		t.Errorf("a silenced item was posted:\n%s", all)
	}
	// Five stories, one silenced: two incident messages under the cap of
	// two, the other two in one summary.
	if len(posts) != 3 || summaries != 1 {
		t.Errorf("got %d posts (%d summaries), want 2 incident messages + 1 summary:\n%s", len(posts), summaries, all)
	}
}

// TestSilenceThroughRunningServe drives the silence commands while serve
// owns the store, so they go through its API.
func TestSilenceThroughRunningServe(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, "data_dir: data\nlisten: 127.0.0.1:0\nfeeds:\n  - url: "+dir+"/none.xml\n")
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan int)
	go func() {
		done <- Main(ctx, []string{"serve", "--config", cfg}, strings.NewReader(""), &bytes.Buffer{}, &bytes.Buffer{}, func(string) string { return "" })
	}()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if o, ok := readOwner(filepath.Join(dir, "data")); ok && o.Listen != "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("serve did not start")
		}
		time.Sleep(20 * time.Millisecond)
	}
	code, out, errOut := run(t, nil, "", "silence", "add", "state:china", "--for", "1h", "--reason", "drill", "--config", cfg)
	if code != 0 {
		t.Fatalf("add via serve: %s%s", out, errOut)
	}
	var id string
	fmt.Sscanf(out, "silence %8s", &id)
	if code, out, _ = run(t, nil, "", "silence", "list", "--config", cfg); code != 0 || !strings.Contains(out, id) {
		t.Errorf("list via serve: exit %d\n%s", code, out)
	}
	code, _, errOut = run(t, nil, "", "silence", "expire", "nope", "--config", cfg)
	if code == 0 || !strings.Contains(errOut, `no silence "nope"`) {
		t.Errorf("unknown id via serve: exit %d, %q", code, errOut)
	}
	if code, out, _ = run(t, nil, "", "silence", "expire", id, "--config", cfg); code != 0 || !strings.Contains(out, "expired") {
		t.Errorf("expire via serve: exit %d\n%s", code, out)
	}
}
