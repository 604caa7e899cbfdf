package monitor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
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

// Scheduler polls each enabled feed on its own schedule, in UTC, through
// one dispatcher (see dispatcher), and runs the periodic jobs — the
// outbox drain every 30 seconds and whatever AddJob registers — on
// robfig/cron. A feed's next check is saved in its state after every
// attempt, so a restart resumes where it stopped: no burst of early
// polls, no skipped ones.
type Scheduler struct {
	p      *Pipeline
	feeds  []accordwatch.Feed
	logger *slog.Logger
	cron   *cron.Cron
	chain  cron.Chain
	jobs   []job
	// drainEvery retries pending alerts between polls.
	drainEvery string
	// resumeEvery looks for pending articles whose fetch no process
	// finished (ResumeArticles): a replica that died, or a claim that ran
	// out. resumeMu keeps the run at start and the periodic ones apart.
	resumeEvery string
	resumeMu    sync.Mutex
	// lease, when set by ShareFeeds, shares the feeds among replicas.
	lease *leasing

	mu       sync.Mutex
	started  bool
	stop     chan struct{}
	stopOnce sync.Once
	// dispatched is closed when the dispatcher has returned.
	dispatched chan struct{}
	// kicks tracks the drain runner, which cron's Stop does not wait for.
	kicks sync.WaitGroup

	// Drains run one at a time on a runner goroutine; a kick while one runs
	// makes the runner go again once it ends, so alerts committed during a
	// drain never wait for the next tick. dmu guards the fields below.
	dmu      sync.Mutex
	drainFn  func()
	draining bool
	again    bool
	closed   bool
	// retryAt is when retryTimer kicks a drain: the earliest time a
	// deferred alert becomes due, so retries and follow-ups waiting for
	// their thread go out on time rather than at the next tick.
	retryAt    time.Time
	retryTimer *time.Timer
	// busy counts the runs of each periodic job in progress, by name, so
	// a shutdown that stops waiting can say what it left running.
	busy map[string]int
}

// job is a periodic job registered with AddJob.
type job struct {
	sched cron.Schedule
	name  string
	fn    func(context.Context)
}

// NewScheduler checks every enabled feed's schedule and builds the
// scheduler. Periodic jobs (not the drain, which has its own runner) are
// wrapped as SkipIfStillRunning(Recover(job)):
// an overlapping run is skipped, and a panic is logged without killing the
// process. The order matters in v3.0.1 — with Recover outside, one panic
// would disable the job forever (LIBRARIES.md §2.3).
func NewScheduler(p *Pipeline, list []accordwatch.Feed, logger *slog.Logger) (*Scheduler, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	seen := map[string]bool{}
	var active []accordwatch.Feed
	for _, f := range list {
		if f.Disabled {
			continue
		}
		if f.Schedule != "" {
			if _, err := ParseSchedule(f.Schedule); err != nil {
				return nil, fmt.Errorf("feed %q: %w", f.Name, err)
			}
		}
		if seen[f.URL] {
			// One entry per URL: two would poll the same feed at once.
			logger.Warn("feed listed twice; polling it once", "feed_url", accordwatch.RedactURL(f.URL))
			continue
		}
		seen[f.URL] = true
		active = append(active, f)
	}
	cl := cronLogger{logger.With("component", "cron")}
	s := &Scheduler{
		p: p, feeds: active, logger: logger, drainEvery: "@every 30s", resumeEvery: "@every 5m",
		cron:       cron.New(cron.WithLocation(time.UTC), cron.WithParser(specParser), cron.WithLogger(cl)),
		chain:      cron.NewChain(cron.SkipIfStillRunning(cl), cron.Recover(cl)),
		stop:       make(chan struct{}),
		dispatched: make(chan struct{}),
		busy:       map[string]int{},
	}
	return s, nil
}

