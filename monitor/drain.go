package monitor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/accordwatch/accordwatch"
	"github.com/accordwatch/accordwatch/notify"
	"github.com/accordwatch/accordwatch/store"
)

// defaultRepeat is a rule's RepeatInterval when it sets none.
const defaultRepeat = 24 * time.Hour

// maxParentUpdateTries bounds retries of one deferred parent update.
const maxParentUpdateTries = 5

// parentUpdate is an incident message's in-place update that Slack
// deferred. It lives in memory only: a restart loses it, and the next
// follow-up of the incident updates the count anyway.
type parentUpdate struct {
	channel, incidentID, ref string
	next                     time.Time
	tries                    int
}

// DrainReport counts one drain's outcomes.
type DrainReport struct {
	Sent, Failed, Deferred int
	// Summaries counts summary messages made from rate-capped alerts.
	Summaries int
	// Next is the earliest time a pending alert or a deferred parent
	// update becomes due, if after the drain; zero when none waits. The
	// scheduler drains again then rather than at its next tick.
	Next time.Time
}

// takeoverCheck is how long after an alert of another replica's channel
// is due this replica looks whether that replica still delivers it.
const takeoverCheck = 5 * time.Second

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// later keeps the earliest non-zero time in *next.
func later(next *time.Time, t time.Time) {
	if !t.IsZero() && (next.IsZero() || t.Before(*next)) {
		*next = t
	}
}

