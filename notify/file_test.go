package notify

import (
	"bufio"
	"bytes"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/accordwatch/accordwatch"
)

func TestSendFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nested", "dir", "alerts.jsonl")
	var logs bytes.Buffer
	n, err := New(Options{AlertsFile: path, Channel: "#default", Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if got := n.Mode(); got != ModeFile {
		t.Fatalf("Mode() = %q, want %q", got, ModeFile)
	}

	before := time.Now().UTC().Add(-time.Second)
	sends := []struct {
		alert accordwatch.Alert
		item  accordwatch.Item
	}{
		{accordwatch.Alert{Rule: "state-linked", Channel: "C7"}, normalItem()},
		{accordwatch.Alert{Rule: "everything"}, accordwatch.Item{ID: "bare", Title: "Bare <item>"}},
	}
	for _, s := range sends {
		ref, err := n.Send(t.Context(), s.alert, s.item)
		if err != nil {
			t.Fatalf("Send: %v", err)
		}
		if ref != "" {
			t.Errorf("ref = %q, want empty in file mode", ref)
		}
	}

	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("alerts file: %v", err)
	}
	defer f.Close()
	var got []fileRecord
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var rec fileRecord
		dec := json.NewDecoder(strings.NewReader(sc.Text()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&rec); err != nil {
			t.Fatalf("line %d is not a valid record: %v\n%s", len(got)+1, err, sc.Text())
		}
		if rec.Time.Before(before) || rec.Time.Location() != time.UTC {
			t.Errorf("line %d time = %v, want a recent UTC time", len(got)+1, rec.Time)
		}
		got = append(got, rec)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}

	it := normalItem()
	want := []fileRecord{
		{
			Kind: "incident", Rule: "state-linked", Channel: "C7", ItemID: it.ID, Title: it.Title, Link: it.Link, Severity: 87,
			Signatories: it.Tags.Signatories, States: it.Tags.States, Actors: it.Tags.Actors,
			AttackTypes: it.Tags.AttackTypes, Principles: it.Tags.Principles,
		},
		{
			Kind: "incident", Rule: "everything", Channel: "#default", ItemID: "bare", Title: "Bare <item>",
			Signatories: []string{}, States: []string{}, Actors: []string{},
			AttackTypes: []string{}, Principles: []accordwatch.Principle{},
		},
	}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(fileRecord{}, "Time")); diff != "" {
		t.Errorf("alerts file records (-want +got):\n%s", diff)
	}
	if c := strings.Count(logs.String(), `"msg":"alert"`); c != 2 {
		t.Errorf("logged %d alerts at info, want 2:\n%s", c, logs.String())
	}
}

func TestSendFileUnwritable(t *testing.T) {
	dir := t.TempDir()
	// A regular file where a directory is needed makes MkdirAll fail.
	blocker := filepath.Join(dir, "blocker")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	n, err := New(Options{AlertsFile: filepath.Join(blocker, "alerts.jsonl")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = n.Send(t.Context(), accordwatch.Alert{Rule: "r"}, normalItem())
	se, ok := err.(*SendError)
	if !ok {
		t.Fatalf("error %v, want *SendError", err)
	}
	if se.Code != "file" || se.Permanent {
		t.Errorf("got Code=%q Permanent=%v, want Code=\"file\" transient", se.Code, se.Permanent)
	}
}
