package monitor

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/accordwatch/accordwatch"
	"github.com/robfig/cron/v3"
)

// specParser accepts the standard five fields plus descriptors (@every,
// @hourly, ...). Seconds are not offered: no feed needs them.
var specParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// ParseSchedule parses a feed schedule. It refuses what robfig/cron v3.0.1
// would accept but mishandle: a TZ prefix (schedules run in UTC, and
// "CRON_TZ=UTC" alone panics the parser) and specs that never fire.
func ParseSchedule(spec string) (s cron.Schedule, err error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return nil, fmt.Errorf("schedule is empty")
	}
	if strings.HasPrefix(spec, "TZ=") || strings.HasPrefix(spec, "CRON_TZ=") {
		return nil, fmt.Errorf("schedule %q: time zone prefixes are not supported; feed schedules run in UTC", spec)
	}
	defer func() {
		if r := recover(); r != nil {
			s, err = nil, fmt.Errorf("schedule %q: invalid", spec)
		}
	}()
	s, err = specParser.Parse(spec)
	if err != nil {
		return nil, fmt.Errorf("schedule %q: %w", spec, err)
	}
	if s.Next(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)).IsZero() {
		return nil, fmt.Errorf("schedule %q never fires", spec)
	}
	return s, nil
}

// ValidateSchedule is ParseSchedule for config checks.
func ValidateSchedule(spec string) error {
	_, err := ParseSchedule(spec)
	return err
}

// Scheduler runs each feed on its own schedule, in UTC.
type Scheduler struct {
	p      *Pipeline
	cron   *cron.Cron
	feeds  []accordwatch.Feed
	logger *slog.Logger
	// drainEvery retries pending alerts between polls.
	drainEvery string
	// running tracks catch-up polls started outside cron, which cron's
	// Stop does not wait for.
	running sync.WaitGroup
}

// NewScheduler builds the schedules. Each job is wrapped as
// SkipIfStillRunning(Recover(job)): an overlapping run of the same feed is
// skipped, and a panic is logged without killing the process. The order
// matters in v3.0.1 — with Recover outside, one panic would disable the
// job forever (LIBRARIES.md §2.3).
func NewScheduler(p *Pipeline, list []accordwatch.Feed, logger *slog.Logger) (*Scheduler, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	cl := cronLogger{logger.With("component", "cron")}
	c := cron.New(
		cron.WithLocation(time.UTC),
		cron.WithParser(specParser),
		cron.WithLogger(cl),
		cron.WithChain(cron.SkipIfStillRunning(cl), cron.Recover(cl)),
	)
	return &Scheduler{p: p, cron: c, feeds: list, logger: logger, drainEvery: "@every 30s"}, nil
}

// Start registers the jobs under ctx (the jobs' lifetime) and starts the
// clock. Feeds that are overdue — never polled, or their next run after
// the last attempt is already past — are polled right away, so a restart
// neither skips a poll nor bursts every feed.
func (s *Scheduler) Start(ctx context.Context) error {
	for _, f := range s.feeds {
		sched, err := ParseSchedule(f.Schedule)
		if err != nil {
			return fmt.Errorf("feed %q: %w", f.Name, err)
		}
		job := cron.FuncJob(func() {
			s.p.PollFeed(ctx, f)
			if _, err := s.p.Drain(ctx); err != nil && ctx.Err() == nil {
				s.logger.Error("drain outbox", "err", err)
			}
		})
		id := s.cron.Schedule(sched, job)
		st, _, err := s.p.o.Store.FeedState(f.URL)
		if err != nil {
			return err
		}
		if st.LastAttempt.IsZero() || !sched.Next(st.LastAttempt).After(s.p.o.Now()) {
			wrapped := s.cron.Entry(id).WrappedJob
			s.running.Add(1)
			go func() {
				defer s.running.Done()
				wrapped.Run()
			}()
		}
	}
	_, err := s.cron.AddFunc(s.drainEvery, func() {
		if _, err := s.p.Drain(ctx); err != nil && ctx.Err() == nil {
			s.logger.Error("drain outbox", "err", err)
		}
	})
	if err != nil {
		return err
	}
	s.cron.Start()
	return nil
}

// Stop stops scheduling; the returned context is done when running jobs
// have finished (cancel their ctx to hurry them).
func (s *Scheduler) Stop() context.Context {
	cronDone := s.cron.Stop()
	ctx, done := context.WithCancel(context.Background())
	go func() {
		<-cronDone.Done()
		s.running.Wait()
		done()
	}()
	return ctx
}

// cronLogger adapts slog to cron's logger; skips and panics are visible.
type cronLogger struct{ l *slog.Logger }

func (c cronLogger) Info(msg string, kv ...any) {
	if msg == "skip" {
		c.l.Info("previous run still going; skipped", kv...)
		return
	}
	c.l.Debug(msg, kv...)
}

func (c cronLogger) Error(err error, msg string, kv ...any) {
	c.l.Error(msg, append([]any{"err", err}, kv...)...)
}
