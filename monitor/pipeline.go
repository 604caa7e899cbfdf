package monitor

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/accordwatch/accordwatch"
	"github.com/accordwatch/accordwatch/feeds"
	"github.com/accordwatch/accordwatch/incident"
	"github.com/accordwatch/accordwatch/store"
	"github.com/robfig/cron/v3"
)

// Fetcher polls one feed. It always returns the feed's updated state,
// also on error (see feeds.Fetcher). It must be safe for concurrent use.
type Fetcher interface {
	Fetch(ctx context.Context, feed accordwatch.Feed, prev accordwatch.FeedState) (feeds.Result, error)
}

// Classifier tags an item; it must be safe for concurrent use.
type Classifier interface {
	Classify(title, text string, published time.Time) accordwatch.Tags
}

// Store is the source of truth. CommitBatch must save items, incidents,
// members, singletons, pending-article marks (see store.Batch) and alerts
// atomically and skip
// alert IDs already present; SaveAlerts likewise for a summary and the
// alerts it stands for. It must be safe for concurrent use.
type Store interface {
	FeedState(url string) (accordwatch.FeedState, bool, error)
	SaveFeedState(accordwatch.FeedState) error
	Diff([]accordwatch.Item) ([]store.Change, error)
	CommitBatch(store.Batch) ([]accordwatch.Alert, error)
	Item(id string) (accordwatch.Item, bool, error)
	// ClaimArticles claims, until until, up to limit pending articles
	// (store.Batch.ArticlesPending) whose claim ended by now, oldest mark
	// first; a claimed mark is not returned again before its claim ends,
	// in this process or (with a shared database) any other.
	ClaimArticles(ctx context.Context, now, until time.Time, limit int) ([]store.PendingArticle, error)
	// Outbox: Alerts is all of it (read at start), OpenAlerts only the
	// pending and overflow entries (read by every drain).
	Alerts() ([]accordwatch.Alert, error)
	OpenAlerts() ([]accordwatch.Alert, error)
	Alert(id string) (accordwatch.Alert, bool, error)
	UpdateAlert(accordwatch.Alert) error
	SaveAlerts(add, update []accordwatch.Alert) ([]accordwatch.Alert, error)
	// Incidents, their Slack threads and silences.
	Incident(id string) (accordwatch.Incident, bool, error)
	MemberOf(itemID string) (store.Member, bool, error)
	RecentMembers(since time.Time, fn func(accordwatch.Incident, store.Member) error) error
	RecentSingletons(since time.Time, fn func(itemID string) error) error
	Thread(channel, incidentID string) (store.Thread, bool, error)
	SetThread(channel, incidentID string, th store.Thread) error
	Silences() ([]accordwatch.Silence, error)
}

// Index is the derived search index; Add replaces documents by ID. An
// Add error means some items were not indexed. When the error (or one it
// wraps) has a WriteFailed() bool method that returns true, the index
// could not write at all — a full or failing disk — rather than refusing
// the items: the pass then fails (see RunOnce). After a failed Add,
// adding the same items again must index them.
type Index interface {
	Add(ctx context.Context, items []accordwatch.Item) error
	Matching(ctx context.Context, query string, ids []string) ([]string, error)
}

// Notifier delivers one alert with one attempt, rendered by its Kind (an
// incident message, a reply in a.ThreadRef, a summary); failures are
// *notify.SendError saying whether and when to retry. It must be safe for
// concurrent use.
type Notifier interface {
	Send(ctx context.Context, a accordwatch.Alert, item accordwatch.Item) (ref string, err error)
}

// ParentUpdater is implemented by notifiers that can edit a posted
// incident message in place (Slack's chat.update), to show its number of
// sources after a follow-up. a and item are the incident message's own
// alert and item. Errors are *notify.SendError; a failed update is never
// a reason to post the follow-up again.
type ParentUpdater interface {
	UpdateParent(ctx context.Context, ref string, a accordwatch.Alert, item accordwatch.Item, sources int) error
}

// OpsNotifier tells the operators about feed health: one message when a
// feed has been failing for Options.UnhealthyAfter, one when it recovers.
// An error means the message was not delivered; it is retried on the
// feed's next attempt.
type OpsNotifier interface {
	NotifyOps(ctx context.Context, text string) error
}

// Metrics counts fetch attempts. Fetched is called once per attempt, from
// many goroutines at once; result is "ok", "not_modified" or
// "error_<kind>" (the feeds.FetchError kind, "-" written "_", or
// "internal" for a panic and "pipeline" when the items could not be
// stored); took is the fetch's duration.
type Metrics interface {
	Fetched(result string, bytes int64, items int, took time.Duration)
}

