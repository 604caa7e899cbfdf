package digest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Schedule says when a digest is due: the first due time strictly after t.
// A robfig/cron schedule (monitor.ParseSchedule) implements it; the
// Runner calls it with times in its Location, so a spec without a zone is
// read in local time.
type Schedule interface {
	Next(t time.Time) time.Time
}

// SentStore records which weeks' digests went out, so each week is posted
// once whether the schedule, its catch-up or a person asked for it. A post
// is bracketed: ClaimDigest before it, then ConfirmDigest once Slack
// accepted it or ReleaseDigest when it failed. *store.Store implements it.
type SentStore interface {
	// ClaimDigest checks and claims week in one atomic step. claimed=false
	// means the week was already sent, at sentAt; force claims it anyway.
	// interrupted=true means an earlier post was claimed and never
	// confirmed or released (its process died): it may already be in
	// Slack. A week being posted right now is an error unless force.
	ClaimDigest(week string, now time.Time, force bool) (claimed, interrupted bool, sentAt time.Time, err error)
	// ConfirmDigest records week as sent at at.
	ConfirmDigest(week string, at time.Time) error
	// ReleaseDigest undoes a claim whose post failed.
	ReleaseDigest(week string) error
}

// Poster delivers a digest to a chat channel; notify.DigestSender and
// *notify.Notifier implement it. htmlURL links to the HTML page ("" when
// there is no web UI). An error means the digest may not have been
// delivered: the Runner releases the week, to be posted again (at least
// once), so a Poster retries in place only what it knows did not arrive.
type Poster interface {
	SendDigest(ctx context.Context, channel string, r *Report, htmlURL string) (ref string, err error)
}

// RunnerOptions configure a Runner.
type RunnerOptions struct {
	// Since is when monitoring began; a week that started before it is
	// skipped rather than reported half-watched. Zero = no such limit.
	Since    time.Time
	Searcher Searcher
	Feeds    FeedHealthSource // may be nil
	Store    SentStore
	// Poster may be nil: the digest is then only written to Dir.
	Poster  Poster
	Channel string
	// Dir receives <week>.md, .html and .json (data_dir/digests).
	Dir string
	// Schedule defaults to Mondays at 09:00 in Build.Location.
	Schedule Schedule
	// Build holds the report options (clock, zone, base URL, sections).
	Build  Options
	Logger *slog.Logger
}

// Runner makes the weekly digest, once per week.
type Runner struct {
	o RunnerOptions
	// mu makes runs one at a time, so two concurrent RunDue calls (the
	// start-up catch-up and the cron job) cannot both send a week.
	mu sync.Mutex
}