// AddJob registers a periodic job (a cron spec, evaluated in UTC unless it
// starts with "CRON_TZ=Zone "), run under Start's context. Call it before
// Start.
func (s *Scheduler) AddJob(spec, name string, fn func(ctx context.Context)) error {
	sched, err := parseJobSpec(spec)
	if err != nil {
		return fmt.Errorf("job %s: %w", name, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return fmt.Errorf("job %s: scheduler already started", name)
	}
	s.jobs = append(s.jobs, job{sched: sched, name: name, fn: fn})
	return nil
}

// parseJobSpec parses a periodic job's spec; unlike feed schedules it may
// carry a time-zone prefix (the digest runs in local time), but never the
// bare prefix that panics the parser.
func parseJobSpec(spec string) (s cron.Schedule, err error) {
	defer func() {
		if r := recover(); r != nil {
			s, err = nil, fmt.Errorf("schedule %q: invalid", spec)
		}
	}()
	s, err = specParser.Parse(strings.TrimSpace(spec))
	if err != nil {
		return nil, fmt.Errorf("schedule %q: %w", spec, err)
	}
	return s, nil
}

// Start loads each feed's next check and starts the dispatcher and the
// periodic jobs under ctx (their lifetime). A feed is first due at its
// stored next check; a feed never polled is due now plus its jitter, so a
// thousand new feeds do not all start on the same second.
func (s *Scheduler) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return errors.New("scheduler already started")
	}
	now := s.p.o.Now()
	entries := make([]*entry, 0, len(s.feeds))
	for i, f := range s.feeds {
		st, _, err := s.p.o.Store.FeedState(f.URL)
		if err != nil {
			return err
		}
		entries = append(entries, s.p.newEntry(f, st.MovedTo, s.firstCheck(f, st, now), i))
	}

	s.dmu.Lock()
	s.drainFn = func() { s.drainOnce(ctx) }
	s.dmu.Unlock()
	sched, err := parseJobSpec(s.drainEvery)
	if err != nil {
		return err
	}
	s.cron.Schedule(sched, cron.FuncJob(s.kickDrain))
	if s.p.o.Articles != nil {
		rs, err := parseJobSpec(s.resumeEvery)
		if err != nil {
			return err
		}
		s.cron.Schedule(rs, cron.FuncJob(func() { s.resumeArticles(ctx) }))
		// Articles a stop cut off are fetched now, beside the first polls,
		// not at the first tick. Stop waits for it like for a drain.
		s.kicks.Add(1)
		go func() {
			defer s.kicks.Done()
			s.resumeArticles(ctx)
		}()
	}
	for _, j := range s.jobs {
		s.cron.Schedule(j.sched, s.chain.Then(cron.FuncJob(func() {
			s.track(j.name, 1)
			defer s.track(j.name, -1)
			j.fn(ctx)
		})))
	}

	s.started = true
	go func() {
		defer close(s.dispatched)
		d := newDispatcher(s.p, s.kickDrain)
		d.lease = s.lease
		d.run(ctx, s.stop, entries, true, nil)
	}()
	s.cron.Start()
	// Alerts left pending by a crash or an outage go out now, not at the
	// first tick.
	s.kickDrain()
	s.logger.Info("scheduler started", "feeds", len(entries), "concurrency", s.p.o.Concurrency, "per_host", s.p.o.PerHost)
	return nil
}

// startSpread bounds how far apart due feeds are started after a start.
const startSpread = 10 * time.Second

// firstCheck is when a feed is first due after a start.
func (s *Scheduler) firstCheck(f accordwatch.Feed, st accordwatch.FeedState, now time.Time) time.Time {
	sched := s.p.scheduleOf(f)
	next := st.NextCheckAt
	if next.IsZero() && !st.LastAttempt.IsZero() {
		// State saved before next checks were recorded.
		next = sched.Next(st.LastAttempt)
	}
	if next.IsZero() || next.Before(now) {
		// Never polled, or overdue: due now, spread over a few seconds so
		// a thousand feeds do not start on the same tick — but not over
		// the whole jitter window: someone who just started the daemon
		// expects items in seconds, not in a minute and a half.
		spread := min(jitterFor(1, period(sched, now)), startSpread)
		return now.Add(time.Duration(jitterFrac(f.URL) * float64(spread)))
	}
	// A clock jump or a stale state must not park a feed for longer than
	// the longest interval.
	if limit := now.Add(s.p.lim.max); next.After(limit) {
		return limit
	}
	return next
}

// DrainNow delivers pending alerts now rather than at the next tick: for
// alerts another replica queued (see Options.Channels). Safe to call at
// any time, from any goroutine.
func (s *Scheduler) DrainNow() { s.kickDrain() }

// kickDrain delivers pending alerts right away instead of at the next
// tick: it starts the drain runner, or asks the running one to go again.
func (s *Scheduler) kickDrain() {
	s.dmu.Lock()
	if s.closed || s.drainFn == nil {
		s.dmu.Unlock()
		return
	}
	if s.draining {
		s.again = true
		s.dmu.Unlock()
		return
	}
	s.draining = true
	s.kicks.Add(1)
	run := s.drainFn
	s.dmu.Unlock()
	go func() {
		defer s.kicks.Done()
		for {
			run()
			s.dmu.Lock()
			if !s.again {
				s.draining = false
				s.dmu.Unlock()
				return
			}
			s.again = false
			s.dmu.Unlock()
		}
	}()
}