// Options wire a Pipeline. Zero durations and counts take the defaults.
type Options struct {
	Fetcher    Fetcher
	Classifier Classifier
	Store      Store
	Index      Index
	Notifier   Notifier
	Rules      []accordwatch.Rule
	// Concurrency bounds feeds fetched at once; default 8.
	Concurrency int
	// PerHost bounds fetches to one host at once; default 2. Local files
	// count as one host.
	PerHost int
	// DefaultSchedule is for feeds without their own; default "@every 15m".
	DefaultSchedule string
	// MinInterval is the shortest time between two polls of a feed,
	// whatever the schedule says (a feed's own MinInterval may raise it);
	// default 5m. MaxInterval is the longest, whatever the server asks
	// for; default 24h. MaxBackoff caps the exponential backoff of a
	// failing feed; default 6h, never beyond MaxInterval.
	MinInterval time.Duration
	MaxInterval time.Duration
	MaxBackoff  time.Duration
	// UnhealthyAfter is how long a feed fails without interruption before
	// one message goes to Ops; default 6h.
	UnhealthyAfter time.Duration
	// Ops receives feed-health messages; nil = log only.
	Ops OpsNotifier
	// Metrics counts attempts; nil = none.
	Metrics Metrics
	// GroupItems and GroupWait shape the single writer's commits: new items
	// of many feeds go to the index and the store together, up to
	// GroupItems items or GroupWait after the first; defaults 1000, 200ms.
	GroupItems int
	GroupWait  time.Duration
	// MaxRetryWait is the longest Retry-After a drain waits out in place;
	// longer ones leave the alert pending for a later drain. Default 30s.
	MaxRetryWait time.Duration
	// Channels, when set, shares the outbox with other replicas: a drain
	// delivers only the alerts of the destinations whose lock this
	// process holds (see ChannelLocks). Nil: it delivers them all.
	Channels ChannelLocks
	// Incidents groups the new items that report the same event; nil makes
	// every item its own incident. IncidentWindow is how far back its
	// memory is rebuilt from the store at New (the clusterer's window);
	// default incident.DefaultWindow.
	Incidents      *incident.Clusterer
	IncidentWindow time.Duration
	// IncidentSync, when set, shares incident decisions with the other
	// replicas of one database (see IncidentSync). Nil: this process
	// decides alone.
	IncidentSync IncidentSync
	// CapHistory, with IncidentSync, counts the rules' rate caps over
	// every replica's alerts (see AlertHistory). Nil: over this
	// process's own.
	CapHistory AlertHistory
	// SummaryEvery is the least time between two summaries of rate-capped
	// alerts on one channel; default 5m.
	SummaryEvery time.Duration
	// FollowupWait is how long a follow-up waits for its incident message
	// to be posted (it needs the thread); default 5s.
	FollowupWait time.Duration
	// Articles fetches the article behind new items (see ArticleFetcher
	// and accordwatch.Feed.ArticleMode); nil = never. ArticleThreshold is
	// the feed text length (characters) below which an "auto" feed's
	// item gets its article; default 600. ArticleWait is how long a poll
	// waits for its articles before committing (and alerting) without
	// them; default 15s. An article that arrives later is still added,
	// and the incident's posted message updated (see applyLate).
	Articles         ArticleFetcher
	ArticleThreshold int
	ArticleWait      time.Duration
	// ArticleClaim is how long the process that committed an item before
	// its article arrived, or that resumed it, owns the fetch: no other
	// resume takes it before then, and the fetch is bounded well inside
	// it; default 5m. A pending article older than ArticleMaxAge (default
	// 24h) is given up with a log line instead (see ResumeArticles).
	ArticleClaim  time.Duration
	ArticleMaxAge time.Duration
	// HostSlots, when set, holds article fetches to the per-host cap of
	// every replica of one database together with their feed leases (see
	// HostLeaser); nil: to this process's cap only. HostSlotPeriod is how
	// long a slot lasts unreleased, and bounds the request it covers;
	// default 2m — keep it above twice the fetcher's timeout.
	HostSlots      HostLeaser
	HostSlotPeriod time.Duration
	Now            func() time.Time
	Logger         *slog.Logger
}