// Drain delivers due alerts from the outbox, oldest first, incident
// messages before follow-ups. It first turns each channel's rate-capped
// alerts into one summary message (at most one per SummaryEvery) and
// retries deferred parent updates.
//
// An alert is marked sent only after the notifier accepted it. A 429 is
// waited out in place when short, otherwise the alert stays pending with
// its next attempt time; permanent errors fail the alert once, loudly,
// without retrying; transient errors back off exponentially.
//
// By kind: an incident message, once sent, records the incident's thread
// on its channel. A follow-up is posted in that thread — broadcast to the
// channel too when the thread's last channel-visible message is at least
// the rule's RepeatInterval old — and then the incident message is
// updated with its number of sources; a failed update is logged and
// retried, never a reason to post the follow-up again. A follow-up whose
// incident message is still pending waits for it; one whose incident
// message will never have a thread (failed, silenced, webhook mode) is
// posted as an incident message itself; one whose incident message went
// into a rate-cap summary joins the next summary.
//
// Channels are destinations (see ChannelResolver). Alerts for a channel
// whose ID is not known yet go first, so the first post teaches it; an
// alert whose twin — the same incident or follow-up under another
// spelling of the channel — was already sent is marked sent as merged
// into it (Ref "merged:<twin ID>") instead of being posted again.
func (p *Pipeline) Drain(ctx context.Context) (rep DrainReport, err error) {
	p.drainMu.Lock()
	defer p.drainMu.Unlock()
	// Deferred parent updates are due at their own time (named results:
	// this runs after the return values are set).
	defer func() {
		for _, u := range p.parentUpdates {
			later(&rep.Next, u.next)
		}
	}()
	p.resolveChannels(ctx)
	mine, err := p.holdChannels(ctx)
	if err != nil {
		return rep, err
	}
	if err := p.summarise(ctx, &rep, mine); err != nil {
		return rep, err
	}
	p.retryParentUpdates(ctx)
	start := p.o.Now()
	all, err := p.o.Store.OpenAlerts()
	if err != nil {
		return rep, err
	}
	var due []accordwatch.Alert
	for _, a := range all {
		if a.Status != accordwatch.AlertPending {
			continue
		}
		if !mine(p.dest(a.Channel).Key) {
			// Another replica delivers it. Look again a little after it
			// is due: if that replica has died, its lock is free by then.
			later(&rep.Next, maxTime(a.NextAttempt, start.Add(takeoverCheck)))
			continue
		}
		if a.NextAttempt.After(start) {
			later(&rep.Next, a.NextAttempt)
			continue
		}
		due = append(due, a)
	}
	// held are channels that failed transiently in this drain: the rest of
	// their alerts wait for the next drain instead of each hitting a Slack
	// that is down (and each waiting out the channel's spacing).
	held := map[string]time.Time{}
	// Parents first: a follow-up due with its parent can then be threaded
	// in the same drain. Within each, channels whose ID a post would
	// reveal first: the alerts for their other spellings then merge.
	unresolved := map[string]bool{}
	for _, a := range due {
		if _, ok := unresolved[a.Channel]; !ok {
			unresolved[a.Channel] = !p.dest(a.Channel).Resolved
		}
	}
	order := func(a accordwatch.Alert) int {
		o := 2 * rank(a)
		if !unresolved[a.Channel] {
			o++
		}
		return o
	}
	slices.SortStableFunc(due, func(a, b accordwatch.Alert) int { return order(a) - order(b) })
	for i := 0; i < len(due); i++ {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		a := due[i]
		d := p.dest(a.Channel)
		if t, ok := held[d.Key]; ok {
			later(&rep.Next, t)
			continue
		}
		now := p.o.Now().UTC()
		log := p.o.Logger.With(append([]any{"rule", a.Rule, "item_id", a.ItemID, "alert_id", a.ID, "kind", kindOf(a)}, channelAttrs(d)...)...)
		another, err := p.laterReport(a, d.Aliases)
		if err != nil {
			return rep, err
		}
		if another {
			// Queued by a replica that did not know this spelling of the
			// channel yet: the channel already has the incident's message,
			// about another report, so this report goes in its thread.
			a.Kind = accordwatch.KindFollowup
			log.Info("incident message already queued under another spelling of the channel; posting this report in its thread")
		}
		sent, pending, err := p.twins(a, d.Aliases)
		if err != nil {
			return rep, err
		}
		if sent != nil {
			if err := p.mergeInto(ctx, log, a, *sent, now); err != nil {
				return rep, err
			}
			continue
		}
		var lastPosted time.Time
		if a.Kind == accordwatch.KindFollowup {
			act, last, err := p.resolveFollowup(&a, d.Aliases, now)
			if err != nil {
				return rep, err
			}
			switch act {
			case followupWait:
				rep.Deferred++
				later(&rep.Next, a.NextAttempt)
				if err := p.o.Store.UpdateAlert(a); err != nil {
					return rep, err
				}
				continue
			case followupOverflow:
				p.overflow.add(a.Channel)
				if err := p.o.Store.UpdateAlert(a); err != nil {
					return rep, err
				}
				continue
			case followupAsIncident:
				log.Info("incident message has no thread; posting the follow-up as a new incident message")
			}
			lastPosted = last
		}
		item, ok, err := p.o.Store.Item(a.ItemID)
		if err != nil {
			return rep, err
		}
		if !ok {
			// Cannot happen through Commit; fail it rather than retry forever.
			a.Status, a.LastError = accordwatch.AlertFailed, "item not in store"
			rep.Failed++
			if err := p.o.Store.UpdateAlert(a); err != nil {
				return rep, err
			}
			continue
		}
		// Twins not posted yet are told in this one message: it names
		// their rules too, and they are marked merged once it is sent.
		for _, t := range pending {
			a.Rule = p.joinRules(a.Rule, t.Rule)
		}
		if p.o.Channels != nil {
			// The channel's lock makes this process its drainer; the claim
			// also covers a lock that changed hands during this drain.
			ok, err := p.o.Channels.Claim(ctx, a.ID)
			if err != nil {
				return rep, err
			}
			if !ok {
				log.Info("alert is being posted by another replica; left to it")
				continue
			}
		}
		ref, sendErr := p.o.Notifier.Send(ctx, a, item)
		a.Attempts++
		now = p.o.Now().UTC()
		var se *notify.SendError
		switch {
		case sendErr == nil:
			a.Status, a.SentAt, a.Ref, a.LastError = accordwatch.AlertSent, now, ref, ""
			rep.Sent++
			if err := p.o.Store.UpdateAlert(a); err != nil {
				return rep, err
			}
			for _, t := range pending {
				t.Status, t.SentAt, t.Ref, t.LastError = accordwatch.AlertSent, now, mergedPrefix+a.ID, ""
				if err := p.o.Store.UpdateAlert(t); err != nil {
					return rep, err
				}
			}
			if err := p.afterSent(ctx, log, a, lastPosted, now); err != nil {
				return rep, err
			}
			continue
		case errors.As(sendErr, &se) && se.Permanent:
			a.Status, a.LastError = accordwatch.AlertFailed, sendErr.Error()
			rep.Failed++
			log.Error("alert failed permanently; fix the Slack settings, it will not be retried", "err", sendErr)
		case errors.As(sendErr, &se) && se.RetryAfter > 0:
			a.LastError = sendErr.Error()
			if se.RetryAfter <= p.o.MaxRetryWait {
				log.Info("rate limited; waiting as asked", "retry_after", se.RetryAfter)
				if err := p.o.Store.UpdateAlert(a); err != nil {
					return rep, err
				}
				if err := sleep(ctx, se.RetryAfter); err != nil {
					return rep, err
				}
				due[i] = a
				i-- // same alert again
				continue
			}
			a.NextAttempt = now.Add(se.RetryAfter)
			rep.Deferred++
			held[d.Key] = a.NextAttempt
			later(&rep.Next, a.NextAttempt)
			log.Warn("rate limited; alert stays in the outbox", "retry_after", se.RetryAfter)
		default:
			a.LastError = sendErr.Error()
			a.NextAttempt = now.Add(backoff(a.Attempts))
			rep.Deferred++
			held[d.Key] = a.NextAttempt
			later(&rep.Next, a.NextAttempt)
			log.Warn("alert delivery failed; will retry", "err", sendErr, "next_attempt", a.NextAttempt)
		}
		if err := p.o.Store.UpdateAlert(a); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

func rank(a accordwatch.Alert) int {
	if a.Kind == accordwatch.KindFollowup {
		return 1
	}
	return 0
}

func kindOf(a accordwatch.Alert) string {
	if a.Kind == "" {
		return accordwatch.KindIncident
	}
	return a.Kind
}

// followupAction is what a drain does with a follow-up.
type followupAction int

const (
	followupSend followupAction = iota
	followupWait
	followupOverflow
	followupAsIncident
)

// twins looks for a's twins: alerts that tell a's channel, under another
// of its spellings (aliases), what a would — the same incident's message,
// or the same follow-up. sent is one already sent (or summarised), if
// any; pending are those still waiting (or held by the rate cap), which
// a's message stands for once sent.
// Summaries and alerts of no incident have none.
func (p *Pipeline) twins(a accordwatch.Alert, aliases []string) (sent *accordwatch.Alert, pending []accordwatch.Alert, err error) {
	if a.IncidentID == "" || a.Kind == accordwatch.KindSummary {
		return nil, nil, nil
	}
	for _, ch := range aliases {
		if ch == a.Channel {
			continue
		}
		id := AlertID(ch, a.IncidentID)
		if a.Kind == accordwatch.KindFollowup {
			id = FollowupID(ch, a.ItemID)
		}
		if id == a.ID {
			continue
		}
		t, ok, err := p.o.Store.Alert(id)
		if err != nil {
			return nil, nil, err
		}
		switch {
		case !ok || isMerged(t):
		case p.o.IncidentSync != nil && isIncidentKind(a.Kind) && t.ItemID != a.ItemID:
			// About another report: not the same message (see
			// laterReport).
		case t.Status == accordwatch.AlertSent:
			if sent == nil {
				sent = &t
			}
		case t.Status == accordwatch.AlertPending || t.Status == accordwatch.AlertOverflow:
			pending = append(pending, t)
		}
	}
	return sent, pending, nil
}

// laterReport reports whether a is an incident message about a report of
// an incident whose message for the channel, about another report, was
// queued first under another of its spellings (aliases). Replicas that
// share a database decide incidents together but learn a channel's ID
// each from their own posts, so one may key the incident's message by
// the ID and another a later report's by the name; merging the two as
// twins would leave the later report untold. Which came first is decided
// by creation time, then ID, so two such messages never both wait for
// the other. A process deciding alone (no IncidentSync) keeps merging
// them as before.
func (p *Pipeline) laterReport(a accordwatch.Alert, aliases []string) (bool, error) {
	if p.o.IncidentSync == nil || a.IncidentID == "" || !isIncidentKind(a.Kind) {
		return false, nil
	}
	for _, ch := range aliases {
		id := AlertID(ch, a.IncidentID)
		if ch == a.Channel || id == a.ID {
			continue
		}
		t, ok, err := p.o.Store.Alert(id)
		if err != nil {
			return false, err
		}
		if !ok || isMerged(t) || t.ItemID == a.ItemID || !isIncidentKind(t.Kind) {
			continue
		}
		switch t.Status {
		case accordwatch.AlertSent:
			return true, nil
		case accordwatch.AlertPending, accordwatch.AlertOverflow:
			if t.Created.Before(a.Created) || t.Created.Equal(a.Created) && t.ID < a.ID {
				return true, nil
			}
		}
	}
	return false, nil
}

// mergeInto marks a sent as merged into its twin instead of posting it.
// When a is an incident message whose rules the twin's message does not
// name yet, the twin learns them and its message is updated to name them
// (bot mode; a failed update is retried like any parent update).
func (p *Pipeline) mergeInto(ctx context.Context, log *slog.Logger, a, twin accordwatch.Alert, now time.Time) error {
	a.Status, a.SentAt, a.Ref, a.LastError = accordwatch.AlertSent, now, mergedPrefix+twin.ID, ""
	log.Info("already posted for this incident under another spelling of the channel; not posted again", "same_as", twin.ID)
	if err := p.o.Store.UpdateAlert(a); err != nil {
		return err
	}
	rules := p.joinRules(twin.Rule, a.Rule)
	if !isIncidentKind(a.Kind) || rules == twin.Rule || strings.HasPrefix(twin.Ref, "summary:") {
		return nil
	}
	twin.Rule = rules
	if err := p.o.Store.UpdateAlert(twin); err != nil {
		return err
	}
	p.updateParent(ctx, log, parentUpdate{channel: twin.Channel, incidentID: twin.IncidentID, ref: twin.Ref}, now)
	return nil
}

// joinRules joins lists of rule names ("a, b") into one without repeats,
// in the order the rules are configured (unknown names last).
func (p *Pipeline) joinRules(lists ...string) string {
	var names []string
	for _, l := range lists {
		for _, n := range strings.Split(l, ", ") {
			if n != "" && !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
	}
	pos := func(n string) int {
		for i, r := range p.o.Rules {
			if r.Name == n {
				return i
			}
		}
		return len(p.o.Rules)
	}
	slices.SortStableFunc(names, func(a, b string) int { return pos(a) - pos(b) })
	return strings.Join(names, ", ")
}

// parentRank orders candidate incident messages for a follow-up: one
// posted with a thread, then one still pending, then one held by the
// rate cap, then the rest.
func parentRank(a accordwatch.Alert) int {
	switch {
	case a.Status == accordwatch.AlertSent && a.Ref != "" && !strings.HasPrefix(a.Ref, "summary:") && !isMerged(a):
		return 3
	case a.Status == accordwatch.AlertPending:
		return 2
	case a.Status == accordwatch.AlertOverflow || strings.HasPrefix(a.Ref, "summary:"):
		return 1
	}
	return 0
}

// resolveFollowup finds the thread a follow-up goes to and whether it is
// broadcast, or decides it cannot be threaded (see Drain). The thread and
// the incident message may be stored under any of the channel's
// spellings (aliases, its key first). It updates a; last is when the
// channel last saw a message about the incident.
func (p *Pipeline) resolveFollowup(a *accordwatch.Alert, aliases []string, now time.Time) (act followupAction, last time.Time, err error) {
	var th store.Thread
	hasThread := false
	for _, ch := range aliases {
		t, ok, err := p.o.Store.Thread(ch, a.IncidentID)
		if err != nil {
			return 0, last, err
		}
		if ok && t.Ref != "" {
			th, hasThread = t, true
			break
		}
	}
	var parent accordwatch.Alert
	hasParent := false
	for _, ch := range aliases {
		pa, ok, err := p.o.Store.Alert(AlertID(ch, a.IncidentID))
		if err != nil {
			return 0, last, err
		}
		if ok && !isMerged(pa) && (!hasParent || parentRank(pa) > parentRank(parent)) {
			parent, hasParent = pa, true
		}
	}
	summarised := hasParent && strings.HasPrefix(parent.Ref, "summary:")
	switch {
	case hasThread && th.Ref != "":
		a.ThreadRef, last = th.Ref, th.LastPosted
	case hasParent && parent.Status == accordwatch.AlertSent && parent.Ref != "" && !summarised:
		// Sent, but the drain stopped before recording the thread.
		a.ThreadRef, last = parent.Ref, parent.SentAt
	case hasParent && parent.Status == accordwatch.AlertPending:
		a.NextAttempt = now.Add(p.o.FollowupWait)
		if parent.NextAttempt.After(a.NextAttempt) {
			a.NextAttempt = parent.NextAttempt
		}
		return followupWait, last, nil
	case hasParent && (parent.Status == accordwatch.AlertOverflow || summarised):
		a.Status, a.NextAttempt = accordwatch.AlertOverflow, time.Time{}
		a.LastError = "its incident message is held by the rate cap; held for the summary"
		return followupOverflow, last, nil
	default:
		a.Kind, a.ThreadRef, a.Broadcast = accordwatch.KindIncident, "", false
		return followupAsIncident, last, nil
	}
	a.Broadcast = now.Sub(last) >= p.repeatInterval(a.Rule)
	return followupSend, last, nil
}

// repeatInterval is the shortest RepeatInterval among the named rules
// (an alert's Rule lists every rule that fired), default 24h.
func (p *Pipeline) repeatInterval(names string) time.Duration {
	var d time.Duration
	for _, n := range strings.Split(names, ", ") {
		for _, r := range p.o.Rules {
			if r.Name == n && r.RepeatInterval > 0 && (d == 0 || r.RepeatInterval < d) {
				d = r.RepeatInterval
			}
		}
	}
	if d == 0 {
		return defaultRepeat
	}
	return d
}

// afterSent records an accepted message's thread and, for a follow-up,
// updates the incident message with its number of sources.
func (p *Pipeline) afterSent(ctx context.Context, log *slog.Logger, a accordwatch.Alert, lastPosted, now time.Time) error {
	switch a.Kind {
	case accordwatch.KindSummary:
		return nil
	case accordwatch.KindFollowup:
		if a.Broadcast {
			lastPosted = now
		}
		if err := p.o.Store.SetThread(a.Channel, a.IncidentID, store.Thread{Ref: a.ThreadRef, LastPosted: lastPosted}); err != nil {
			return fmt.Errorf("record thread of incident %s: %w", a.IncidentID, err)
		}
		p.updateParent(ctx, log, parentUpdate{channel: a.Channel, incidentID: a.IncidentID, ref: a.ThreadRef}, now)
		return nil
	default:
		if a.IncidentID == "" || a.Ref == "" {
			return nil // webhook and file modes have no threads
		}
		if err := p.o.Store.SetThread(a.Channel, a.IncidentID, store.Thread{Ref: a.Ref, LastPosted: now}); err != nil {
			return fmt.Errorf("record thread of incident %s: %w", a.IncidentID, err)
		}
		return nil
	}
}

// updateParent re-renders an incident message with its source count. A
// 429 or transient failure is kept for a later drain.
func (p *Pipeline) updateParent(ctx context.Context, log *slog.Logger, u parentUpdate, now time.Time) {
	up, ok := p.o.Notifier.(ParentUpdater)
	if !ok {
		return
	}
	parent, item, sources, ok, err := p.parentOf(u)
	if err != nil || !ok {
		log.Warn("incident message not found; not updated", "thread", u.ref, "err", err)
		delete(p.parentUpdates, u.ref)
		return
	}
	err = up.UpdateParent(ctx, u.ref, parent, item, sources)
	if err == nil {
		delete(p.parentUpdates, u.ref)
		return
	}
	var se *notify.SendError
	u.tries++
	switch {
	case errors.As(err, &se) && se.Permanent:
		log.Error("incident message could not be updated; not retried", "thread", u.ref, "err", err)
		delete(p.parentUpdates, u.ref)
	case u.tries >= maxParentUpdateTries:
		log.Warn("incident message update keeps failing; giving up", "thread", u.ref, "tries", u.tries, "err", err)
		delete(p.parentUpdates, u.ref)
	default:
		wait := backoff(u.tries)
		if se != nil && se.RetryAfter > 0 {
			wait = se.RetryAfter
		}
		u.next = now.Add(wait)
		p.parentUpdates[u.ref] = u
		log.Warn("incident message update deferred", "thread", u.ref, "next_attempt", u.next, "err", err)
	}
}

// retryParentUpdates retries deferred parent updates that are due.
func (p *Pipeline) retryParentUpdates(ctx context.Context) {
	now := p.o.Now().UTC()
	refs := make([]string, 0, len(p.parentUpdates))
	for ref, u := range p.parentUpdates {
		if !u.next.After(now) {
			refs = append(refs, ref)
		}
	}
	slices.Sort(refs)
	for _, ref := range refs {
		if ctx.Err() != nil {
			return
		}
		u := p.parentUpdates[ref]
		p.updateParent(ctx, p.o.Logger.With(append(channelAttrs(p.dest(u.channel)), "incident_id", u.incidentID)...), u, now)
	}
}

// parentOf finds the alert whose message sits at u.ref — the incident
// alert, or a follow-up that was posted as the incident message — with
// its item and the incident's number of sources.
func (p *Pipeline) parentOf(u parentUpdate) (parent accordwatch.Alert, item accordwatch.Item, sources int, ok bool, err error) {
	inc, ok, err := p.incident(u.incidentID)
	if err != nil || !ok {
		return parent, item, 0, false, err
	}
	aliases := p.dest(u.channel).Aliases
	var ids []string
	for _, ch := range aliases {
		ids = append(ids, AlertID(ch, inc.ID))
	}
	for _, id := range inc.ItemIDs {
		for _, ch := range aliases {
			ids = append(ids, FollowupID(ch, id))
		}
	}
	for _, id := range ids {
		a, found, err := p.o.Store.Alert(id)
		if err != nil {
			return parent, item, 0, false, err
		}
		if !found || a.Status != accordwatch.AlertSent || a.Ref != u.ref {
			continue
		}
		it, found, err := p.o.Store.Item(a.ItemID)
		if err != nil || !found {
			return parent, item, 0, false, err
		}
		a.Sources = inc.SourceCount()
		return a, it, inc.SourceCount(), true, nil
	}
	return parent, item, 0, false, nil
}

// summarise turns each channel's rate-capped alerts into one summary
// alert, enqueued together with marking them summarised (sent, Ref
// "summary:<id>"), at most once per SummaryEvery per channel, for the
// destinations this process delivers (mine). With replicas (CapHistory)
// the last summaries are read from the shared outbox first: a replica
// that has just taken a channel over from one that died knows when that
// one last summarised.
func (p *Pipeline) summarise(ctx context.Context, rep *DrainReport, mine func(key string) bool) error {
	chans := p.overflow.list()
	if len(chans) == 0 {
		return nil
	}
	now := p.o.Now().UTC()
	if p.o.CapHistory != nil {
		recent, err := p.o.CapHistory.AlertsSince(ctx, now.Add(-p.o.SummaryEvery))
		if err != nil {
			return fmt.Errorf("last summaries: %w", err)
		}
		for _, a := range recent {
			if a.Kind == accordwatch.KindSummary && a.Created.After(p.lastSummary[a.Channel]) {
				p.lastSummary[a.Channel] = a.Created
			}
		}
	}
	// The overflow set and lastSummary hold the spellings alerts were
	// stored under; a summary is per destination, over all of them.
	dests := map[string]notify.Destination{}
	destOf := func(ch string) notify.Destination {
		d, ok := dests[ch]
		if !ok {
			d = p.dest(ch)
			dests[ch] = d
		}
		return d
	}
	ready := map[string]bool{}
	var keys []string
	for _, ch := range chans {
		d := destOf(ch)
		if !mine(d.Key) {
			// Another replica delivers it, and summarises it.
			p.overflow.remove(ch)
			continue
		}
		r, decided := ready[d.Key]
		if !decided {
			r = true
			for _, alias := range d.Aliases {
				if last, ok := p.lastSummary[alias]; ok && now.Sub(last) < p.o.SummaryEvery {
					r = false
				}
			}
			ready[d.Key] = r
			if r {
				keys = append(keys, d.Key)
			}
		}
		if r {
			// Cleared before the scan: overflow the writer adds meanwhile
			// sets it again rather than being missed.
			p.overflow.remove(ch)
		}
	}
	if len(keys) == 0 {
		return nil
	}
	all, err := p.o.Store.OpenAlerts()
	if err != nil {
		return err
	}
	held := map[string][]accordwatch.Alert{}
	for _, a := range all {
		if a.Status != accordwatch.AlertOverflow {
			continue
		}
		if k := destOf(a.Channel).Key; ready[k] {
			held[k] = append(held[k], a)
		}
	}
	for _, ch := range keys {
		list := held[ch]
		if len(list) == 0 {
			continue
		}
		ids := make([]string, len(list))
		var rules []accordwatch.Rule
		entries := make([]accordwatch.SummaryEntry, 0, len(list))
		listed := map[string]bool{} // incidents: twins under two spellings are one line
		for i, a := range list {
			ids[i] = a.ID
			for _, n := range strings.Split(a.Rule, ", ") {
				rules = append(rules, accordwatch.Rule{Name: n})
			}
			if a.IncidentID != "" && isIncidentKind(a.Kind) {
				if listed[a.IncidentID] {
					continue
				}
				listed[a.IncidentID] = true
			}
			e := accordwatch.SummaryEntry{Rule: a.Rule}
			it, ok, err := p.o.Store.Item(a.ItemID)
			if err != nil {
				return err
			}
			if ok {
				e.Title, e.Link, e.Severity = it.Title, it.Link, it.Tags.Severity
			}
			entries = append(entries, e)
		}
		sum := accordwatch.Alert{
			ID: summaryID(ch, ids), Kind: accordwatch.KindSummary, Channel: ch, ItemID: list[0].ItemID,
			Rule: ruleNames(rules), Created: now, Status: accordwatch.AlertPending, NextAttempt: now,
			Summary: entries, Sources: len(entries),
		}
		for i := range list {
			list[i].Status, list[i].Ref, list[i].SentAt, list[i].LastError = accordwatch.AlertSent, "summary:"+sum.ID, now, ""
		}
		if _, err := p.o.Store.SaveAlerts([]accordwatch.Alert{sum}, list); err != nil {
			p.overflow.add(ch)
			return err
		}
		p.lastSummary[ch] = now
		rep.Summaries++
		p.o.Logger.Info("rate cap reached; held-back alerts summarised", append(channelAttrs(destOf(ch)), "alerts", len(list), "summary_id", sum.ID)...)
	}
	return nil
}