// drainOnce runs one drain, logging a panic rather than dying of it, and
// arms the retry timer for what it deferred.
func (s *Scheduler) drainOnce(ctx context.Context) {
	defer func() {
		if r := recover(); r != nil {
			s.logger.Error("panic while draining the outbox", "panic", r)
		}
	}()
	rep, err := s.p.Drain(ctx)
	if err != nil && ctx.Err() == nil {
		s.logger.Error("drain outbox", "err", err)
	}
	s.armRetry(rep.Next)
}

// resumeArticles runs one ResumeArticles unless one is running.
func (s *Scheduler) resumeArticles(ctx context.Context) {
	if !s.resumeMu.TryLock() {
		return
	}
	defer s.resumeMu.Unlock()
	s.track("pending articles", 1)
	defer s.track("pending articles", -1)
	defer func() {
		if r := recover(); r != nil {
			s.logger.Error("panic while resuming pending articles", "panic", r)
		}
	}()
	if _, err := s.p.ResumeArticles(ctx, s.feeds); err != nil {
		if ctx.Err() != nil {
			s.logger.Debug("resuming pending articles stopped: shutting down", "err", err)
			return
		}
		s.logger.Error("resume pending articles", "err", err)
	}
}

// armRetry makes sure a drain runs at at (unless one is armed earlier).
func (s *Scheduler) armRetry(at time.Time) {
	if at.IsZero() {
		return
	}
	s.dmu.Lock()
	defer s.dmu.Unlock()
	if s.closed || (!s.retryAt.IsZero() && !at.Before(s.retryAt)) {
		return
	}
	if s.retryTimer != nil {
		s.retryTimer.Stop()
	}
	s.retryAt = at
	s.retryTimer = time.AfterFunc(max(at.Sub(s.p.o.Now()), 0), func() {
		s.dmu.Lock()
		s.retryAt = time.Time{}
		s.dmu.Unlock()
		s.kickDrain()
	})
}

// Stop stops dispatching and the periodic jobs; the returned context is
// done when running polls and jobs have finished (cancel Start's ctx to
// hurry them).
func (s *Scheduler) Stop() context.Context {
	s.stopOnce.Do(func() { close(s.stop) })
	s.mu.Lock()
	started := s.started
	s.mu.Unlock()
	cronDone := s.cron.Stop()
	ctx, done := context.WithCancel(context.Background())
	go func() {
		<-cronDone.Done()
		if started {
			<-s.dispatched
		}
		// No kicks after this point, so the wait below is final.
		s.dmu.Lock()
		s.closed = true
		if s.retryTimer != nil {
			s.retryTimer.Stop()
		}
		s.dmu.Unlock()
		s.kicks.Wait()
		done()
	}()
	return ctx
}

// Drained is closed once the dispatcher has returned: no poll is running
// and the writer has committed, or given up on, everything the polls
// handed it, so the index and the store can be closed. That happens after
// Stop, or once Start's ctx is done and the polls have noticed. Before
// Start it is closed already.
func (s *Scheduler) Drained() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.started {
		done := make(chan struct{})
		close(done)
		return done
	}
	return s.dispatched
}

// Running names what is still in progress, sorted: "feed polls" until
// the dispatcher and its writer have returned (see Drained), "outbox
// drain" while a drain runs, and "job NAME" for each periodic job
// running. It is meant for after Stop, for a shutdown that stops waiting
// to say what it left behind; before Stop, the polls are always running.
func (s *Scheduler) Running() []string {
	var out []string
	select {
	case <-s.Drained():
	default:
		out = append(out, "feed polls")
	}
	s.dmu.Lock()
	if s.draining {
		out = append(out, "outbox drain")
	}
	for name, n := range s.busy {
		if n > 0 {
			out = append(out, "job "+name)
		}
	}
	s.dmu.Unlock()
	slices.Sort(out)
	return out
}

// track counts a periodic job's run in (delta 1) or out (-1).
func (s *Scheduler) track(name string, delta int) {
	s.dmu.Lock()
	defer s.dmu.Unlock()
	s.busy[name] += delta
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
