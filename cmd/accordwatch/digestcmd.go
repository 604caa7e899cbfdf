package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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

// newDigestRunner makes the digest runner of an open app: it posts through
// the app's notifier, so digests and alerts share its per-channel limiter,
// and records weeks in the app's store. sched may be nil for a runner that
// only posts on request.
func newDigestRunner(a *app, cfg *config.Config, ds digestSettings, sched digest.Schedule, log *slog.Logger) (*digest.Runner, error) {
	return digest.NewRunner(digest.RunnerOptions{
		Since: a.store.Created(), Searcher: a.index, Feeds: healthSource{cfg: cfg, st: a.store}, Store: a.store,
		Poster:  notify.DigestSender{Notifier: a.notifier, MaxRetryWait: cfg.Alerting.MaxRetryWait.Duration},
		Channel: ds.Channel, Dir: filepath.Join(cfg.DataDir, digestsDir), Schedule: sched,
		Build: digestOptions(cfg, ds), Logger: log,
	})
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
	runner, err := newDigestRunner(a, cfg, ds, sched, log)
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

// digestPostHandler is serve's POST /api/digest/post: `digest --post`
// while serve owns the store. Its runner is not the schedule's, but both
// claim weeks in the one store, which refuses a week being posted.
func digestPostHandler(a *app, cfg *config.Config, token accordwatch.Secret, log *slog.Logger) http.Handler {
	runner, err := newDigestRunner(a, cfg, digestConfig(cfg), nil, log)
	if err != nil {
		// NewRunner fails only without a searcher, store or directory,
		// which an open app always has; should that change, say so on
		// every request rather than stop the daemon.
		log.Error("digest posting through the API is unavailable", "err", err)
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.WriteHeader(http.StatusInternalServerError)
			json.NewEncoder(w).Encode(map[string]string{"error": "digest posting is unavailable: " + err.Error()})
		})
	}
	return web.DigestPostHandler(web.DigestPostOptions{
		Poster: runner, Location: digestLocation(cfg), Token: token, Logger: log.With("component", "web"),
	})
}