// NewRunner checks the options.
func NewRunner(o RunnerOptions) (*Runner, error) {
	if o.Searcher == nil || o.Store == nil {
		return nil, errors.New("digest: runner needs a searcher and a store")
	}
	if o.Dir == "" {
		return nil, errors.New("digest: runner needs a directory for the digest files")
	}
	if o.Build.Location == nil {
		o.Build.Location = time.UTC
	}
	if o.Schedule == nil {
		o.Schedule = weekly{day: time.Monday, hour: 9}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	o.Logger = o.Logger.With("component", "digest")
	return &Runner{o: o}, nil
}

// weekly is the default schedule: one weekday at a full hour, local time.
type weekly struct {
	day  time.Weekday
	hour int
}

func (w weekly) Next(t time.Time) time.Time {
	loc := t.Location()
	d := time.Date(t.Year(), t.Month(), t.Day(), w.hour, 0, 0, 0, loc)
	for !d.After(t) || d.Weekday() != w.day {
		d = time.Date(d.Year(), d.Month(), d.Day()+1, w.hour, 0, 0, 0, loc)
	}
	return d
}

// Due returns the most recent complete ISO week before now and when its
// digest is due: the schedule's first time at or after the week's end.
func (r *Runner) Due(now time.Time) (week string, from, to, due time.Time) {
	loc := r.o.Build.Location
	week, from, to = PreviousWeek(now, loc)
	due = r.o.Schedule.Next(to.Add(-time.Nanosecond).In(loc))
	return week, from, to, due
}

// RunDue sends the digest of the most recent complete week if it is due
// at now and was not sent yet: claim the week in the store, build, write
// the files, post, then confirm. Call it on start (the catch-up of a run
// missed while the daemon was down) and from the weekly job. Only that one
// week is caught up: an older missed week would arrive stale, next to a
// fresh one. A week posted by hand (Post) counts as sent. A failure
// releases the claim, so a later call retries the week; a week is never
// posted again once confirmed.
func (r *Runner) RunDue(ctx context.Context, now time.Time) error {
	week, from, to, due := r.Due(now)
	if now.Before(due) {
		return nil
	}
	if r.o.Since.After(from) {
		// A fresh install would otherwise open with a digest of a week it
		// never watched.
		r.o.Logger.Info("no digest for a week not monitored from its start", "week", week, "monitoring_since", r.o.Since)
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	p, err := r.claim(week, now, false)
	if err != nil {
		return err
	}
	if !p.claimed {
		r.o.Logger.Debug("digest already sent", "week", week, "sent_at", p.sentAt)
		return nil
	}
	bo := r.o.Build
	bo.Now = func() time.Time { return now }
	rep, ref, err := r.send(ctx, week, from, to, bo, true)
	if err != nil {
		return r.release(week, err)
	}
	if err := r.confirm(week, now); err != nil {
		return err
	}
	r.o.Logger.Info("digest sent", "week", week, "incidents", rep.Total.N, "ref", ref, "late", now.Sub(due).Round(time.Second).String())
	return nil
}

// Posted is what Post did.
type Posted struct {
	// Week is the ISO week posted; "" for a range that is not one ISO
	// week, which is posted but not recorded.
	Week string `json:"week,omitempty"`
	// Title names the range, as the report does.
	Title string `json:"title"`
	// Ref is the Slack message ("<channel>/<ts>") in bot mode, else "".
	Ref string `json:"ref,omitempty"`
	// At is when it was posted.
	At time.Time `json:"posted_at"`
	// PostedBefore is when the week had been posted before, for a post
	// made again with force; zero otherwise.
	PostedBefore time.Time `json:"posted_before,omitzero"`
}

// AlreadyPostedError is Post's answer for a week that was already posted
// and not forced.
type AlreadyPostedError struct {
	Week string
	At   time.Time
}

func (e *AlreadyPostedError) Error() string {
	return fmt.Sprintf("digest: week %s was already posted at %s", e.Week, e.At.Format(time.RFC3339))
}

// Post builds the digest of [from, to) and posts it now, on request
// (`accordwatch digest --post`, by itself or through the daemon's API). A
// range that is exactly one ISO week goes through the same record as
// RunDue: a week already posted is refused with *AlreadyPostedError unless
// force, a week posted here is not posted again by the schedule, and its
// files are written to Dir. Any other range is posted without a record.
// It needs a Poster.
func (r *Runner) Post(ctx context.Context, from, to time.Time, force bool) (*Report, Posted, error) {
	if r.o.Poster == nil {
		return nil, Posted{}, errors.New("digest: no chat channel to post to")
	}
	bo := r.o.Build
	now := time.Now()
	if bo.Now != nil {
		now = bo.Now()
	}
	bo.Now = func() time.Time { return now }
	week, ok := isWeek(from, to, bo.Location)
	if !ok {
		rep, ref, err := r.send(ctx, "", from, to, bo, false)
		if err != nil {
			return nil, Posted{}, err
		}
		r.o.Logger.Info("digest posted by request", "range", rep.Title, "ref", ref)
		return rep, Posted{Title: rep.Title, Ref: ref, At: now}, nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	p, err := r.claim(week, now, force)
	if err != nil {
		return nil, Posted{}, err
	}
	if !p.claimed {
		return nil, Posted{}, &AlreadyPostedError{Week: week, At: p.sentAt}
	}
	rep, ref, err := r.send(ctx, week, from, to, bo, true)
	if err != nil {
		return nil, Posted{}, r.release(week, err)
	}
	if err := r.confirm(week, now); err != nil {
		return nil, Posted{}, err
	}
	r.o.Logger.Info("digest posted by request", "week", week, "incidents", rep.Total.N, "ref", ref, "forced", !p.sentAt.IsZero())
	return rep, Posted{Week: week, Title: rep.Title, Ref: ref, At: now, PostedBefore: p.sentAt}, nil
}

// claimResult is what the store said to a claim.
type claimResult struct {
	claimed bool
	sentAt  time.Time
}

// claim asks the store for week, and says so when it takes over a post
// that was interrupted.
func (r *Runner) claim(week string, now time.Time, force bool) (claimResult, error) {
	ok, interrupted, sentAt, err := r.o.Store.ClaimDigest(week, now, force)
	if err != nil {
		return claimResult{}, err // it names the week
	}
	if interrupted {
		// At least once: the earlier post may have reached Slack just
		// before its process died (see store.ClaimDigest).
		r.o.Logger.Warn("an earlier post of this digest was interrupted; posting it again, so it may appear twice", "week", week)
	}
	return claimResult{claimed: ok, sentAt: sentAt}, nil
}

// send builds the report, writes its files when files is set (week must
// then name it) and posts it when there is a Poster.
func (r *Runner) send(ctx context.Context, week string, from, to time.Time, bo Options, files bool) (*Report, string, error) {
	rep, err := Build(ctx, r.o.Searcher, r.o.Feeds, from, to, bo)
	if err != nil {
		name := week
		if name == "" {
			name = rangeTitle(from, to, bo.Location)
		}
		return nil, "", fmt.Errorf("digest %s: %w", name, err)
	}
	if files {
		if err := r.write(week, rep); err != nil {
			return nil, "", err
		}
	}
	if r.o.Poster == nil {
		return rep, "", nil
	}
	htmlURL := ""
	if rep.Week != "" {
		htmlURL = r.HTMLURL(rep.Week)
	}
	ref, err := r.o.Poster.SendDigest(ctx, r.o.Channel, rep, htmlURL)
	if err != nil {
		return nil, "", fmt.Errorf("digest %s: post: %w", rep.Title, err)
	}
	return rep, ref, nil
}

// release gives week's claim back after err, so it can be tried again.
func (r *Runner) release(week string, err error) error {
	if rerr := r.o.Store.ReleaseDigest(week); rerr != nil {
		return errors.Join(err, rerr)
	}
	return err
}

// confirm records week as sent. If that fails the digest is out but the
// claim stays open: this process refuses the week until it restarts, and
// the next process posts it again (at least once).
func (r *Runner) confirm(week string, at time.Time) error {
	if err := r.o.Store.ConfirmDigest(week, at); err != nil {
		r.o.Logger.Error("digest posted but not recorded; it may be posted again", "week", week, "err", err)
		return fmt.Errorf("digest %s: record: %w", week, err)
	}
	return nil
}

// HTMLURL is where the web UI serves a week's HTML digest, or "" without
// a base URL.
func (r *Runner) HTMLURL(week string) string {
	return HTMLURL(r.o.Build.BaseURL, week)
}

// HTMLURL is the web UI's address of a week's HTML digest (served by
// web.DigestHandler), or "" when base is not an http(s) URL.
func HTMLURL(base, week string) string {
	base = strings.TrimRight(strings.TrimSpace(base), "/")
	if base == "" || safeURL(base) == "" {
		return ""
	}
	return base + "/api/digest?week=" + url.QueryEscape(week) + "&format=html"
}

// write renders the report into Dir/<week>.{md,html,json}, each file
// replaced atomically so a reader never sees half a digest.
func (r *Runner) write(week string, rep *Report) error {
	if err := os.MkdirAll(r.o.Dir, 0o750); err != nil {
		return fmt.Errorf("digest %s: %w", week, err)
	}
	for _, f := range []struct {
		ext    string
		render func(*bytes.Buffer) error
	}{
		{"md", func(b *bytes.Buffer) error { return rep.Markdown(b) }},
		{"html", func(b *bytes.Buffer) error { return rep.HTML(b) }},
		{"json", func(b *bytes.Buffer) error { return rep.JSON(b) }},
	} {
		var buf bytes.Buffer
		if err := f.render(&buf); err != nil {
			return fmt.Errorf("digest %s: %w", week, err)
		}
		if err := writeFileAtomic(filepath.Join(r.o.Dir, week+"."+f.ext), buf.Bytes()); err != nil {
			return fmt.Errorf("digest %s: %w", week, err)
		}
	}
	return nil
}

func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o640); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return nil
}
