package monitor

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/accordwatch/accordwatch"
	"github.com/accordwatch/accordwatch/incident"
	"github.com/accordwatch/accordwatch/notify"
	"github.com/accordwatch/accordwatch/store"
)

// ChannelResolver is implemented by notifiers that know which channel
// spellings reach one destination (notify.Notifier: "#accord-alerts",
// "accord-alerts", the channel's ID and, when it is the default, "" are
// one Slack channel). The pipeline keys alerts, threads and rate caps by
// Destination(name).Key, and looks stored data up under every alias, so
// data keyed by a spelling — by an older version, or before an ID was
// known — is still found. A notifier without it makes every spelling its
// own channel. All methods are safe for concurrent use.
type ChannelResolver interface {
	// ResolveChannels looks up the destinations of the configured
	// channels ("" = the default channel). It may call the destination
	// the first time; later calls return at once. A failed lookup is not
	// an error: destinations are then learned from deliveries.
	ResolveChannels(ctx context.Context, names []string)
	// LearnChannel records a spelling found in stored data and, when ref
	// is where a message for it was accepted (a Send ref), where it goes.
	LearnChannel(name, ref string)
	// Destination returns where alerts for the spelling name go now.
	Destination(name string) notify.Destination
}

// mergedPrefix starts the Ref of an alert that was not sent because an
// alert for the same incident and channel, stored under another spelling
// of the channel, was sent first: "merged:<that alert's ID>".
const mergedPrefix = "merged:"

func isMerged(a accordwatch.Alert) bool { return strings.HasPrefix(a.Ref, mergedPrefix) }

// dest is where alerts for the channel spelling name go now.
func (p *Pipeline) dest(name string) notify.Destination {
	if r, ok := p.o.Notifier.(ChannelResolver); ok {
		return r.Destination(name)
	}
	return notify.Destination{Key: name, Name: name, Resolved: true, Aliases: []string{name}}
}

// resolveChannels asks the notifier, once, where the rules' channels go.
func (p *Pipeline) resolveChannels(ctx context.Context) {
	r, ok := p.o.Notifier.(ChannelResolver)
	if !ok {
		return
	}
	names := []string{""}
	for _, rule := range p.o.Rules {
		if !slices.Contains(names, rule.Channel) {
			names = append(names, rule.Channel)
		}
	}
	r.ResolveChannels(ctx, names)
}

// channelAttrs are a destination's log attributes: its readable name,
// and its ID when that is the key.
func channelAttrs(d notify.Destination) []any {
	if d.Key != d.Name {
		return []any{"channel", d.Name, "channel_id", d.Key}
	}
	return []any{"channel", d.Name}
}

// AlertID is stable for a destination channel key (see ChannelResolver;
// older versions used the configured spelling, "" for the default) and a
// key. An incident's message on a channel has ID AlertID(channel,
// incidentID); since an incident's ID is its first item's ID, that is
// also the ID alerts had before incidents existed, so items alerted on
// by an older version never alert again.
func AlertID(channel, key string) string {
	h := sha256.Sum256([]byte(channel + "\x00" + key))
	return hex.EncodeToString(h[:12])
}

// FollowupID is the ID of the follow-up about item on channel.
func FollowupID(channel, itemID string) string { return AlertID(channel, itemID+"\x00followup") }

// summaryID is stable for a channel and the alerts a summary lists, so
// making the same summary twice enqueues it once.
func summaryID(channel string, members []string) string {
	return AlertID(channel, "summary\x00"+strings.Join(members, ","))
}

// capWindow is the period a rule's RateCap counts over.
const capWindow = time.Hour

// pruneEvery is how often the clusterer forgets incidents past the window.
const pruneEvery = 10 * time.Minute

// atomicSet is a set of strings safe for concurrent use.
type atomicSet struct {
	mu sync.Mutex
	m  map[string]bool
}

func (s *atomicSet) add(k string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]bool{}
	}
	s.m[k] = true
}

func (s *atomicSet) remove(k string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, k)
}

func (s *atomicSet) list() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.m))
	for k := range s.m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// restore rebuilds what a restart would otherwise forget: the clusterer's
