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

// SentStore records which weeks' digests went out. MarkDigestSent must be
// atomic: it returns first=false when the week was already recorded.
// *store.Store implements it.
type SentStore interface {
	DigestSent(week string) (at time.Time, ok bool, err error)
	MarkDigestSent(week string, at time.Time) (first bool, err error)
}

// Poster delivers a digest to a chat channel; *notify.Notifier implements
// it. htmlURL links to the HTML page ("" when there is no web UI). A
// returned error means nothing may have been delivered, so the digest is
// tried again on the next run.
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
// at now and was not sent yet: build, write the files, post, then record
// it in the store. Call it on start (the catch-up of a run missed while
// the daemon was down) and from the weekly job. Only that one week is
// caught up: an older missed week would arrive stale, next to a fresh
// one. A failure leaves the week unrecorded, so the next call retries it;
// a week is never recorded, and so never posted again, once sent.
func (r *Runner) RunDue(ctx context.Context, now time.Time) error {
	week, from, to, due := r.Due(now)
	if now.Before(due) {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	at, sent, err := r.o.Store.DigestSent(week)
	if err != nil {
		return fmt.Errorf("digest %s: %w", week, err)
	}
	if sent {
		r.o.Logger.Debug("digest already sent", "week", week, "sent_at", at)
		return nil
	}
	if r.o.Since.After(from) {
		// A fresh install would otherwise open with a digest of a week it
		// never watched.
		r.o.Logger.Info("no digest for a week not monitored from its start", "week", week, "monitoring_since", r.o.Since)
		return nil
	}
	late := now.Sub(due)
	bo := r.o.Build
	bo.Now = func() time.Time { return now }
	rep, err := Build(ctx, r.o.Searcher, r.o.Feeds, from, to, bo)
	if err != nil {
		return fmt.Errorf("digest %s: %w", week, err)
	}
	if err := r.write(week, rep); err != nil {
		return err
	}
	ref := ""
	if r.o.Poster != nil {
		ref, err = r.o.Poster.SendDigest(ctx, r.o.Channel, rep, r.HTMLURL(week))
		if err != nil {
			return fmt.Errorf("digest %s: post: %w", week, err)
		}
	}
	first, err := r.o.Store.MarkDigestSent(week, now)
	if err != nil {
		// Posted but not recorded: the next run would post again. Say so
		// loudly; there is nothing safer to do here.
		r.o.Logger.Error("digest posted but not recorded; it may be posted again", "week", week, "err", err)
		return fmt.Errorf("digest %s: record: %w", week, err)
	}
	if !first {
		r.o.Logger.Warn("digest was recorded by another process meanwhile", "week", week)
	}
	r.o.Logger.Info("digest sent", "week", week, "incidents", rep.Total.N, "ref", ref, "late", late.Round(time.Second).String())
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