// Pipeline is fetch-to-outbox processing of feeds, plus outbox delivery.
type Pipeline struct {
	o       Options
	lim     limits
	defSche cron.Schedule
	seen    *seenCache
	// hosts caps requests per host, feeds and articles together.
	hosts *hostSlots
	// late counts article fetches and late-article commits still running
	// (article.go); a pass waits for them before it ends.
	late sync.WaitGroup
	// drainMu serialises deliveries: two drains racing over the same
	// pending alert would post it twice. It guards the fields below it too.
	drainMu sync.Mutex
	// lastSummary is when each channel last got a summary.
	lastSummary map[string]time.Time
	// parentUpdates are incident-message updates that Slack deferred (429
	// or a transient error), keyed by thread ref; retried by later drains.
	parentUpdates map[string]parentUpdate

	// commitMu serialises commits: incidents are assigned and rate caps
	// counted against what earlier commits did. It guards the fields below.
	commitMu sync.Mutex
	// capLog holds, per channel, when each new-incident message of the
	// last hour was enqueued.
	capLog    map[string][]time.Time
	lastPrune time.Time
	// syncPos is the last item change the clusterer learned from the
	// database (IncidentSync).
	syncPos int64
	// overflow marks channels with alerts held back by a rate cap, so a
	// drain scans the outbox for a summary only when there is one to make.
	overflow atomicSet
}