// recent incidents, the rate caps' last hour, the channels with alerts
// waiting for a summary and when each channel last got one.
func (p *Pipeline) restore() error {
	now := p.o.Now().UTC()
	if err := p.startSync(); err != nil {
		return err
	}
	if c := p.o.Incidents; c != nil {
		if err := p.rebuildIncidents(c, now.Add(-p.o.IncidentWindow)); err != nil {
			return fmt.Errorf("rebuild incidents: %w", err)
		}
		c.Prune(now)
		p.lastPrune = now
	}
	all, err := p.o.Store.Alerts()
	if err != nil {
		return err
	}
	p.learnChannels(all)
	for _, a := range all {
		switch {
		case a.Status == accordwatch.AlertOverflow:
			p.overflow.add(a.Channel)
		case a.Kind == accordwatch.KindSummary:
			if a.Created.After(p.lastSummary[a.Channel]) {
				p.lastSummary[a.Channel] = a.Created
			}
		case isIncidentKind(a.Kind) && counts(a) && now.Sub(a.Created) < capWindow:
			p.capLog[a.Channel] = append(p.capLog[a.Channel], a.Created)
		}
	}
	return nil
}

// learnChannels tells the notifier every channel spelling stored alerts
// use and, from the refs of those Slack accepted, where each went, oldest
// first: after a restart, or an upgrade from a version that keyed by the
// configured name, data under any spelling of a channel is found again
// before anything is posted.
func (p *Pipeline) learnChannels(all []accordwatch.Alert) {
	r, ok := p.o.Notifier.(ChannelResolver)
	if !ok {
		return
	}
	sent := make([]accordwatch.Alert, 0, len(all))
	for _, a := range all {
		if a.Status == accordwatch.AlertSent && a.Ref != "" {
			sent = append(sent, a)
		} else {
			r.LearnChannel(a.Channel, "")
		}
	}
	slices.SortStableFunc(sent, func(a, b accordwatch.Alert) int { return a.SentAt.Compare(b.SentAt) })
	for _, a := range sent {
		r.LearnChannel(a.Channel, a.Ref)
	}
}

// rebuildIncidents re-adds to the clusterer the members of the stored
// incidents and the singletons seen since. Signatures older versions
// stored are used as they are; the others are recomputed from the item
// (SignatureOf is deterministic).
func (p *Pipeline) rebuildIncidents(c *incident.Clusterer, since time.Time) error {
	// Collect first: the store's callbacks run inside a read transaction.
	var members []store.Member
	err := p.o.Store.RecentMembers(since, func(_ accordwatch.Incident, m store.Member) error {
		members = append(members, m)
		return nil
	})
	if err != nil {
		return err
	}
	err = p.o.Store.RecentSingletons(since, func(itemID string) error {
		members = append(members, store.Member{ItemID: itemID, IncidentID: itemID})
		return nil
	})
	if err != nil {
		return err
	}
	for _, m := range members {
		var sig incident.Signature
		if len(m.Signature) > 0 {
			if err := json.Unmarshal(m.Signature, &sig); err != nil {
				return fmt.Errorf("item %s: signature: %w", m.ItemID, err)
			}
		} else {
			it, ok, err := p.o.Store.Item(m.ItemID)
			if err != nil {
				return fmt.Errorf("item %s: %w", m.ItemID, err)
			}
			if !ok {
				continue
			}
			sig = incident.SignatureOf(it)
		}
		c.Add(m.IncidentID, sig)
	}
	return nil
}

// incident returns a stored incident, or the implicit singleton of the
// item it is named after (see store.Batch); ok is false when neither
// exists.
func (p *Pipeline) incident(id string) (accordwatch.Incident, bool, error) {
	inc, ok, err := p.o.Store.Incident(id)
	if err != nil || ok {
		return inc, ok, err
	}
	it, ok, err := p.o.Store.Item(id)
	if err != nil || !ok {
		return inc, false, err
	}
	return singleton(it, incident.SignatureOf(it).Time), true, nil
}

// singleton is the incident an item starts at t.
func singleton(it accordwatch.Item, t time.Time) accordwatch.Incident {
	return accordwatch.Incident{ID: it.ID, Title: it.Title, Link: it.Link, FirstSeen: t, LastSeen: t,
		ItemIDs: []string{it.ID}, Sources: 1, Severity: it.Tags.Severity}
}

func isIncidentKind(k string) bool { return k == "" || k == accordwatch.KindIncident }

