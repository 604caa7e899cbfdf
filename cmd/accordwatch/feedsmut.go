package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/accordwatch/accordwatch"
	"github.com/accordwatch/accordwatch/config"
	"github.com/accordwatch/accordwatch/feeds"
	"github.com/accordwatch/accordwatch/store"
	"github.com/spf13/cobra"
)

// openStoreRW opens only the store, for commands that edit the feed list.
// With ACCORDWATCH_DATABASE_URL set it opens the PostgreSQL store.
func openStoreRW(ctx context.Context, e *env, cfg *config.Config) (appStore, error) {
	if dbURL := e.databaseURL(); dbURL.IsSet() {
		return openDatabase(ctx, dbURL)
	}
	if err := ensureWritable(cfg.DataDir); err != nil {
		return nil, err
	}
	st, err := store.Open(filepath.Join(cfg.DataDir, storeFile), store.Options{Timeout: 2 * time.Second})
	if errors.Is(err, store.ErrLocked) {
		return nil, fmt.Errorf("%w (the feed list is edited while the daemon is stopped; it picks changes up on start)", lockedError(cfg.DataDir, err))
	}
	if err != nil {
		return nil, err
	}
	return st, nil
}

func feedsMutators(e *env) []*cobra.Command {
	return []*cobra.Command{feedsImportCmd(e), feedsExportCmd(e), feedsAddCmd(e), feedsRemoveCmd(e)}
}

func feedsImportCmd(e *env) *cobra.Command {
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "import FILE.opml",
		Short: "Add the feeds of an OPML file (nested categories become tags); report what was skipped and why",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := e.loadConfig(cmd)
			if err != nil {
				return err
			}
			f, err := os.Open(args[0])
			if err != nil {
				return err
			}
			list, skipped, err := feeds.ParseOPML(f)
			f.Close()
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			inConfig := map[string]bool{}
			for _, cf := range cfg.Feeds {
				inConfig[cf.URL] = true
			}
			var fresh []accordwatch.Feed
			known := 0
			for _, fd := range list {
				if inConfig[fd.URL] {
					known++
					continue
				}
				fd.Source = "opml"
				fresh = append(fresh, fd)
			}
			added := fresh
			if !dryRun {
				st, err := openStoreRW(cmd.Context(), e, cfg)
				if err != nil {
					return err
				}
				var dups []accordwatch.Feed
				added, dups, err = st.AddFeeds(fresh)
				st.Close()
				if err != nil {
					return err
				}
				known += len(dups)
			}
			verb := "imported"
			if dryRun {
				verb = "would import"
			}
			fmt.Fprintf(e.stdout, "%s: %d feeds in the file; %s %d, %d already known, %d skipped\n",
				args[0], len(list)+len(skipped), verb, len(added), known, len(skipped))
			printSkipped(e, skipped)
			return nil
		},
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "report what would be imported without changing anything")
	return cmd
}

// printSkipped groups skipped OPML entries by reason, each with its lines.
func printSkipped(e *env, skipped []feeds.Skipped) {
	if len(skipped) == 0 {
		return
	}
	byReason := map[string][]feeds.Skipped{}
	for _, s := range skipped {
		r := s.Reason
		if strings.HasPrefix(r, "duplicate of line") {
			r = "duplicate"
		}
		byReason[r] = append(byReason[r], s)
	}
	reasons := make([]string, 0, len(byReason))
	for r := range byReason {
		reasons = append(reasons, r)
	}
	sort.Slice(reasons, func(i, j int) bool { return len(byReason[reasons[i]]) > len(byReason[reasons[j]]) })
	fmt.Fprintln(e.stdout, "\nskipped:")
	for _, r := range reasons {
		fmt.Fprintf(e.stdout, "  %s (%d)\n", r, len(byReason[r]))
		for i, s := range byReason[r] {
			if i == 20 {
				fmt.Fprintf(e.stdout, "    … and %d more\n", len(byReason[r])-20)
				break
			}
			fmt.Fprintf(e.stdout, "    line %d: %s %s — %s\n", s.Line, truncate(s.Title, 40), accordwatch.RedactURL(s.URL), s.Reason)
		}
	}
}

func feedsExportCmd(e *env) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Write every feed (config and imported) as OPML",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := e.loadConfig(cmd)
			if err != nil {
				return err
			}
			health, err := readFeedHealth(cmd.Context(), e, cfg)
			if err != nil {
				return err
			}
			list := make([]accordwatch.Feed, len(health))
			for i, h := range health {
				list[i] = h.Feed
			}
			w := e.stdout
			if out != "" {
				f, err := os.Create(out)
				if err != nil {
					return err
				}
				defer f.Close()
				w = f
			}
			return feeds.WriteOPML(w, "accordwatch feeds", list)
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "write to this file instead of standard output")
	return cmd
}

func feedsAddCmd(e *env) *cobra.Command {
	var name string
	var tags []string
	cmd := &cobra.Command{
		Use:   "add URL",
		Short: "Add a feed by its URL or its site's URL (the feed is discovered)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := e.loadConfig(cmd)
			if err != nil {
				return err
			}
			fetcher := feeds.New(feeds.Options{Timeout: cfg.Fetch.Timeout.Duration, MaxBytes: int64(cfg.Fetch.MaxBodyMB) << 20,
				UserAgent: cfg.Fetch.UserAgent, AllowPrivateNetworks: cfg.Fetch.AllowPrivateNetworks})
			found, err := fetcher.Discover(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			fd := accordwatch.Feed{Name: name, URL: found[0], Tags: tags, Source: "cli"}
			if fd.Name == "" {
				if res, err := fetcher.Fetch(cmd.Context(), fd, accordwatch.FeedState{}); err == nil {
					fd.Name = res.State.Title
				}
			}
			for _, cf := range cfg.Feeds {
				if cf.URL == fd.URL {
					return fmt.Errorf("%s is already in %s as %q", accordwatch.RedactURL(fd.URL), cfg.Path, cf.Name)
				}
			}
			st, err := openStoreRW(cmd.Context(), e, cfg)
			if err != nil {
				return err
			}
			defer st.Close()
			added, _, err := st.AddFeeds([]accordwatch.Feed{fd})
			if err != nil {
				return err
			}
			if len(added) == 0 {
				return fmt.Errorf("%s is already registered", accordwatch.RedactURL(fd.URL))
			}
			shown := accordwatch.RedactURL(fd.URL)
			fmt.Fprintf(e.stdout, "added %q %s\n", orDefault(fd.Name, shown), shown)
			if len(found) > 1 {
				fmt.Fprintf(e.stdout, "the site also offers: %s\n", strings.Join(found[1:], ", "))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "name to show (default: the feed's own title)")
	cmd.Flags().StringSliceVar(&tags, "tag", nil, "tag to give the feed (repeatable)")
	return cmd
}

func feedsRemoveCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "remove URL",
		Short: "Remove an imported or added feed (its items stay; config feeds are edited in the config)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := e.loadConfig(cmd)
			if err != nil {
				return err
			}
			st, err := openStoreRW(cmd.Context(), e, cfg)
			if err != nil {
				return err
			}
			defer st.Close()
			ok, err := st.RemoveFeed(args[0])
			if err != nil {
				return err
			}
			if !ok {
				return fmt.Errorf("%s is not an imported or added feed (see accordwatch feeds)", args[0])
			}
			fmt.Fprintf(e.stdout, "removed %s\n", args[0])
			return nil
		},
	}
}
