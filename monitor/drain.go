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
	if err := p.summarise(&rep); err != nil {
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
	// in the same drain.
	slices.SortStableFunc(due, func(a, b accordwatch.Alert) int { return rank(a) - rank(b) })
	for i := 0; i < len(due); i++ {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		a := due[i]
		if t, ok := held[a.Channel]; ok {
			later(&rep.Next, t)
			continue
		}
		now := p.o.Now().UTC()
		log := p.o.Logger.With("rule", a.Rule, "item_id", a.ItemID, "alert_id", a.ID, "kind", kindOf(a), "channel", a.Channel)
		var lastPosted time.Time
		if a.Kind == accordwatch.KindFollowup {
			act, last, err := p.resolveFollowup(&a, now)
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
			held[a.Channel] = a.NextAttempt
			later(&rep.Next, a.NextAttempt)
			log.Warn("rate limited; alert stays in the outbox", "retry_after", se.RetryAfter)
		default:
			a.LastError = sendErr.Error()
			a.NextAttempt = now.Add(backoff(a.Attempts))
			rep.Deferred++
			held[a.Channel] = a.NextAttempt
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

// resolveFollowup finds the thread a follow-up goes to and whether it is
// broadcast, or decides it cannot be threaded (see Drain). It updates a;
// last is when the channel last saw a message about the incident.
func (p *Pipeline) resolveFollowup(a *accordwatch.Alert, now time.Time) (act followupAction, last time.Time, err error) {
	th, hasThread, err := p.o.Store.Thread(a.Channel, a.IncidentID)
	if err != nil {
		return 0, last, err
	}
	parent, hasParent, err := p.o.Store.Alert(AlertID(a.Channel, a.IncidentID))
	if err != nil {
		return 0, last, err
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
		p.updateParent(ctx, p.o.Logger.With("channel", u.channel, "incident_id", u.incidentID), u, now)
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
	ids := []string{AlertID(u.channel, inc.ID)}
	for _, id := range inc.ItemIDs {
		ids = append(ids, FollowupID(u.channel, id))
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
// "summary:<id>"), at most once per SummaryEvery per channel.
func (p *Pipeline) summarise(rep *DrainReport) error {
	chans := p.overflow.list()
	if len(chans) == 0 {
		return nil
	}
	now := p.o.Now().UTC()
	ready := map[string]bool{}
	for _, ch := range chans {
		if last, ok := p.lastSummary[ch]; !ok || now.Sub(last) >= p.o.SummaryEvery {
			ready[ch] = true
			// Cleared before the scan: overflow the writer adds meanwhile
			// sets it again rather than being missed.
			p.overflow.remove(ch)
		}
	}
	if len(ready) == 0 {
		return nil
	}
	all, err := p.o.Store.OpenAlerts()
	if err != nil {
		return err
	}
	held := map[string][]accordwatch.Alert{}
	for _, a := range all {
		if a.Status == accordwatch.AlertOverflow && ready[a.Channel] {
			held[a.Channel] = append(held[a.Channel], a)
		}
	}
	for _, ch := range chans {
		list := held[ch]
		if len(list) == 0 {
			continue
		}
		ids := make([]string, len(list))
		var rules []accordwatch.Rule
		entries := make([]accordwatch.SummaryEntry, 0, len(list))
		for i, a := range list {
			ids[i] = a.ID
			e := accordwatch.SummaryEntry{Rule: a.Rule}
			it, ok, err := p.o.Store.Item(a.ItemID)
			if err != nil {
				return err
			}
			if ok {
				e.Title, e.Link, e.Severity = it.Title, it.Link, it.Tags.Severity
			}
			entries = append(entries, e)
			for _, n := range strings.Split(a.Rule, ", ") {
				rules = append(rules, accordwatch.Rule{Name: n})
			}
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
		p.o.Logger.Info("rate cap reached; held-back alerts summarised", "channel", ch, "alerts", len(list), "summary_id", sum.ID)
	}
	return nil
}
