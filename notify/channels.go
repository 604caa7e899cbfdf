package notify

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"
)

// Channel identity.
//
// One Slack channel can be configured as "#accord-alerts", "accord-alerts"
// or by its ID "C0123ABC", and a rule without a channel means the default
// one. Whoever keys alerts, threads and rate caps per channel must key them
// by the destination, not the spelling, or one incident is posted once per
// spelling into the same channel. Destination answers, per sink:
//
//   - Bot token: the Slack channel ID. ResolveChannels looks the configured
//     names up once with conversations.list (public and private channels,
//     paged) and conversations.info; when the token may not (no
//     channels:read/groups:read, or Slack is down), each name's ID is
//     learned from the answer to the first chat.postMessage to it, and from
//     the refs of alerts stored earlier (LearnChannel). Until then the key
//     is the normalised name and Destination.Resolved is false.
//   - Incoming webhook: one destination. A webhook posts where it was
//     created whatever channel the config names, so every spelling is one
//     key: the normalised default channel.
//   - File and JSON webhook only: no Slack channel to ask about. Spellings
//     that normalise to the same name ("#accord-alerts", "accord-alerts",
//     "#Accord-Alerts", and "" when that is the default) are one key; a
//     name and an ID stay two, since nothing can tell they are the same.
//
// Data stored by older versions is keyed by the spelling the config used
// then (and "" for the default channel). Destination.Aliases lists every
// spelling met — configured, found in stored alerts, or posted to — that
// reaches the same destination, so such data is found under its old key.

// Destination is where alerts for one configured channel spelling go.
type Destination struct {
	// Key identifies the destination (see the rules above): a Slack
	// channel ID, or a normalised name ("#accord-alerts") while no ID is
	// known or when there is none to know.
	Key string
	// Name is how the destination reads in logs and messages:
	// "#accord-alerts", or Key when no name is known.
	Name string
	// Resolved is false while Key is a channel name whose ID a post could
	// still reveal (bot mode, before the first post to it).
	Resolved bool
	// Aliases lists Key first, then every other spelling met so far that
	// reaches the same destination ("" for the default channel), sorted.
	Aliases []string
}

const (
	// listPageSize and maxListPages bound conversations.list: 20 pages of
	// 1,000 cover a large workspace; the rest is learned from posts.
	listPageSize = 1000
	maxListPages = 20
	// maxInfoLookups bounds conversations.info calls for IDs that need a
	// readable name.
	maxInfoLookups = 20
	// resolveTimeout bounds one round of lookups.
	resolveTimeout = 30 * time.Second
	// resolveRetry is how long after a transient lookup failure (Slack
	// down, rate limited) the next round may ask again.
	resolveRetry = 10 * time.Minute
)

// isChannelID reports whether s is a Slack conversation or user ID
// (C…, G…, D…, U…, W…: upper-case letters and digits) rather than a name.
// Slack channel names are lower-case, so no name looks like one; an
// upper-case word such as "DEVOPS" is taken as an ID, as Slack would.
func isChannelID(s string) bool {
	if len(s) < 2 || !strings.ContainsRune("CGDUW", rune(s[0])) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// normChannel is the spelling-independent form of a configured channel:
// an ID as it is, a name as "#" and the name in lower case ("Accord-Alerts"
// → "#accord-alerts"), "" (the default channel) as "".
func normChannel(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || isChannelID(s) {
		return s
	}
	name := strings.TrimSpace(strings.TrimPrefix(s, "#"))
	if name == "" {
		return ""
	}
	return "#" + strings.ToLower(name)
}

// channelBook is the Notifier's knowledge of channel identity. It is safe
// for concurrent use.
type channelBook struct {
	// lookups: names can still be resolved to IDs (bot mode).
	lookups bool
	// single: every spelling is one destination (incoming webhook).
	single bool
	// def is the default channel, normalised.
	def string

	mu    sync.Mutex
	ids   map[string]string // normalised spelling → Slack ID
	names map[string]string // Slack ID → "#name"
	seen  map[string]bool   // spellings met, exactly as given
	// asked holds normalised spellings already looked up, found or not.
	asked map[string]bool
	// off is set once Slack refused lookups for good (missing scope).
	off bool
	// retryAt is the earliest next round after a transient failure.
	retryAt time.Time
}

func newChannelBook(mode, def string) *channelBook {
	return &channelBook{
		lookups: mode == ModeBot, single: mode == ModeWebhook, def: normChannel(def),
		ids: map[string]string{}, names: map[string]string{}, seen: map[string]bool{}, asked: map[string]bool{},
	}
}

// norm is s normalised, the default channel for "".
func (b *channelBook) norm(s string) string {
	if n := normChannel(s); n != "" {
		return n
	}
	return b.def
}

// keyLocked returns the key of spelling s and whether it is final.
func (b *channelBook) keyLocked(s string) (key string, resolved bool) {
	if b.single {
		return b.def, true
	}
	n := b.norm(s)
	if id, ok := b.ids[n]; ok {
		return id, true
	}
	return n, !b.lookups || isChannelID(n)
}

// key returns the key of spelling s.
func (b *channelBook) key(s string) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	k, _ := b.keyLocked(s)
	return k
}