// counts reports whether an incident alert counts against its channel's
// rate cap: it was or will be posted on its own (not summarised, and not
// merged into the same incident's message under another spelling).
func counts(a accordwatch.Alert) bool {
	return a.Status == accordwatch.AlertPending ||
		a.Status == accordwatch.AlertSent && !strings.HasPrefix(a.Ref, "summary:") && !isMerged(a)
}

func (p *Pipeline) pruneIncidents(now time.Time) {
	if p.o.Incidents == nil || now.Sub(p.lastPrune) < pruneEvery {
		return
	}
	p.o.Incidents.Prune(now)
	p.lastPrune = now
}

// assignment is the incidents one commit touches.
type assignment struct {
	// of maps every item of the commit to its incident.
	of      map[string]*accordwatch.Incident
	order   []*accordwatch.Incident // touched incidents, first touch first
	dirty   map[string]bool         // incidents to save: those a second item joined
	members []store.Member          // members of incidents not named after them
	// singletons are the items that started their own incident; while
	// alone, it is implicit (see store.Batch).
	singletons []store.Singleton
}

func (as *assignment) touched() []accordwatch.Incident {
	var out []accordwatch.Incident
	for _, inc := range as.order {
		if as.dirty[inc.ID] {
			out = append(out, *inc)
		}
	}
	return out
}

// implicit lists the singletons still alone at the end of the commit: a
// joined one is saved whole with the incidents.
func (as *assignment) implicit() []store.Singleton {
	var out []store.Singleton
	for _, sg := range as.singletons {
		if !as.dirty[sg.ItemID] {
			out = append(out, sg)
		}
	}
	return out
}

// assignIncidents puts every new item into an incident: the one the
// clusterer matches, or a new one named after the item. A changed item
// stays in the incident it joined when it was new (items stored before
// incidents existed become their own). The clusterer learns each new
// item at once, so the next item of the same commit can join it; should
// the commit then fail, a retry meets a match with no stored incident and
// simply starts it again.
func (p *Pipeline) assignIncidents(items []accordwatch.Item, changed map[string]bool) (*assignment, error) {
	as := &assignment{of: map[string]*accordwatch.Incident{}, dirty: map[string]bool{}}
	byID := map[string]*accordwatch.Incident{}
	load := func(id string) (*accordwatch.Incident, error) {
		if inc := byID[id]; inc != nil {
			return inc, nil
		}
		inc, ok, err := p.incident(id)
		if err != nil || !ok {
			return nil, err
		}
		byID[id] = &inc
		as.order = append(as.order, &inc)
		return &inc, nil
	}
	start := func(it accordwatch.Item, t time.Time) *accordwatch.Incident {
		inc := singleton(it, t)
		byID[inc.ID] = &inc
		as.order = append(as.order, &inc)
		as.singletons = append(as.singletons, store.Singleton{ItemID: it.ID, Time: t})
		return &inc
	}
	for _, it := range items {
		sig := incident.SignatureOf(it)
		if changed[it.ID] {
			// An item without a member record is in the incident named
			// after it: explicit, or the implicit singleton of its stored
			// version (also for items stored before incidents existed).
			m, ok, err := p.o.Store.MemberOf(it.ID)
			if err != nil {
				return nil, err
			}
			if !ok {
				m.IncidentID = it.ID
			}
			inc, err := load(m.IncidentID)
			if err != nil {
				return nil, err
			}
			if inc != nil {
				as.of[it.ID] = inc
				continue
			}
		}
		var inc *accordwatch.Incident
		var why incident.Explanation
		var err error
		if c := p.o.Incidents; c != nil && !changed[it.ID] {
			var id string
			var ok bool
			if id, why, ok = c.Explain(sig); ok {
				if inc, err = load(id); err != nil {
					return nil, err
				}
			}
		}
		if inc == nil {
			inc = start(it, sig.Time)
		} else if !slices.Contains(inc.ItemIDs, it.ID) {
			// Why it joined, kept on the incident (accordwatch incidents
			// show) so that a wrong merge can be understood.
			inc.AddMerge(why.Record(it.ID, it.Title, sig.Time, p.o.Incidents.Threshold()))
			inc.Sources = inc.SourceCount() + 1
			if len(inc.ItemIDs) < accordwatch.MaxIncidentItems {
				inc.ItemIDs = append(inc.ItemIDs, it.ID)
			}
			if sig.Time.After(inc.LastSeen) {
				inc.LastSeen = sig.Time
			}
			if sig.Time.Before(inc.FirstSeen) {
				inc.FirstSeen = sig.Time
			}
			inc.Severity = max(inc.Severity, it.Tags.Severity)
			as.dirty[inc.ID] = true
		}
		if p.o.Incidents != nil {
			p.o.Incidents.Add(inc.ID, sig)
		}
		as.of[it.ID] = inc
		if inc.ID != it.ID {
			as.members = append(as.members, store.Member{ItemID: it.ID, IncidentID: inc.ID})
		}
	}
	return as, nil
}

