package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/accordwatch/accordwatch"
	"github.com/accordwatch/accordwatch/classify"
	"github.com/accordwatch/accordwatch/config"
	"github.com/accordwatch/accordwatch/digest"
	"github.com/accordwatch/accordwatch/index"
	"github.com/accordwatch/accordwatch/monitor"
	"github.com/accordwatch/accordwatch/notify"
	"github.com/accordwatch/accordwatch/store"
	"github.com/accordwatch/accordwatch/web"
)

// digestsDir is where the weekly digests are written, under data_dir.
const digestsDir = "digests"

// defaultDigestSchedule is Monday 09:00, read in the configured zone.
const defaultDigestSchedule = "0 9 * * MON"

// digestSettings is the digest part of the configuration.
type digestSettings struct {
	// Schedule is a cron spec without a zone; it runs in cfg.Location.
	Schedule string
	// Channel receives the digest; "" = the Slack default channel.
	Channel string
	// BaseURL is the web UI's public address, for links; may be "".
	BaseURL  string
	Sections []digest.Section
}

// digestConfig reads the digest settings. config.Config has no digest
// section yet: until it does, the defaults apply (the lead maps
// cfg.Digest.{Schedule,Channel,BaseURL,Sections} here).
func digestConfig(cfg *config.Config) digestSettings {
	ds := digestSettings{Schedule: cfg.Digest.Schedule, Channel: cfg.Digest.Channel, BaseURL: cfg.Digest.BaseURL}
	if ds.Schedule == "" {
		ds.Schedule = defaultDigestSchedule
	}
	for _, sec := range cfg.Digest.Sections {
		ds.Sections = append(ds.Sections, digest.Section{Name: sec.Name, Query: sec.Query})
	}
	return ds
}

func digestLocation(cfg *config.Config) *time.Location {
	if cfg.Location != nil {
		return cfg.Location
	}
	return time.UTC
}

func digestOptions(cfg *config.Config, ds digestSettings) digest.Options {
	return digest.Options{Location: digestLocation(cfg), BaseURL: ds.BaseURL, Sections: ds.Sections}
}

// digestJob returns serve's weekly digest job: its cron spec (the
// schedule in the configured zone) and the function to run, which makes
// the most recent week's digest once if it is due and not yet sent. Run
// it once at start as well: that is the catch-up of a run missed while
// the daemon was down.
func digestJob(a *app, cfg *config.Config, log *slog.Logger) (spec string, run func(context.Context), err error) {
	ds := digestConfig(cfg)
	sched, err := monitor.ParseSchedule(ds.Schedule)
	if err != nil {
		return "", nil, fmt.Errorf("digest schedule: %w", err)
	}
	runner, err := digest.NewRunner(digest.RunnerOptions{
		Since: a.store.Created(), Searcher: a.index, Feeds: healthSource{cfg: cfg, st: a.store}, Store: a.store, Poster: a.notifier,
		Channel: ds.Channel, Dir: filepath.Join(cfg.DataDir, digestsDir), Schedule: sched,
		Build: digestOptions(cfg, ds), Logger: log,
	})
	if err != nil {
		return "", nil, err
	}
	run = func(ctx context.Context) {
		if err := runner.RunDue(ctx, time.Now()); err != nil && ctx.Err() == nil {
			log.Error("weekly digest", "err", err)
		}
	}
	return "CRON_TZ=" + digestLocation(cfg).String() + " " + ds.Schedule, run, nil
}

// digestHandler is serve's GET /api/digest.
func digestHandler(cfg *config.Config, ix web.Searcher, feeds web.Feeds, token accordwatch.Secret, log *slog.Logger) http.Handler {
	return web.DigestHandler(web.DigestOptions{
		Searcher: ix, Feeds: feeds, Digest: digestOptions(cfg, digestConfig(cfg)), Token: token,
		Logger: log.With("component", "web"),
	})
}

