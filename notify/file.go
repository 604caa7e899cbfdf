package notify

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/accordwatch/accordwatch"
)

// fileRecord is one line of the alerts file.
type fileRecord struct {
	Time        time.Time               `json:"time"`
	Kind        string                  `json:"kind"`
	Rule        string                  `json:"rule"`
	Channel     string                  `json:"channel,omitempty"`
	ItemID      string                  `json:"item_id"`
	Title       string                  `json:"title"`
	Link        string                  `json:"link"`
	Severity    int                     `json:"severity"`
	Signatories []string                `json:"signatories"`
	States      []string                `json:"states"`
	Actors      []string                `json:"actors"`
	AttackTypes []string                `json:"attack_types"`
	Principles  []accordwatch.Principle `json:"principles"`
	IncidentID  string                  `json:"incident_id,omitempty"`
	Sources     int                     `json:"sources,omitempty"`
	// Summary is set for KindSummary, whose item is empty.
	Summary []accordwatch.SummaryEntry `json:"summary,omitempty"`
}

// sendFile logs the alert and appends it as one JSON line to the alerts
// file, so the daemon is useful without Slack credentials. Follow-ups and
// summaries are records of their kind; there are no threads to keep.
func (n *Notifier) sendFile(kind string, a accordwatch.Alert, item accordwatch.Item) error {
	rec := fileRecord{
		Time:        n.now().UTC(),
		Kind:        kind,
		IncidentID:  a.IncidentID,
		Sources:     a.Sources,
		Summary:     a.Summary,
		Rule:        a.Rule,
		Channel:     n.channelFor(a),
		ItemID:      item.ID,
		Title:       item.Title,
		Link:        item.Link,
		Severity:    item.Tags.Severity,
		Signatories: nonNil(item.Tags.Signatories),
		States:      nonNil(item.Tags.States),
		Actors:      nonNil(item.Tags.Actors),
		AttackTypes: nonNil(item.Tags.AttackTypes),
		Principles:  nonNil(item.Tags.Principles),
	}
	n.log.Info("alert", "kind", kind, "rule", a.Rule, "channel", rec.Channel, "item_id", item.ID,
		"title", item.Title, "link", item.Link, "severity", rec.Severity)
	if n.alertsFile == "" {
		return nil
	}
	line, err := json.Marshal(rec)
	if err != nil {
		return &SendError{Permanent: true, Code: "encode", Err: fmt.Errorf("encode alert: %w", err)}
	}
	line = append(line, '\n')

	n.fileMu.Lock()
	defer n.fileMu.Unlock()
	if err := os.MkdirAll(filepath.Dir(n.alertsFile), 0o750); err != nil {
		return &SendError{Code: "file", Err: fmt.Errorf("create alerts dir: %w", err)}
	}
	// Opened per alert, so a rotated file is picked up; O_APPEND and one
	// Write per line keep lines whole.
	f, err := os.OpenFile(n.alertsFile, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
	if err != nil {
		return &SendError{Code: "file", Err: fmt.Errorf("open alerts file: %w", err)}
	}
	if _, err := f.Write(line); err != nil {
		_ = f.Close()
		return &SendError{Code: "file", Err: fmt.Errorf("append alert to %s: %w", n.alertsFile, err)}
	}
	if err := f.Close(); err != nil {
		return &SendError{Code: "file", Err: fmt.Errorf("close alerts file: %w", err)}
	}
	return nil
}

// nonNil keeps empty lists as [] rather than null in the file.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