// plan is the alerts one commit makes and the rate-cap slots they take.
type plan struct {
	alerts []accordwatch.Alert
}

// plan runs every rule over just these items and makes at most one alert
// per channel and item: one story matching three rules is one message
// naming them all. A channel is a destination (see ChannelResolver), so
// rules naming the default channel, "#name", "name" and its ID share it,
// its thread and its rate cap. Per channel and incident, a channel not
// yet told about the incident gets one incident alert (the group's first
// item), and every other new item of the incident becomes a follow-up
// for its thread. An edited item never alerts about an incident its
// channel already heard of. Alerts whose item matches an active silence
// are recorded as silenced; incident alerts beyond their channel's rate
// cap as overflow, for the next summary.
func (p *Pipeline) plan(ctx context.Context, items []accordwatch.Item, changed map[string]bool, as *assignment, now time.Time) (plan, error) {
	var pl plan
	if len(p.o.Rules) == 0 || len(items) == 0 {
		return pl, nil
	}
	ids := make([]string, len(items))
	byID := make(map[string]accordwatch.Item, len(items))
	for i, it := range items {
		ids[i] = it.ID
		byID[it.ID] = it
	}
	type key = chanItem
	rulesOf := map[key][]accordwatch.Rule{}
	var channels []string
	hitsOf := map[string]map[string]bool{} // channel key → items hit
	aliases := map[string][]string{}       // channel key → its spellings
	p.resolveChannels(ctx)
	for _, r := range p.o.Rules {
		hits, err := p.o.Index.Matching(ctx, r.Query, ids)
		if err != nil {
			return pl, fmt.Errorf("rule %q: %w", r.Name, err)
		}
		if len(hits) == 0 {
			continue
		}
		d := p.dest(r.Channel)
		ch := d.Key
		if _, ok := aliases[ch]; !ok {
			aliases[ch] = d.Aliases
		}
		for _, id := range hits {
			it, ok := byID[id]
			if !ok || it.Tags.Severity < r.MinSeverity {
				continue
			}
			if hitsOf[ch] == nil {
				hitsOf[ch] = map[string]bool{}
				channels = append(channels, ch)
			}
			hitsOf[ch][id] = true
			rulesOf[key{ch, id}] = append(rulesOf[key{ch, id}], r)
		}
	}
	if len(channels) == 0 {
		return pl, nil
	}
	silenced, err := p.silenced(ctx, ids, now)
	if err != nil {
		return pl, err
	}
	capUsed := map[string]int{}
	for _, ch := range channels {
		// Group this channel's hits by incident, in item order.
		var incs []*accordwatch.Incident
		group := map[string][]string{}
		for _, id := range ids {
			if !hitsOf[ch][id] {
				continue
			}
			inc := as.of[id]
			if _, ok := group[inc.ID]; !ok {
				incs = append(incs, inc)
			}
			group[inc.ID] = append(group[inc.ID], id)
		}
		for _, inc := range incs {
			told, err := p.told(aliases[ch], inc.ID)
			if err != nil {
				return pl, err
			}
			for _, id := range group[inc.ID] {
				if changed[id] && told {
					continue // edits never re-alert
				}
				a := accordwatch.Alert{
					Rule: ruleNames(rulesOf[key{ch, id}]), Channel: ch, ItemID: id, Created: now,
					Status: accordwatch.AlertPending, NextAttempt: now, IncidentID: inc.ID, Sources: inc.SourceCount(),
				}
				if told {
					a.ID, a.Kind = FollowupID(ch, id), accordwatch.KindFollowup
				} else {
					told = true
					a.ID, a.Kind = AlertID(ch, inc.ID), accordwatch.KindIncident
					var rs []accordwatch.Rule
					for _, gid := range group[inc.ID] {
						rs = append(rs, rulesOf[key{ch, gid}]...)
					}
					a.Rule = ruleNames(rs)
				}
				switch sl, ok := silenced[id]; {
				case ok:
					a.Status, a.NextAttempt = accordwatch.AlertSilenced, time.Time{}
					a.LastError = fmt.Sprintf("silenced by %s until %s: %s", sl.ID, sl.Expires.UTC().Format(time.RFC3339), sl.Reason)
				case a.Kind == accordwatch.KindIncident:
					if c := rateCap(rulesOf, ch, group[inc.ID]); c > 0 && p.recent(aliases[ch], now)+capUsed[ch] >= c {
						a.Status, a.NextAttempt = accordwatch.AlertOverflow, time.Time{}
						a.LastError = fmt.Sprintf("over the rate cap of %d new incidents per hour on this channel; held for a summary", c)
					} else {
						capUsed[ch]++
					}
				}
				pl.alerts = append(pl.alerts, a)
			}
		}
	}
	return pl, nil
}

