package main

import (
	"fmt"
	"strings"
	"testing"
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
