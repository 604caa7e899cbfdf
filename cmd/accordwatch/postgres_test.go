package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/accordwatch/accordwatch"
	"github.com/accordwatch/accordwatch/internal/pgtest"
	"github.com/accordwatch/accordwatch/pgstore"
)

// TestRunOnceOnPostgreSQL runs passes against local feed files with
// ACCORDWATCH_DATABASE_URL set: the items, feed state and outbox land in
// PostgreSQL (nothing in a bbolt file), a second pass alerts nothing, and a
// fresh data dir — a new replica — builds its index from the database and
// alerts nothing either.
func TestRunOnceOnPostgreSQL(t *testing.T) {
	// The cluster trusts loopback, so the password is ignored by the
	// server; it is there to prove it never reaches the output.
	const password = "pw-n3ver-printed"
	dbURL := strings.Replace(pgtest.Database(t), "postgres@", "postgres:"+password+"@", 1)
	env := map[string]string{envDatabaseURL: dbURL}

	dir := t.TempDir()
	if err := os.Symlink(mustAbs(t, "testdata"), filepath.Join(dir, "testdata")); err != nil {
		t.Fatal(err)
	}
	cfg := writeConfig(t, dir, `data_dir: data
timezone: UTC
feeds:
  - name: Test Newsroom
    url: testdata/news.rss
  - name: Test Research
    url: testdata/research.atom
rules:
  - name: state-linked
    query: state_linked:true
`)
	var output bytes.Buffer
	pass := func(name string, args ...string) string {
		t.Helper()
		code, out, errOut := run(t, env, "", args...)
		output.WriteString(out + errOut)
		if code != 0 {
			t.Fatalf("%s: exit %d\nstdout:\n%s\nstderr:\n%s", name, code, out, errOut)
		}
		return out + errOut
	}
	alertLines := func(dataDir string) int {
		raw, _ := os.ReadFile(filepath.Join(dir, dataDir, alertsFile))
		return bytes.Count(raw, []byte("\n"))
	}

	pass("first pass", "run", "--once", "--config", cfg)
	if _, err := os.Stat(filepath.Join(dir, "data", storeFile)); err == nil {
		t.Error("a bbolt store was created although the database was set")
	}
	first := alertLines("data")
	if first == 0 {
		t.Fatal("the first pass alerted nothing")
	}

	st, err := pgstore.Open(t.Context(), accordwatch.Secret(dbURL), pgstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	n, err := st.CountItems()
	if err != nil || n == 0 {
		t.Fatalf("items in PostgreSQL: %d, %v; want some", n, err)
	}
	alerts, _ := st.Alerts()
	if len(alerts) != first {
		t.Errorf("outbox in PostgreSQL: %d alerts, want the %d alerted", len(alerts), first)
	}
	if states, _ := st.FeedStates(); len(states) != 2 {
		t.Errorf("feed states in PostgreSQL: got %d, want 2", len(states))
	}

	// The feeds were just polled, by the shared record: a pass takes
	// feed leases like serve's replicas and leaves them until due.
	if out := pass("second pass", "run", "--once", "--config", cfg); strings.Count(out, "skipped: leased or not due") != 2 {
		t.Errorf("second pass polled feeds that are not due by the database:\n%s", out)
	}
	if got := alertLines("data"); got != first {
		t.Errorf("second pass: %d alerts in all, want still %d", got, first)
	}
	if n2, _ := st.CountItems(); n2 != n {
		t.Errorf("second pass: %d items, want still %d", n2, n)
	}

	// A new replica: its own empty data dir, the same database.
	out := pass("new replica", "run", "--once", "--config", cfg, "--data-dir", filepath.Join(dir, "replica"))
	if !strings.Contains(out, "rebuilding it from the store") {
		t.Errorf("the new replica did not build its index from the database:\n%s", out)
	}
	if got := alertLines("replica"); got != 0 {
		t.Errorf("the new replica alerted %d times, want 0", got)
	}
	if got := searchJSON(t, env, "--config", cfg, "--data-dir", filepath.Join(dir, "replica"), "state_linked:true"); got.Total != uint64(first) {
		t.Errorf("search on the new replica: %d state-linked items, want %d", got.Total, first)
	}

	// The feed list reads the database's feed state.
	if out := pass("feeds", "feeds", "--config", cfg, "--data-dir", filepath.Join(dir, "fresh")); !strings.Contains(out, "2 feeds, 0 failing") {
		t.Errorf("feeds on a fresh data dir did not show the database's state:\n%s", out)
	}
	if out := pass("migrate --status", "migrate", "--status"); !strings.Contains(out, "0001") || !strings.Contains(out, "0 pending") {
		t.Errorf("migrate --status:\n%s", out)
	}
	if strings.Contains(output.String(), password) {
		t.Error("the database password reached the output")
	}
}

func TestMigrateNeedsTheDatabaseURL(t *testing.T) {
	code, _, errOut := run(t, nil, "", "migrate", "--status")
	if code == 0 || !strings.Contains(errOut, envDatabaseURL) {
		t.Errorf("migrate without a database: exit %d, stderr %q; want an error naming %s", code, errOut, envDatabaseURL)
	}
}

func TestBadDatabaseURLIsRedacted(t *testing.T) {
	const password = "pw-n3ver-printed"
	dir := t.TempDir()
	cfg := writeConfig(t, dir, "data_dir: data\nfeeds:\n  - name: x\n    url: testdata/news.rss\n")
	env := map[string]string{envDatabaseURL: "postgres://u:" + password + "@127.0.0.1:1/db?connect_timeout=2"}
	code, out, errOut := run(t, env, "", "run", "--once", "--config", cfg)
	if code == 0 {
		t.Fatal("run --once with an unreachable database succeeded")
	}
	if strings.Contains(out+errOut, password) {
		t.Errorf("the password was printed:\n%s%s", out, errOut)
	}
}