// chanItem keys what the rules said about an item on a channel.
type chanItem struct{ channel, item string }

// rateCap is the smallest cap among the rules that fired on a channel for
// an incident's items (0 = none).
func rateCap(rulesOf map[chanItem][]accordwatch.Rule, ch string, ids []string) int {
	c := 0
	for _, id := range ids {
		for _, r := range rulesOf[chanItem{ch, id}] {
			if r.RateCap > 0 && (c == 0 || r.RateCap < c) {
				c = r.RateCap
			}
		}
	}
	return c
}

// ruleNames lists distinct rule names in order.
func ruleNames(rs []accordwatch.Rule) string {
	var names []string
	for _, r := range rs {
		if !slices.Contains(names, r.Name) {
			names = append(names, r.Name)
		}
	}
	return strings.Join(names, ", ")
}

// told reports whether a channel, under any of its spellings, has heard
// of an incident: its incident alert is in the outbox (pending or sent —
// later states are handled when follow-ups are delivered) or a thread is
// recorded.
func (p *Pipeline) told(aliases []string, incidentID string) (bool, error) {
	for _, ch := range aliases {
		if _, ok, err := p.o.Store.Alert(AlertID(ch, incidentID)); err != nil || ok {
			return ok, err
		}
	}
	for _, ch := range aliases {
		if _, ok, err := p.o.Store.Thread(ch, incidentID); err != nil || ok {
			return ok, err
		}
	}
	return false, nil
}

// silenced maps each item matching an active silence to the first such
// silence. A silence whose query no longer parses is logged and skipped:
// it must not stop items from being stored.
func (p *Pipeline) silenced(ctx context.Context, ids []string, now time.Time) (map[string]accordwatch.Silence, error) {
	all, err := p.o.Store.Silences()
	if err != nil {
		return nil, fmt.Errorf("silences: %w", err)
	}
	out := map[string]accordwatch.Silence{}
	for _, sl := range all {
		if !sl.Active(now) {
			continue
		}
		hits, err := p.o.Index.Matching(ctx, sl.Query, ids)
		if err != nil {
			p.o.Logger.Warn("silence query failed; not applied", "silence", sl.ID, "query", sl.Query, "err", err)
			continue
		}
		for _, id := range hits {
			if _, ok := out[id]; !ok {
				out[id] = sl
			}
		}
	}
	return out, nil
}

// recent is how many new-incident messages the channel got in the last
// hour, under any of its spellings. Call with commitMu held.
func (p *Pipeline) recent(aliases []string, now time.Time) int {
	n := 0
	for _, channel := range aliases {
		l := p.capLog[channel]
		i := 0
		for i < len(l) && now.Sub(l[i]) >= capWindow {
			i++
		}
		if i > 0 {
			l = slices.Delete(l, 0, i)
			p.capLog[channel] = l
		}
		n += len(l)
	}
	return n
}

// applyPlan records what a successful commit added: rate-cap slots taken
// and channels now holding overflow.
func (p *Pipeline) applyPlan(added []accordwatch.Alert, now time.Time) {
	for _, a := range added {
		switch {
		case a.Status == accordwatch.AlertOverflow:
			p.overflow.add(a.Channel)
		case isIncidentKind(a.Kind) && a.Status == accordwatch.AlertPending:
			p.capLog[a.Channel] = append(p.capLog[a.Channel], now)
		}
	}
}