// New checks the wiring and returns a Pipeline.
func New(o Options) (*Pipeline, error) {
	if o.Fetcher == nil || o.Classifier == nil || o.Store == nil || o.Index == nil || o.Notifier == nil {
		return nil, errors.New("monitor: fetcher, classifier, store, index and notifier are all required")
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 8
	}
	if o.PerHost <= 0 {
		o.PerHost = 2
	}
	if o.DefaultSchedule == "" {
		o.DefaultSchedule = "@every 15m"
	}
	if o.MinInterval <= 0 {
		o.MinInterval = 5 * time.Minute
	}
	if o.MaxInterval <= 0 {
		o.MaxInterval = 24 * time.Hour
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 6 * time.Hour
	}
	if o.UnhealthyAfter <= 0 {
		o.UnhealthyAfter = 6 * time.Hour
	}
	if o.GroupItems <= 0 {
		o.GroupItems = 1000
	}
	if o.GroupWait <= 0 {
		o.GroupWait = 200 * time.Millisecond
	}
	if o.MaxRetryWait == 0 {
		o.MaxRetryWait = 30 * time.Second
	}
	if o.IncidentWindow <= 0 {
		o.IncidentWindow = incident.DefaultWindow
	}
	if o.SummaryEvery <= 0 {
		o.SummaryEvery = 5 * time.Minute
	}
	if o.FollowupWait <= 0 {
		o.FollowupWait = 5 * time.Second
	}
	if o.ArticleThreshold <= 0 {
		o.ArticleThreshold = defaultArticleThreshold
	}
	if o.ArticleWait <= 0 {
		o.ArticleWait = defaultArticleWait
	}
	if o.ArticleClaim <= 0 {
		o.ArticleClaim = defaultArticleClaim
	}
	if o.ArticleMaxAge <= 0 {
		o.ArticleMaxAge = defaultArticleMaxAge
	}
	if o.HostSlotPeriod <= 0 {
		o.HostSlotPeriod = defaultHostSlotPeriod
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.MinInterval > o.MaxInterval {
		return nil, fmt.Errorf("monitor: minimum interval %s is above the maximum %s", o.MinInterval, o.MaxInterval)
	}
	def, err := ParseSchedule(o.DefaultSchedule)
	if err != nil {
		return nil, fmt.Errorf("monitor: default schedule: %w", err)
	}
	p := &Pipeline{o: o, defSche: def, seen: newSeenCache(), hosts: newHostSlots(o.PerHost),
		lastSummary: map[string]time.Time{}, parentUpdates: map[string]parentUpdate{}, capLog: map[string][]time.Time{}}
	p.lim = limits{min: o.MinInterval, max: o.MaxInterval, maxBackoff: min(o.MaxBackoff, o.MaxInterval)}
	if err := p.restore(); err != nil {
		return nil, fmt.Errorf("monitor: %w", err)
	}
	return p, nil
}

// scheduleOf is the feed's own schedule, or the default when it has none
// or (for feeds never validated, e.g. from --feeds) an invalid one.
func (p *Pipeline) scheduleOf(f accordwatch.Feed) cron.Schedule {
	if strings.TrimSpace(f.Schedule) == "" {
		return p.defSche
	}
	s, err := ParseSchedule(f.Schedule)
	if err != nil {
		p.o.Logger.Warn("invalid feed schedule; using the default", "feed_url", accordwatch.RedactURL(f.URL), "err", err, "default", p.o.DefaultSchedule)
		return p.defSche
	}
	return s
}

// FeedReport is what one poll of one feed did.
type FeedReport struct {
	Feed        accordwatch.Feed
	Title       string
	Fetched     int
	New         int
	Changed     int
	Alerts      int
	NotModified bool
	// NextCheckAt is when the feed is due again (also saved in its state).
	NextCheckAt time.Time
	// MovedTo is where a permanent redirect moved the feed, if anywhere;
	// later polls go there.
	MovedTo string
	// Err is why the feed failed; other feeds are unaffected.
	Err error
	// Shared is set when a one-off pass left the feed to the replicas it
	// shares feeds with (see RunOnceShared); nothing else is set but
	// NextCheckAt.
	Shared bool
}

// attempt carries one poll of one feed through the pipeline's stages:
// fetch and prepare on a worker, commit on the writer, finish on either.
type attempt struct {
	feed accordwatch.Feed
	prev accordwatch.FeedState
	res  feeds.Result
	// err is the fetch's failure; procErr a failure after a good fetch.
	err     error
	procErr error
	took    time.Duration
	// todo are the new and changed items, classified; changed[i] says
	// whether todo[i] is an edit of a stored item.
	todo    []accordwatch.Item
	changed []bool
	// late are article fetches that outlived ArticleWait, marked pending
	// by the commit and applied after it (followLate).
	late *lateArticles
	// articlesDone are items whose pending article marks the commit
	// clears (applyLate).
	articlesDone []string
	rep          FeedReport
	// done receives the final report when the writer finished the attempt.
	done func(FeedReport)
}

// PollFeed fetches one feed and carries its new and changed items through
// classify, index and the alert rules into the store, then records the
// feed's state (health and next check). Index, rules and commit run in
// that order and are each idempotent, so a crash before the commit simply
// redoes the work on the next poll; after it, nothing is redone and
// nothing re-alerts.
func (p *Pipeline) PollFeed(ctx context.Context, feed accordwatch.Feed) FeedReport {
	a := p.fetch(ctx, feed)
	p.prepare(ctx, a)
	if len(a.todo) > 0 && a.procErr == nil {
		p.commitGroup(ctx, []*attempt{a})
	}
	return p.safeFinish(ctx, a)
}

// fetch loads the feed's state and fetches it; a panic in the fetcher
// becomes this feed's error.
func (p *Pipeline) fetch(ctx context.Context, feed accordwatch.Feed) (a *attempt) {
	a = &attempt{feed: feed, rep: FeedReport{Feed: feed}}
	prev, _, err := p.o.Store.FeedState(feed.URL)
	prev.URL = feed.URL
	a.prev = prev
	a.res.State = prev
	if err != nil {
		a.err = err
		return a
	}
	start := time.Now()
	defer func() {
		a.took = time.Since(start)
		if r := recover(); r != nil {
			p.o.Logger.Error("panic while fetching feed", "feed_url", accordwatch.RedactURL(feed.URL), "panic", r)
			a.res = feeds.Result{State: prev}
			a.err = fmt.Errorf("internal error: %v", r)
		}
	}()
	a.res, a.err = p.o.Fetcher.Fetch(ctx, feed, prev)
	return a
}

// prepare sorts the fetched items into new, changed and unchanged, fetches
// the articles of new items that need one (article.go) and classifies new
// and changed items. It runs on the fetch workers, in parallel: the
// classifier is safe for concurrent use and Diff only reads.
func (p *Pipeline) prepare(ctx context.Context, a *attempt) {
	if a.err != nil || len(a.res.Items) == 0 {
		return
	}
	defer func() {
		if r := recover(); r != nil {
			p.o.Logger.Error("panic while classifying feed", "feed_url", accordwatch.RedactURL(a.feed.URL), "panic", r)
			a.todo, a.procErr = nil, fmt.Errorf("internal error: %v", r)
		}
	}()
	ask := p.seen.unknown(a.feed.URL, a.res.Items)
	if len(ask) == 0 {
		return
	}
	asked := make([]accordwatch.Item, len(ask))
	for j, i := range ask {
		asked[j] = a.res.Items[i]
	}
	changes, err := p.o.Store.Diff(asked)
	if err != nil {
		a.procErr = err
		return
	}
	if err := p.keepArticles(asked, changes); err != nil {
		a.procErr = err
		return
	}
	a.late = p.articles(ctx, a.feed, asked, changes)
	for j, it := range asked {
		switch changes[j] {
		case store.New:
			a.rep.New++
		case store.Changed:
			a.rep.Changed++
		default:
			continue
		}
		it.Tags = p.classify(it)
		a.todo = append(a.todo, it)
		a.changed = append(a.changed, changes[j] == store.Changed)
	}
}

// commitGroup indexes the new items of several feeds, runs the alert
// rules over them and commits items and alerts in one transaction. When
// the group fails it is retried feed by feed, so one feed whose items
// cannot be indexed or stored never fails the others. It returns how many
// alerts were added.
//
// A feed whose commit failed keeps its error in procErr: finish then
// keeps its old validators and last success, so the next poll fetches
// the same items again, and nothing in the store says they were seen.
func (p *Pipeline) commitGroup(ctx context.Context, group []*attempt) int {
	n, err := p.commitAll(ctx, group)
	if err == nil {
		return n
	}
	if len(group) == 1 {
		group[0].procErr = err
		p.logCommitFailure(ctx, group[0], err)
		return 0
	}
	p.o.Logger.Debug("group commit failed; committing feed by feed", "feeds", len(group), "err", err)
	total := 0
	for _, a := range group {
		n, err := p.commitAll(ctx, []*attempt{a})
		if err != nil {
			a.procErr = err
			p.logCommitFailure(ctx, a, err)
			continue
		}
		total += n
	}
	return total
}

// logCommitFailure says which of index and store failed for a feed's
// items; cancellation at shutdown is not a failure worth an error line.
func (p *Pipeline) logCommitFailure(ctx context.Context, a *attempt, err error) {
	log := p.o.Logger.With("feed", a.feed.Name, "feed_url", accordwatch.RedactURL(a.feed.URL), "items", len(a.todo))
	var se *storageError
	switch {
	case ctx.Err() != nil:
		log.Debug("items not committed: shutting down", "err", err)
	case errors.As(err, &se):
		log.Error("items not saved; the feed is fetched again next time", "failed_write", se.what, "err", err)
	default:
		log.Error("items not saved; the feed is fetched again next time", "err", err)
	}
}

// storageError is a failed write to the index or the store — a full,
// read-only or failing disk rather than anything wrong with a feed. The
// feed's items were not saved and its state is not advanced past them;
// RunOnce reports the pass as failed.
type storageError struct {
	what string // "index", "store" or "feed state"
	err  error
}

func (e *storageError) Error() string { return e.err.Error() }
func (e *storageError) Unwrap() error { return e.err }

// writeFailed reports whether an Index error says the index could not
// write (see Index), as opposed to refusing the items.
func writeFailed(err error) bool {
	var wf interface{ WriteFailed() bool }
	return errors.As(err, &wf) && wf.WriteFailed()
}

func (p *Pipeline) commitAll(ctx context.Context, group []*attempt) (n int, err error) {
	defer func() {
		if r := recover(); r != nil {
			n, err = 0, fmt.Errorf("internal error: %v", r)
		}
	}()
	p.commitMu.Lock()
	defer p.commitMu.Unlock()
	var items []accordwatch.Item
	changed := map[string]bool{}
	owner := map[string]*attempt{}
	var articlesDone []string
	var lateIDs []string
	for _, a := range group {
		a.rep.Alerts = 0
		items = append(items, a.todo...)
		articlesDone = append(articlesDone, a.articlesDone...)
		if a.late != nil {
			for _, f := range a.late.fetches {
				lateIDs = append(lateIDs, f.itemID)
			}
		}
		for i, it := range a.todo {
			owner[it.ID] = a
			if i < len(a.changed) && a.changed[i] {
				changed[it.ID] = true
			}
		}
	}
	// The index first, the store second: an item in the store is always
	// in the index, and the store's commit is what says it was saved. A
	// failed commit can leave the group's items in the index only; the
	// retry adds them again under the same IDs.
	if err := p.o.Index.Add(ctx, items); err != nil {
		err = fmt.Errorf("index %d items: %w", len(items), err)
		if writeFailed(err) {
			return 0, &storageError{what: "index", err: err}
		}
		return 0, err
	}
	// Under the shared lock (when replicas share a database) from
	// before the assignment until after the commit: what the next
	// replica to take it reads includes this commit.
	unlock, err := p.lockIncidents(ctx)
	if err != nil {
		return 0, &storageError{what: "store", err: err}
	}
	defer unlock()
	now := p.o.Now().UTC()
	p.pruneIncidents(now)
	inc, err := p.assignIncidents(items, changed)
	if err != nil {
		return 0, err
	}
	pl, err := p.plan(ctx, items, changed, inc, now)
	if err != nil {
		return 0, err
	}
	// Items whose article is still on its way are marked pending with
	// them, claimed by this process's fetch (see ResumeArticles).
	pending := make([]store.PendingArticle, len(lateIDs))
	for i, id := range lateIDs {
		pending[i] = store.PendingArticle{ItemID: id, Since: now, ClaimedUntil: now.Add(p.o.ArticleClaim)}
	}
	added, err := p.o.Store.CommitBatch(store.Batch{Items: items, Incidents: inc.touched(), Members: inc.members,
		Singletons: inc.implicit(), SingletonsSince: now.Add(-p.o.IncidentWindow), Alerts: pl.alerts,
		ArticlesPending: pending, ArticlesDone: articlesDone})
	if err != nil {
		return 0, &storageError{what: "store", err: fmt.Errorf("store %d items: %w", len(items), err)}
	}
	p.applyPlan(added, now)
	for _, al := range added {
		if a := owner[al.ItemID]; a != nil {
			a.rep.Alerts++
		}
	}
	return len(added), nil
}

// safeFinish is finish with a panic (in an ops notifier, say) turned into
// the feed's error, so the dispatcher always hears back.
func (p *Pipeline) safeFinish(ctx context.Context, a *attempt) (rep FeedReport) {
	defer p.followLate(ctx, a)
	defer func() {
		if r := recover(); r != nil {
			p.o.Logger.Error("panic while recording feed state", "feed_url", accordwatch.RedactURL(a.feed.URL), "panic", r)
			rep = FeedReport{Feed: a.feed, Err: fmt.Errorf("internal error: %v", r),
				NextCheckAt: p.o.Now().UTC().Add(p.lim.maxBackoff)}
		}
	}()
	return p.finish(ctx, a)
}

// finish records the attempt in the feed's state — health, redirect, next
// check — tells ops when the feed crossed the unhealthy line or
// recovered, counts the attempt and saves the state. It runs after the
// items were committed, so validators for a body whose items were not
// stored are never saved.
func (p *Pipeline) finish(ctx context.Context, a *attempt) FeedReport {
	now := p.o.Now().UTC()
	feed := a.feed
	log := p.o.Logger.With("feed", feed.Name, "feed_url", accordwatch.RedactURL(feed.URL))
	if err := cmp.Or(a.err, a.procErr); err != nil && ctx.Err() != nil {
		// Cut off by a shutdown, which says nothing about the feed: its
		// stored state stays as it was, so the next start polls it when it
		// was due and fetches again whatever was not committed.
		log.Debug("poll abandoned: shutting down", "err", err)
		return FeedReport{Feed: feed, Err: err, NextCheckAt: a.prev.NextCheckAt}
	}
	st := a.res.State
	st.URL = feed.URL
	if st.LastAttempt.IsZero() || !st.LastAttempt.After(a.prev.LastAttempt) {
		st.LastAttempt = now // the fetcher never ran or panicked
	}
	failErr := a.err
	if a.err != nil && st.ConsecutiveFailures <= a.prev.ConsecutiveFailures {
		st.ConsecutiveFailures = a.prev.ConsecutiveFailures + 1
		st.LastError = a.err.Error()
	}
	if a.err == nil && a.procErr != nil {
		// The items were not stored: keep the old validators so the next
		// poll fetches them again instead of getting a 304.
		failErr = a.procErr
		st.ETag, st.LastModified = a.prev.ETag, a.prev.LastModified
		st.LastSuccess = a.prev.LastSuccess
		st.ConsecutiveFailures = a.prev.ConsecutiveFailures + 1
		st.LastError = "could not store the items: " + a.procErr.Error()
	}
	failed := failErr != nil
	if !failed && !a.res.NotModified {
		p.seen.remember(feed.URL, a.res.Items)
	}
	var fe *feeds.FetchError
	if errors.As(a.err, &fe) && fe.Kind == "gone" {
		st.Gone = true
	} else if !failed {
		st.Gone = false
	}

	maxAge, ttl, movedTo := hintsOf(a.res)
	if movedTo != "" && movedTo != feed.URL {
		if movedTo != a.prev.MovedTo {
			log.Warn("feed moved permanently; polling the new URL", "old_url", accordwatch.RedactURL(feed.URL), "new_url", accordwatch.RedactURL(movedTo))
		}
		st.MovedTo = movedTo
	}

	if failed && st.UnhealthySince.IsZero() {
		st.UnhealthySince = st.LastAttempt
	}
	out := outcome{retryAfter: a.res.RetryAfter, maxAge: maxAge, ttl: ttl, gone: st.Gone}
	if failed {
		out.failures = max(st.ConsecutiveFailures, 1)
	}
	st.NextCheckAt = nextCheck(now, p.scheduleOf(feed), jitterFrac(feed.URL), feed.MinInterval, out, p.lim)
	p.health(ctx, log, feed, &st, failed, now)

	// Unsaved, the stored state stays the previous one: the next poll
	// sends the old validators and finds the same items, already stored.
	var saveErr error
	if err := p.o.Store.SaveFeedState(st); err != nil {
		saveErr = &storageError{what: "feed state", err: err}
		log.Error("feed state not saved; the feed is fetched again next time", "err", err)
	}
	if p.o.Metrics != nil {
		p.o.Metrics.Fetched(metricResult(a), a.res.Bytes, len(a.res.Items), a.took)
	}

	rep := a.rep
	rep.Feed = feed
	rep.Title = st.Title
	rep.NextCheckAt = st.NextCheckAt
	rep.MovedTo = st.MovedTo
	rep.Err = failErr
	switch {
	case saveErr != nil && failErr == nil:
		rep.Err = saveErr
	case saveErr != nil:
		rep.Err = fmt.Errorf("%w; %w", failErr, saveErr)
	}
	if failed {
		rep.Alerts = 0
		log.Warn("feed failed", "reason", st.LastError, "failures", st.ConsecutiveFailures, "next_check_at", st.NextCheckAt)
		return rep
	}
	rep.NotModified = a.res.NotModified
	rep.Fetched = len(a.res.Items)
	lvl := slog.LevelDebug
	if rep.New+rep.Changed > 0 {
		lvl = slog.LevelInfo
	}
	log.Log(ctx, lvl, "feed polled", "fetched", rep.Fetched, "new", rep.New, "changed", rep.Changed,
		"alerts", rep.Alerts, "not_modified", rep.NotModified, "next_check_at", st.NextCheckAt)
	return rep
}

// health sends the one "unhealthy" message of a run of failures once it
// has lasted UnhealthyAfter, and the one "recovered" message after it. A
// message that could not be sent is retried on the next attempt, and the
// state keeps the run (UnhealthySince) until its recovery was announced.
func (p *Pipeline) health(ctx context.Context, log *slog.Logger, feed accordwatch.Feed, st *accordwatch.FeedState, failed bool, now time.Time) {
	name := feed.Name
	if name == "" {
		name = st.Title
	}
	if name == "" {
		name = accordwatch.RedactURL(feed.URL)
	}
	if failed {
		if st.OpsNotified || now.Sub(st.UnhealthySince) < p.o.UnhealthyAfter {
			return
		}
		text := fmt.Sprintf("Feed %s (%s) has failed since %s: %s; %d attempts; next try %s",
			name, accordwatch.RedactURL(feed.URL), st.UnhealthySince.UTC().Format(time.RFC3339), st.LastError,
			st.ConsecutiveFailures, st.NextCheckAt.UTC().Format(time.RFC3339))
		if p.o.Ops == nil {
			// No ops channel: the one message is this log line.
			log.Error("feed unhealthy", "since", st.UnhealthySince, "reason", st.LastError, "failures", st.ConsecutiveFailures)
			st.OpsNotified = true
			return
		}
		if err := p.o.Ops.NotifyOps(ctx, text); err != nil {
			log.Warn("ops message not sent; will retry on the next attempt", "err", err)
			return
		}
		st.OpsNotified = true
		return
	}
	if !st.OpsNotified {
		st.UnhealthySince = time.Time{}
		return
	}
	took := now.Sub(st.UnhealthySince).Round(time.Minute)
	if p.o.Ops == nil {
		log.Info("feed recovered", "after", took)
	} else {
		text := fmt.Sprintf("Feed %s (%s) recovered after %s of failures", name, accordwatch.RedactURL(feed.URL), took)
		if err := p.o.Ops.NotifyOps(ctx, text); err != nil {
			log.Warn("ops message not sent; will retry on the next attempt", "err", err)
			return
		}
	}
	st.OpsNotified = false
	st.UnhealthySince = time.Time{}
}

// metricResult names an attempt's outcome for Metrics.
func metricResult(a *attempt) string {
	var fe *feeds.FetchError
	switch {
	case errors.As(a.err, &fe):
		return "error_" + strings.ReplaceAll(fe.Kind, "-", "_")
	case a.err != nil:
		return "error_internal"
	case a.procErr != nil:
		return "error_pipeline"
	case a.res.NotModified:
		return "not_modified"
	}
	return "ok"
}

// backoff is 5s doubling per attempt, capped at one hour: a Slack blip
// (a 503, a reset connection) usually passes in seconds, a real outage
// soon spaces retries out.
func backoff(attempts int) time.Duration {
	d := 5 * time.Second
	for i := 1; i < attempts && d < time.Hour; i++ {
		d *= 2
	}
	return min(d, time.Hour)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// PassReport is one full pass.
type PassReport struct {
	Feeds []FeedReport
	// Resumed is what became of the articles earlier runs left pending.
	Resumed ResumeReport
	Drain   DrainReport
}

// RunOnce polls every enabled feed once — at most Concurrency at a time
// and PerHost per host; one failing feed never stops the others —
// resuming meanwhile the articles earlier runs left pending (see
// ResumeArticles), and then drains the outbox. Reports are in the order
// of list.
//
// A feed that fails is data in its report, but a failed write to the
// index or the store is the machine's failure: the pass then returns an
// error naming it (joined with the drain's), after every feed ran and the
// outbox was drained of what earlier commits queued. Those feeds' states
// were not advanced, so the next pass fetches their items again.
func (p *Pipeline) RunOnce(ctx context.Context, list []accordwatch.Feed) (PassReport, error) {
	return p.runOnce(ctx, list, nil)
}

// RunOnceShared is RunOnce for a process sharing the feeds with replicas
// through l (see Scheduler.ShareFeeds): it polls each feed only while it
// holds its lease, renewed every third of period, and releases it with
// the feed's next check, so it never polls a feed a replica is polling
// and the per-host cap holds across them. A feed it cannot lease soon —
// a replica polled it recently (it is not due by the shared record), or
// holds its lease for more than a tenth of period yet — is not polled:
// its report says Shared, with when the feed is next due.
func (p *Pipeline) RunOnceShared(ctx context.Context, list []accordwatch.Feed, l FeedLeaser, period time.Duration) (PassReport, error) {
	if l == nil || period <= 0 {
		return PassReport{}, errors.New("monitor: sharing feeds needs a leaser and a lease period")
	}
	return p.runOnce(ctx, list, &leasing{l: l, period: period, held: map[string]bool{}, once: true})
}

func (p *Pipeline) runOnce(ctx context.Context, list []accordwatch.Feed, lease *leasing) (PassReport, error) {
	var rep PassReport
	var entries []*entry
	for _, f := range list {
		if f.Disabled {
			continue
		}
		st, _, err := p.o.Store.FeedState(f.URL)
		if err != nil {
			return rep, err
		}
		entries = append(entries, p.newEntry(f, st.MovedTo, time.Time{}, len(entries)))
	}
	rep.Feeds = make([]FeedReport, len(entries))
	got := make([]bool, len(entries))
	// Articles an earlier run left pending are fetched beside the polls,
	// through the same host caps, and applied before the drain.
	var resumed sync.WaitGroup
	resumed.Go(func() {
		var err error
		if rep.Resumed, err = p.ResumeArticles(ctx, list); err != nil && ctx.Err() == nil {
			p.o.Logger.Error("resume pending articles", "err", err)
		}
	})
	d := newDispatcher(p, nil)
	d.lease = lease
	d.run(ctx, nil, entries, false, func(e *entry, r FeedReport) {
		rep.Feeds[e.seq], got[e.seq] = r, true
	})
	resumed.Wait()
	for i, e := range entries {
		if !got[i] {
			rep.Feeds[i] = FeedReport{Feed: e.feed, Err: ctx.Err()}
		}
	}
	werr := writeFailures(rep.Feeds)
	dr, err := p.Drain(ctx)
	rep.Drain = dr
	return rep, errors.Join(werr, err)
}

// writeFailures is nil, or an error counting the feeds whose items or
// state could not be written and naming the first failure.
func writeFailures(reps []FeedReport) error {
	var first error
	n := 0
	for _, r := range reps {
		var se *storageError
		if errors.As(r.Err, &se) {
			if n == 0 {
				first = se
			}
			n++
		}
	}
	if n == 0 {
		return nil
	}
	return fmt.Errorf("%d of %d feeds not saved (they are fetched again next pass): %w", n, len(reps), first)
}