func digestCmd(e *env) *cobra.Command {
	var week, from, to, format, out string
	var post, force bool
	cmd := &cobra.Command{
		Use:   "digest [--week 2026-W47 | --from DATE --to DATE] [--format md|html|json|slack] [--out FILE] [--post]",
		Short: "Make the weekly digest for a week or a date range (asks the running daemon when there is one)",
		Long: `Make the digest of an ISO week (--week 2026-W47), of a date range
(--from 2026-11-01 --to 2026-11-30, both days included), or by default of
the last complete week, in the configured time zone. It is printed to
standard output unless --out is given. --post also posts it to the digest's
Slack channel; a week already posted is refused unless --force.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch format {
			case "md", "html", "json", "slack":
			default:
				return fmt.Errorf("--format %q: want md, html, json or slack", format)
			}
			cfg, err := e.loadConfig(cmd)
			if err != nil {
				return err
			}
			ds := digestConfig(cfg)
			loc := digestLocation(cfg)
			f, t, err := digest.ParseRange(week, from, to, time.Now(), loc)
			if err != nil {
				return err
			}
			rep, st, err := makeDigest(cmd.Context(), e, cfg, ds, f, t, post)
			if st != nil {
				defer st.Close()
			}
			if err != nil {
				return err
			}
			htmlURL := ""
			if rep.Week != "" {
				htmlURL = digest.HTMLURL(ds.BaseURL, rep.Week)
			}
			var buf bytes.Buffer
			switch format {
			case "md":
				err = rep.Markdown(&buf)
			case "html":
				err = rep.HTML(&buf)
			case "json":
				err = rep.JSON(&buf)
			case "slack":
				var b []byte
				if b, err = notify.DigestPayload(rep, htmlURL); err == nil {
					buf.Write(append(b, '\n'))
				}
			}
			if err != nil {
				return err
			}
			if out != "" {
				if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
					return fmt.Errorf("--out: %w", err)
				}
			} else if _, err := e.stdout.Write(buf.Bytes()); err != nil {
				return err
			}
			if post {
				return postDigest(cmd.Context(), e, cfg, ds, st, rep, htmlURL, force)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&week, "week", "", "ISO week, e.g. 2026-W47 (default: the last complete week)")
	cmd.Flags().StringVar(&from, "from", "", "first day of a range, YYYY-MM-DD")
	cmd.Flags().StringVar(&to, "to", "", "last day of a range, YYYY-MM-DD (included)")
	cmd.Flags().StringVar(&format, "format", "md", "md, html, json or slack (the Block Kit messages)")
	cmd.Flags().StringVarP(&out, "out", "o", "", "write to this file instead of standard output")
	cmd.Flags().BoolVar(&post, "post", false, "also post the digest to Slack")
	cmd.Flags().BoolVar(&force, "force", false, "with --post: post a week that was already posted")
	cmd.MarkFlagsMutuallyExclusive("week", "from")
	cmd.MarkFlagsMutuallyExclusive("week", "to")
	return cmd
}

// makeDigest asks a running serve (it owns the index), or else opens the
// index and, for feed health and --post, the store. The store is returned
// open (or nil) for the caller to close.
func makeDigest(ctx context.Context, e *env, cfg *config.Config, ds digestSettings, from, to time.Time, post bool) (*digest.Report, *store.Store, error) {
	if c, ok := runningServe(cfg.DataDir, e.getenv); ok {
		rep, err := c.digest(ctx, from, to, digestLocation(cfg))
		return rep, nil, err
	}
	dir := filepath.Join(cfg.DataDir, indexDir)
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return nil, nil, fmt.Errorf("no index in %s yet; run `accordwatch run --once` or `accordwatch serve` first", cfg.DataDir)
	}
	var st *store.Store
	if path := filepath.Join(cfg.DataDir, storeFile); fileExists(path) {
		var err error
		// Read-only unless the post must be recorded.
		st, err = store.Open(path, store.Options{ReadOnly: !post, Timeout: 2 * time.Second})
		if err != nil {
			if errors.Is(err, store.ErrLocked) {
				return nil, nil, lockedError(cfg.DataDir, err)
			}
			return nil, nil, err
		}
	}
	cl, err := classify.New(classify.Options{ExtraDictionaries: dictionaryFiles(cfg)})
	if err != nil {
		return nil, st, err
	}
	ix, err := index.Open(dir, index.Options{Resolve: cl.Resolve})
	if err != nil {
		if errors.Is(err, index.ErrLocked) {
			return nil, st, lockedError(cfg.DataDir, err)
		}
		return nil, st, err
	}
	defer ix.Close()
	var feeds digest.FeedHealthSource
	if st != nil {
		feeds = healthSource{cfg: cfg, st: st}
	}
	rep, err := digest.Build(ctx, ix, feeds, from, to, digestOptions(cfg, ds))
	return rep, st, err
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// postDigest posts rep to Slack. With the store at hand (no daemon
// running) a week already posted is refused unless force, and the post is
// recorded so the daemon does not post the week again.
func postDigest(ctx context.Context, e *env, cfg *config.Config, ds digestSettings, st *store.Store, rep *digest.Report, htmlURL string, force bool) error {
	if st != nil && rep.Week != "" && !force {
		if at, ok, err := st.DigestSent(rep.Week); err != nil {
			return err
		} else if ok {
			return fmt.Errorf("the %s digest was already posted on %s; use --force to post it again", rep.Week, at.Format(time.RFC3339))
		}
	}
	n, err := notify.New(notify.Options{
		BotToken: cfg.Slack.BotToken, WebhookURL: cfg.Slack.WebhookURL, Channel: cfg.Slack.Channel,
		APIURL: cfg.Slack.APIURL, Logger: e.logger(),
	})
	if err != nil {
		return fmt.Errorf("slack: %w", err)
	}
	ref, err := n.SendDigest(ctx, ds.Channel, rep, htmlURL)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "digest %s posted (%s) %s\n", rep.Title, n.Mode(), ref)
	switch {
	case rep.Week == "":
	case st != nil:
		if _, err := st.MarkDigestSent(rep.Week, time.Now()); err != nil {
			return err
		}
	default:
		fmt.Fprintf(e.stderr, "note: the running daemon owns the store, so this post was not recorded; it will still post %s on schedule if it has not yet\n", rep.Week)
	}
	return nil
}

// digest asks the running serve for a report over [from, to).
func (c *apiClient) digest(ctx context.Context, from, to time.Time, loc *time.Location) (*digest.Report, error) {
	v := url.Values{"format": {"json"}}
	if w, ok := exactWeek(from, to, loc); ok {
		v.Set("week", w)
	} else {
		v.Set("from", from.In(loc).Format(time.DateOnly))
		v.Set("to", to.In(loc).AddDate(0, 0, -1).Format(time.DateOnly))
	}
	var rep digest.Report
	if err := c.getJSON(ctx, "/api/digest?"+v.Encode(), "digest", &rep); err != nil {
		return nil, err
	}
	if strings.TrimSpace(rep.Title) == "" {
		return nil, fmt.Errorf("digest: empty answer from %s", c.base)
	}
	return &rep, nil
}

// exactWeek names [from, to) when it is exactly one ISO week.
func exactWeek(from, to time.Time, loc *time.Location) (string, bool) {
	w := digest.WeekName(from, loc)
	f, t, err := digest.WeekRange(w, loc)
	return w, err == nil && f.Equal(from) && t.Equal(to)
}