func digestCmd(e *env) *cobra.Command {
	var week, from, to, format, out string
	var post, force bool
	cmd := &cobra.Command{
		Use:   "digest [--week 2026-W47 | --from DATE --to DATE] [--format md|html|json|slack] [--out FILE] [--post [--force]]",
		Short: "Make the weekly digest for a week or a date range (asks the running daemon when there is one)",
		Long: `Make the digest of an ISO week (--week 2026-W47), of a date range
(--from 2026-11-01 --to 2026-11-30, both days included), or by default of
the last complete week, in the configured time zone. It is printed to
standard output unless --out is given.

--post also posts it to the digest's Slack channel, through the running
daemon when there is one, and records the week as posted, so neither the
daemon's schedule nor another --post sends it again: a week already posted
is refused (exit status 1) unless --force. A date range that is not one
ISO week is posted without a record.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch format {
			case "md", "html", "json", "slack":
			default:
				return fmt.Errorf("--format %q: want md, html, json or slack", format)
			}
			if force && !post {
				return errors.New("--force goes with --post")
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
			var rep *digest.Report
			if post {
				rep, err = postDigest(cmd.Context(), e, cfg, ds, f, t, force)
			} else {
				rep, err = makeDigest(cmd.Context(), e, cfg, ds, f, t)
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
				return nil
			}
			_, err = e.stdout.Write(buf.Bytes())
			return err
		},
	}
	cmd.Flags().StringVar(&week, "week", "", "ISO week, e.g. 2026-W47 (default: the last complete week)")
	cmd.Flags().StringVar(&from, "from", "", "first day of a range, YYYY-MM-DD")
	cmd.Flags().StringVar(&to, "to", "", "last day of a range, YYYY-MM-DD (included)")
	cmd.Flags().StringVar(&format, "format", "md", "md, html, json or slack (the Block Kit messages)")
	cmd.Flags().StringVarP(&out, "out", "o", "", "write to this file instead of standard output")
	cmd.Flags().BoolVar(&post, "post", false, "also post the digest to Slack, once per week")
	cmd.Flags().BoolVar(&force, "force", false, "with --post: post a week that was already posted")
	cmd.MarkFlagsMutuallyExclusive("week", "from")
	cmd.MarkFlagsMutuallyExclusive("week", "to")
	return cmd
}

// makeDigest asks a running serve (it owns the index), or else opens the
// index and, for feed health, the store, read-only.
func makeDigest(ctx context.Context, e *env, cfg *config.Config, ds digestSettings, from, to time.Time) (*digest.Report, error) {
	if c, ok := runningServe(cfg.DataDir, e.getenv); ok {
		return c.digest(ctx, from, to, digestLocation(cfg))
	}
	var st appStore
	if path := filepath.Join(cfg.DataDir, storeFile); e.databaseURL().IsSet() || fileExists(path) {
		var err error
		if st, err = openDigestStore(ctx, e, cfg, true); err != nil {
			return nil, err
		}
		defer st.Close()
	}
	ix, err := openDigestIndex(cfg)
	if err != nil {
		return nil, err
	}
	defer ix.Close()
	var feeds digest.FeedHealthSource
	if st != nil {
		feeds = healthSource{cfg: cfg, st: st}
	}
	return digest.Build(ctx, ix, feeds, from, to, digestOptions(cfg, ds))
}

// openDigestStore opens the PostgreSQL store when ACCORDWATCH_DATABASE_URL
// is set, else the bbolt file.
func openDigestStore(ctx context.Context, e *env, cfg *config.Config, readOnly bool) (appStore, error) {
	if dbURL := e.databaseURL(); dbURL.IsSet() {
		return openDatabase(ctx, dbURL)
	}
	st, err := store.Open(filepath.Join(cfg.DataDir, storeFile), store.Options{ReadOnly: readOnly, Timeout: 2 * time.Second})
	if errors.Is(err, store.ErrLocked) {
		return nil, lockedError(cfg.DataDir, err)
	}
	if err != nil {
		return nil, err
	}
	return st, nil
}

func openDigestIndex(cfg *config.Config) (*index.Index, error) {
	dir := filepath.Join(cfg.DataDir, indexDir)
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("no index in %s yet; run `accordwatch run --once` or `accordwatch serve` first", cfg.DataDir)
	}
	cl, err := classify.New(classify.Options{ExtraDictionaries: dictionaryFiles(cfg)})
	if err != nil {
		return nil, err
	}
	ix, err := index.Open(dir, index.Options{Resolve: cl.Resolve})
	if errors.Is(err, index.ErrLocked) {
		return nil, lockedError(cfg.DataDir, err)
	}
	return ix, err
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// postDigest posts the digest of [from, to) and returns the report that
// was posted. The week is recorded in the store either way: by the
// running serve, which owns the store, or here, with the same runner the
// daemon's schedule uses, so neither posts it twice.
func postDigest(ctx context.Context, e *env, cfg *config.Config, ds digestSettings, from, to time.Time, force bool) (*digest.Report, error) {
	loc := digestLocation(cfg)
	var rep *digest.Report
	var posted digest.Posted
	var how string
	if c, ok := runningServe(cfg.DataDir, e.getenv); ok {
		res, err := c.postDigest(ctx, from, to, loc, force)
		if err != nil {
			return nil, err
		}
		rep, posted, how = res.Report, res.Posted, "by the running daemon"
	} else {
		var err error
		if rep, posted, how, err = postDigestHere(ctx, e, cfg, ds, from, to, force); err != nil {
			return nil, err
		}
	}
	msg := fmt.Sprintf("digest %s posted %s", posted.Title, how)
	if posted.Ref != "" {
		msg += " (" + posted.Ref + ")"
	}
	if !posted.PostedBefore.IsZero() {
		msg += "; it had been posted at " + posted.PostedBefore.In(loc).Format(time.RFC3339)
	}
	fmt.Fprintln(e.stderr, msg)
	return rep, nil
}

// postDigestHere posts with the store and index opened here: no daemon
// runs, so this process owns them.
func postDigestHere(ctx context.Context, e *env, cfg *config.Config, ds digestSettings, from, to time.Time, force bool) (*digest.Report, digest.Posted, string, error) {
	if !e.databaseURL().IsSet() && !fileExists(filepath.Join(cfg.DataDir, storeFile)) {
		return nil, digest.Posted{}, "", fmt.Errorf("no store in %s yet, so the post could not be recorded; run `accordwatch run --once` or `accordwatch serve` first", cfg.DataDir)
	}
	st, err := openDigestStore(ctx, e, cfg, false)
	if err != nil {
		return nil, digest.Posted{}, "", err
	}
	defer st.Close()
	ix, err := openDigestIndex(cfg)
	if err != nil {
		return nil, digest.Posted{}, "", err
	}
	defer ix.Close()
	n, err := notify.New(notify.Options{
		BotToken: cfg.Slack.BotToken, WebhookURL: cfg.Slack.WebhookURL, Channel: cfg.Slack.Channel,
		APIURL: cfg.Slack.APIURL, Logger: e.logger(),
	})
	if err != nil {
		return nil, digest.Posted{}, "", fmt.Errorf("slack: %w", err)
	}
	runner, err := digest.NewRunner(digest.RunnerOptions{
		Searcher: ix, Feeds: healthSource{cfg: cfg, st: st}, Store: st,
		Poster:  notify.DigestSender{Notifier: n, MaxRetryWait: cfg.Alerting.MaxRetryWait.Duration},
		Channel: ds.Channel, Dir: filepath.Join(cfg.DataDir, digestsDir), Build: digestOptions(cfg, ds), Logger: e.logger(),
	})
	if err != nil {
		return nil, digest.Posted{}, "", err
	}
	rep, posted, err := runner.Post(ctx, from, to, force)
	if ap, ok := errors.AsType[*digest.AlreadyPostedError](err); ok {
		return nil, digest.Posted{}, "", alreadyPosted(ap.Week, ap.At, digestLocation(cfg))
	}
	return rep, posted, "(" + n.Mode() + ")", err
}

// alreadyPosted is the refusal of a week already posted.
func alreadyPosted(week string, at time.Time, loc *time.Location) error {
	return fmt.Errorf("week %s was already posted at %s; use --force to post it again", week, at.In(loc).Format(time.RFC3339))
}

// digest asks the running serve for a report over [from, to).
func (c *apiClient) digest(ctx context.Context, from, to time.Time, loc *time.Location) (*digest.Report, error) {
	v := url.Values{"format": {"json"}}
	req := digestRange(from, to, loc)
	if req.Week != "" {
		v.Set("week", req.Week)
	} else {
		v.Set("from", req.From)
		v.Set("to", req.To)
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

// digestPostTimeout bounds `digest --post` through the daemon: a little
// more than the daemon allows itself to build and post (Slack's rate
// limits included), so its answer, not ours, says what went wrong.
const digestPostTimeout = 5*time.Minute + 30*time.Second

// postDigest asks the running serve to post the digest of [from, to).
func (c *apiClient) postDigest(ctx context.Context, from, to time.Time, loc *time.Location, force bool) (web.DigestPostResponse, error) {
	body := digestRange(from, to, loc)
	body.Force = force
	raw, err := json.Marshal(body)
	if err != nil {
		return web.DigestPostResponse{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, digestPostTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/api/digest/post", bytes.NewReader(raw))
	if err != nil {
		return web.DigestPostResponse{}, err
	}
	// JSON and, when set, the token: the API refuses state changes
	// without them (web.Guard).
	req.Header.Set("Content-Type", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	// The client's own 30s limit is for queries; ctx bounds this one.
	hc := *c.http
	hc.Timeout = 0
	resp, err := hc.Do(req)
	if err != nil {
		return web.DigestPostResponse{}, fmt.Errorf("ask the running daemon at %s to post the digest: %w", c.base, err)
	}
	defer resp.Body.Close()
	dec := json.NewDecoder(io.LimitReader(resp.Body, 32<<20))
	switch resp.StatusCode {
	case http.StatusOK:
		var res web.DigestPostResponse
		if err := dec.Decode(&res); err != nil || res.Report == nil {
			return web.DigestPostResponse{}, fmt.Errorf("post digest: bad answer from %s: %v", c.base, err)
		}
		return res, nil
	case http.StatusConflict:
		var cf web.DigestConflict
		if err := dec.Decode(&cf); err == nil && cf.Week != "" {
			return web.DigestPostResponse{}, alreadyPosted(cf.Week, cf.PostedAt, loc)
		}
	}
	var e struct {
		Error string `json:"error"`
	}
	dec.Decode(&e)
	return web.DigestPostResponse{}, fmt.Errorf("post digest: %s", orDefault(e.Error, resp.Status))
}

// digestRange names [from, to) as the API takes it: the ISO week when it
// is exactly one, else the first and last day.
func digestRange(from, to time.Time, loc *time.Location) web.DigestPostRequest {
	if w, ok := exactWeek(from, to, loc); ok {
		return web.DigestPostRequest{Week: w}
	}
	return web.DigestPostRequest{
		From: from.In(loc).Format(time.DateOnly),
		To:   to.In(loc).AddDate(0, 0, -1).Format(time.DateOnly),
	}
}

// exactWeek names [from, to) when it is exactly one ISO week.
func exactWeek(from, to time.Time, loc *time.Location) (string, bool) {
	w := digest.WeekName(from, loc)
	f, t, err := digest.WeekRange(w, loc)
	return w, err == nil && f.Equal(from) && t.Equal(to)
}
