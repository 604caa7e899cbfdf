package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/accordwatch/accordwatch"
	"github.com/accordwatch/accordwatch/config"
	"github.com/accordwatch/accordwatch/store"
	"github.com/spf13/cobra"
)

// allFeeds is every feed the daemon polls or knows: the config's (which
// win on a shared URL) and those registered in the store by OPML import
// or feeds add. Disabled feeds are included; callers filter.
func allFeeds(cfg *config.Config, st feedSource) ([]accordwatch.Feed, error) {
	var out []accordwatch.Feed
	seen := map[string]bool{}
	for _, f := range cfg.FeedsAll() {
		out = append(out, f)
		seen[f.URL] = true
	}
	reg, err := st.RegisteredFeeds()
	if err != nil {
		return nil, err
	}
	for _, f := range reg {
		if seen[f.URL] {
			continue
		}
		if f.Schedule == "" {
			f.Schedule = cfg.DefaultSchedule
		}
		out = append(out, f)
	}
	return out, nil
}

func enabled(list []accordwatch.Feed) []accordwatch.Feed {
	var out []accordwatch.Feed
	for _, f := range list {
		if !f.Disabled {
			out = append(out, f)
		}
	}
	return out
}

// feedHealth pairs feeds with their stored state.
func feedHealth(cfg *config.Config, st feedSource) ([]accordwatch.FeedHealth, error) {
	list, err := allFeeds(cfg, st)
	if err != nil {
		return nil, err
	}
	out := make([]accordwatch.FeedHealth, 0, len(list))
	for _, f := range list {
		s, _, err := st.FeedState(f.URL)
		if err != nil {
			return nil, err
		}
		s.URL = f.URL
		out = append(out, accordwatch.FeedHealth{Feed: f, State: s})
	}
	return out, nil
}

// healthSource adapts the store and config to web.Feeds.
type healthSource struct {
	cfg *config.Config
	st  feedSource
}

func (h healthSource) FeedHealth() ([]accordwatch.FeedHealth, error) { return feedHealth(h.cfg, h.st) }

// counts returns the totals for the metrics gauges.
func (h healthSource) counts() (total, unhealthy int) {
	list, err := h.FeedHealth()
	if err != nil {
		return 0, 0
	}
	for _, fh := range list {
		if !fh.Feed.Disabled && !fh.State.Healthy() {
			unhealthy++
		}
	}
	return len(list), unhealthy
}

func feedsCmd(e *env) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "feeds",
		Short: "List feeds with their health; import, export and add feeds",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return listFeeds(cmd, e, asJSON)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print feeds and their state as JSON")
	list := &cobra.Command{
		Use:   "list",
		Short: "List feeds with their health (the default)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return listFeeds(cmd, e, asJSON)
		},
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print feeds and their state as JSON")
	cmd.AddCommand(list)
	cmd.AddCommand(feedsMutators(e)...)
	return cmd
}

func listFeeds(cmd *cobra.Command, e *env, asJSON bool) error {
	cfg, err := e.loadConfig(cmd)
	if err != nil {
		return err
	}
	list, err := readFeedHealth(cmd.Context(), e, cfg)
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"feeds": list})
	}
	printFeedHealth(e, list, time.Now())
	return nil
}

// readFeedHealth asks a running serve, else reads the store (shared lock).
func readFeedHealth(ctx context.Context, e *env, cfg *config.Config) ([]accordwatch.FeedHealth, error) {
	if c, ok := runningServe(cfg.DataDir, e.getenv); ok {
		return c.feeds(ctx)
	}
	if dbURL := e.databaseURL(); dbURL.IsSet() {
		db, err := openDatabase(ctx, dbURL)
		if err != nil {
			return nil, err
		}
		defer db.Close()
		return feedHealth(cfg, db)
	}
	path := filepath.Join(cfg.DataDir, storeFile)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		// Never run: every configured feed, never polled.
		var out []accordwatch.FeedHealth
		for _, f := range cfg.FeedsAll() {
			out = append(out, accordwatch.FeedHealth{Feed: f, State: accordwatch.FeedState{URL: f.URL}})
		}
		return out, nil
	}
	st, err := store.Open(path, store.Options{ReadOnly: true, Timeout: 2 * time.Second})
	if err != nil {
		if errors.Is(err, store.ErrLocked) {
			return nil, lockedError(cfg.DataDir, err)
		}
		return nil, err
	}
	defer st.Close()
	return feedHealth(cfg, st)
}

func (c *apiClient) feeds(ctx context.Context) ([]accordwatch.FeedHealth, error) {
	var body struct {
		Feeds []accordwatch.FeedHealth `json:"feeds"`
	}
	err := c.getJSON(ctx, "/api/feeds", "list feeds", &body)
	return body.Feeds, err
}

// feedStatus says in words what state a feed is in.
func feedStatus(fh accordwatch.FeedHealth) string {
	s := fh.State
	switch {
	case fh.Feed.Disabled:
		return "disabled"
	case s.LastAttempt.IsZero():
		return "never polled"
	case s.Gone:
		return "GONE (410)"
	case !s.Healthy():
		return fmt.Sprintf("FAILING x%d", s.ConsecutiveFailures)
	case s.MovedTo != "":
		return "ok (moved)"
	default:
		return "ok"
	}
}

func printFeedHealth(e *env, list []accordwatch.FeedHealth, now time.Time) {
	// Failing feeds first, longest-failing at the top: that is the to-do list.
	sort.SliceStable(list, func(i, j int) bool {
		a, b := list[i].State, list[j].State
		if a.Healthy() != b.Healthy() {
			return !a.Healthy()
		}
		if !a.Healthy() && !a.UnhealthySince.Equal(b.UnhealthySince) {
			return a.UnhealthySince.Before(b.UnhealthySince)
		}
		return strings.ToLower(list[i].Feed.Name) < strings.ToLower(list[j].Feed.Name)
	})
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "FEED\tSTATUS\tLAST OK\tHTTP\tITEMS\t304s\tNEXT CHECK\tREASON / URL")
	failing := 0
	for _, fh := range list {
		s := fh.State
		if !s.Healthy() && !fh.Feed.Disabled {
			failing++
		}
		detail := accordwatch.RedactURL(fh.Feed.URL)
		if s.LastError != "" {
			detail = s.LastError
			if !s.UnhealthySince.IsZero() {
				detail += " (since " + ago(now, s.UnhealthySince) + ")"
			}
		} else if s.MovedTo != "" {
			detail = "now at " + accordwatch.RedactURL(s.MovedTo)
		}
		status := "—"
		if s.LastStatus != 0 {
			status = fmt.Sprint(s.LastStatus)
		}
		ratio := "—"
		if s.Fetches > 0 {
			ratio = fmt.Sprintf("%d%%", 100*s.NotModified/s.Fetches)
		}
		next := "—"
		if !s.NextCheckAt.IsZero() && !fh.Feed.Disabled {
			next = in(now, s.NextCheckAt)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", truncate(orDefault(fh.Feed.Name, accordwatch.RedactURL(fh.Feed.URL)), 40), feedStatus(fh),
			ago(now, s.LastSuccess), status, s.ItemsSeen, ratio, next, detail)
	}
	tw.Flush()
	fmt.Fprintf(e.stdout, "\n%d feeds, %d failing\n", len(list), failing)
}

func ago(now, t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return roundDur(now.Sub(t)) + " ago"
}

func in(now, t time.Time) string {
	if !t.After(now) {
		return "due"
	}
	return "in " + roundDur(t.Sub(now))
}

func roundDur(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	default:
		return fmt.Sprintf("%dd", int(d.Hours()/24))
	}
}