// label is a readable name for key: its channel name when known.
func (b *channelBook) label(key string) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.labelLocked(key)
}

func (b *channelBook) labelLocked(key string) string {
	if nm := b.names[key]; nm != "" {
		return nm
	}
	return key
}

func (b *channelBook) destination(s string) Destination {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.seen[s] = true
	key, resolved := b.keyLocked(s)
	d := Destination{Key: key, Name: b.labelLocked(key), Resolved: resolved, Aliases: []string{key}}
	for sp := range b.seen {
		if sp == key {
			continue
		}
		if k, _ := b.keyLocked(sp); k == key {
			d.Aliases = append(d.Aliases, sp)
		}
	}
	slices.Sort(d.Aliases[1:])
	return d
}

// learn records that spelling s reaches the channel with ID id.
func (b *channelBook) learn(s, id string) {
	if !isChannelID(id) {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.learnLocked(b.norm(s), id)
}

func (b *channelBook) learnLocked(n, id string) {
	if n != "" && n != id {
		b.ids[n] = id
	}
	if !isChannelID(n) && n != "" {
		b.names[id] = n
	}
}

// Destination returns where alerts for the configured channel spelling
// name ("" = the default channel) go now, and remembers the spelling so
// later Destinations list it among their aliases. See the channel identity
// notes at the top of channels.go.
func (n *Notifier) Destination(name string) Destination { return n.book.destination(name) }

// LearnChannel records a spelling found in stored data, and, when ref is
// where Slack accepted a message for it ("<channel ID>/<ts>", as Send
// returned it), that the spelling reaches that channel. The default
// channel's "" teaches nothing but its spelling: the default may have
// changed since.
func (n *Notifier) LearnChannel(name, ref string) {
	b := n.book
	b.mu.Lock()
	defer b.mu.Unlock()
	b.seen[name] = true
	ch, _, ok := splitRef(ref)
	if !ok || !isChannelID(ch) || strings.TrimSpace(name) == "" || b.single {
		return
	}
	if !b.lookups {
		return // no Slack channel IDs in file and JSON modes
	}
	b.learnLocked(normChannel(name), ch)
}

// ResolveChannels looks up the Slack IDs of the configured channel names
// (and the names of configured IDs, for logs) with conversations.list and
// conversations.info, in bot mode only. Names already looked up are not
// asked again, so calling it before every batch is cheap. When the token
// lacks the scope (channels:read, groups:read) it logs that once and
// stops asking; after any other failure it asks again at the earliest
// resolveRetry later. Either way, IDs are then learned from posts.
func (n *Notifier) ResolveChannels(ctx context.Context, names []string) {
	b := n.book
	b.mu.Lock()
	for _, s := range names {
		b.seen[s] = true
	}
	b.mu.Unlock()
	if !b.lookups {
		return
	}
	// One round at a time: two callers at start would list twice.
	n.resolveMu.Lock()
	defer n.resolveMu.Unlock()

	b.mu.Lock()
	wantName, wantID := map[string]bool{}, map[string]bool{}
	for _, s := range append(slices.Clone(names), "", n.opsChannel) {
		k := b.norm(s)
		switch {
		case k == "" || b.asked[k]:
		case isChannelID(k):
			if b.names[k] == "" {
				wantID[k] = true
			}
		case b.ids[k] == "":
			wantName[k] = true
		}
	}
	skip := b.off || n.now().Before(b.retryAt) || len(wantName)+len(wantID) == 0
	b.mu.Unlock()
	if skip {
		return
	}

	ctx, cancel := context.WithTimeout(ctx, resolveTimeout)
	defer cancel()
	err := n.lookupChannels(ctx, wantName, wantID)

	b.mu.Lock()
	defer b.mu.Unlock()
	var se slack.SlackErrorResponse
	switch {
	case err == nil:
		for k := range wantName {
			b.asked[k] = true
			n.log.Warn("slack channel not found among the channels the bot can see; its ID will be learned from the first post", "channel", k)
		}
		for k := range wantID {
			b.asked[k] = true
		}
	case errors.As(err, &se) && lookupRefused(se.Err):
		b.off = true
		n.log.Info("slack channel names cannot be looked up with this token; each channel's ID is learned from the first post to it",
			"code", se.Err, "needed", se.Needed, "provided", se.Provided)
	case ctx.Err() != nil && errors.Is(ctx.Err(), context.Canceled):
		// Shutting down: nothing to report.
	default:
		b.retryAt = n.now().Add(resolveRetry)
		n.log.Warn("slack channel lookup failed; will ask again later, and learn IDs from posts meanwhile", "err", n.sanitize(err))
	}
}

// lookupRefused reports whether a conversations.* error code means this
// token will never be allowed to list channels.
func lookupRefused(code string) bool {
	switch code {
	case "missing_scope", "not_allowed_token_type", "no_permission", "access_denied",
		"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired", "ekm_access_denied":
		return true
	}
	return false
}

// lookupChannels resolves wantName and wantID (deleting what it found)
// and records the answers in the book as it goes.
func (n *Notifier) lookupChannels(ctx context.Context, wantName, wantID map[string]bool) error {
	b := n.book
	record := func(id, name string) {
		if id == "" || name == "" {
			return
		}
		nm := "#" + strings.ToLower(name)
		b.mu.Lock()
		defer b.mu.Unlock()
		if wantName[nm] {
			b.learnLocked(nm, id)
			b.asked[nm] = true
			delete(wantName, nm)
			n.log.Info("slack channel resolved", "channel", nm, "channel_id", id)
		}
		if wantID[id] {
			b.names[id] = nm
			b.asked[id] = true
			delete(wantID, id)
		}
	}
	cursor := ""
	for page := 0; page < maxListPages && len(wantName)+len(wantID) > 0; page++ {
		chans, next, err := n.api.GetConversationsContext(ctx, &slack.GetConversationsParameters{
			Cursor: cursor, Limit: listPageSize, ExcludeArchived: true,
			Types: []string{"public_channel", "private_channel"},
		})
		if err != nil {
			return err
		}
		for _, c := range chans {
			record(c.ID, c.Name)
		}
		if next == "" {
			break
		}
		cursor = next
	}
	// IDs the listing did not reach (a DM, a channel beyond the pages):
	// ask for each, for a readable name in logs.
	asked := 0
	for _, id := range slices.Sorted(maps.Keys(wantID)) {
		if asked == maxInfoLookups {
			break
		}
		asked++
		c, err := n.api.GetConversationInfoContext(ctx, &slack.GetConversationInfoInput{ChannelID: id})
		var se slack.SlackErrorResponse
		if errors.As(err, &se) && (se.Err == "channel_not_found" || se.Err == "not_in_channel") {
			continue // posting will say what is wrong
		}
		if err != nil {
			return err
		}
		record(c.ID, c.Name)
	}
	return nil
}
