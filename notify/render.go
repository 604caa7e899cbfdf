package notify

import (
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/accordwatch/accordwatch"
)

// Block Kit limits (docs.slack.dev). Slack does not truncate for us and
// slack-go does not validate on send, so every text object goes through fit.
const (
	maxText     = 3000 // any text object
	maxField    = 2000 // one section field
	maxFields   = 10   // fields per section
	maxHeader   = 150  // header block, plain_text
	maxBlocks   = 50   // blocks per message
	maxTitle    = 500  // link label inside the section text
	maxExcerpt  = 200  // item text quoted under the headline: a snippet, the story stays the publisher's
	maxLinkURL  = 1500 // longer links are shown as plain titles
	ellipsis    = "…"
	dateLayout  = "2006-01-02 15:04 UTC"
	untitled    = "(untitled)"
	unnamedSide = "unnamed state"
)

// Escape replaces Slack's three control characters (& < >) with their
// entities and nothing else, so feed text can neither ping (<!channel>,
// <@U123>) nor forge links. html.EscapeString would also turn ' into &#39;,
// which Slack shows literally.
func Escape(s string) string {
	if !strings.ContainsAny(s, "&<>") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for _, r := range s {
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// fit shortens already-escaped text to at most n runes, ending in "…" when
// cut. It runs after Escape because escaping lengthens text, and it never
// cuts inside an &amp;/&lt;/&gt; entity: half an entity would show as a
// stray "&l".
func fit(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	keep := n - utf8.RuneCountInString(ellipsis)
	if keep < 0 {
		keep = 0
	}
	// Byte offset of the first rune that does not fit.
	cut := len(s)
	i := 0
	for off := range s {
		if i == keep {
			cut = off
			break
		}
		i++
	}
	head := s[:cut]
	// After Escape every '&' starts an entity; if the last one has no ';'
	// after it, the cut fell inside it.
	if amp := strings.LastIndexByte(head, '&'); amp >= 0 && !strings.Contains(head[amp:], ";") {
		head = head[:amp]
	}
	return head + ellipsis
}

// slackURL returns raw ready to go inside <url|label>, or "" when it must not
// be a link: only http and https with a host are linked. '|', '<', '>' and
// spaces would end or break the link syntax, so they are percent-encoded
// (url.URL.String leaves <x> in a query untouched); '&' is Slack-escaped as
// Slack expects in message text.
func slackURL(raw string) string {
	raw = strings.TrimSpace(raw)
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	enc := strings.NewReplacer("|", "%7C", "<", "%3C", ">", "%3E", " ", "%20").Replace(raw)
	enc = Escape(enc)
	if utf8.RuneCountInString(enc) > maxLinkURL {
		return ""
	}
	return enc
}

// severityMarker gives the header a colour a reader can scan.
func severityMarker(sev int) string {
	switch accordwatch.SeverityBand(sev) {
	case accordwatch.BandCritical:
		return "🔴"
	case accordwatch.BandHigh:
		return "🟠"
	case accordwatch.BandMedium:
		return "🟡"
	default:
		return "⚪"
	}
}

// principleLabel is how a principle reads in a message.
func principleLabel(p accordwatch.Principle) string {
	switch p {
	case accordwatch.StrongerDefense:
		return "Stronger defense"
	case accordwatch.NoOffense:
		return "No offense"
	case accordwatch.CapacityBuilding:
		return "Capacity building"
	case accordwatch.CollectiveAction:
		return "Collective action"
	}
	return string(p)
}

// message is one rendered alert: the fallback text and the blocks.
type message struct {
	Text   string
	Blocks []slack.Block
}

// render builds the Block Kit message for an alert about item. Every piece
// of item text is escaped, then truncated.
func render(a accordwatch.Alert, item accordwatch.Item) message {
	title := strings.TrimSpace(item.Title)
	if title == "" {
		title = untitled
	}
	sev := item.Tags.Severity
	headerText := fmt.Sprintf("%s %d · %s", severityMarker(sev), sev, title)

	blocks := []slack.Block{
		slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, fit(Escape(headerText), maxHeader), true, false)),
	}

	section := slack.NewSectionBlock(mrkdwn(sectionText(title, item), maxText), fieldsFor(item.Tags), nil)
	blocks = append(blocks, section)

	if ctx := contextText(a, item); ctx != "" {
		blocks = append(blocks, slack.NewContextBlock("", mrkdwn(ctx, maxText)))
	}
	if len(blocks) > maxBlocks {
		blocks = blocks[:maxBlocks]
	}
	return message{
		Text:   fit(Escape(headerText), maxText),
		Blocks: blocks,
	}
}

// mrkdwn makes a verbatim mrkdwn text object from already-escaped text.
// verbatim stops Slack from auto-linking URLs and channel names and from
// parsing mentions in feed text.
func mrkdwn(escaped string, limit int) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, fit(escaped, limit), false, true)
}

// sectionText is the linked headline and a snippet of the item text,
// already escaped and within maxText. The snippet is the feed's text, or
// the article's opening when the feed has none; either way at most
// maxExcerpt runes, with the headline linking to the source for the rest.
func sectionText(title string, item accordwatch.Item) string {
	label := fit(Escape(title), maxTitle)
	headline := label
	if u := slackURL(item.Link); u != "" {
		headline = "<" + u + "|" + label + ">"
	}
	excerpt := strings.Join(strings.Fields(item.Text), " ")
	if excerpt == "" {
		// Only the opening is read: an article may be long.
		excerpt = strings.Join(strings.Fields(firstRunes(item.Article, 4*maxExcerpt)), " ")
	}
	if excerpt == "" {
		return headline
	}
	room := maxText - utf8.RuneCountInString(headline) - 1
	room = min(room, maxExcerpt)
	return headline + "\n" + fit(Escape(excerpt), room)
}

// firstRunes is s cut to at most n runes.
func firstRunes(s string, n int) string {
	for i := range s {
		if n == 0 {
			return s[:i]
		}
		n--
	}
	return s
}

// fieldsFor lists the tags as section fields, skipping empty ones.
func fieldsFor(t accordwatch.Tags) []*slack.TextBlockObject {
	var fields []*slack.TextBlockObject
	add := func(label string, lines ...string) {
		var vals []string
		for _, l := range lines {
			if l != "" {
				vals = append(vals, l)
			}
		}
		if len(vals) == 0 || len(fields) == maxFields {
			return
		}
		// The label is ours and bold; only the values are escaped.
		fields = append(fields, mrkdwn("*"+label+"*\n"+Escape(strings.Join(vals, "\n")), maxField))
	}

	sigs := make([]string, 0, len(t.Signatories))
	for _, s := range t.Signatories {
		if role := t.Roles[s]; role != "" {
			s += " (" + role + ")"
		}
		sigs = append(sigs, s)
	}
	add("Signatories", strings.Join(sigs, ", "))

	states := stateLines(t)
	actors := ""
	if len(t.Actors) > 0 {
		actors = "Actors: " + strings.Join(t.Actors, ", ")
	}
	add("State", strings.Join(states, ", "), actors)

	add("Attack type", strings.Join(t.AttackTypes, ", "))

	ps := make([]string, 0, len(t.Principles))
	for _, p := range t.Principles {
		line := principleLabel(p)
		if why := principleWhy(t, p); why != "" {
			line += ": " + why
		}
		ps = append(ps, line)
	}
	add("Principles", strings.Join(ps, "\n"))
	return fields
}

// maxWhyMatch bounds the quoted feed words in a principle's "why".
const maxWhyMatch = 60

// principleWhy is a one-line reason for principle p from the classifier's
// evidence: the rule that tagged it as a short phrase, plus the words that
// matched when they came from the item's text. Unescaped; "" without
// evidence.
func principleWhy(t accordwatch.Tags, p accordwatch.Principle) string {
	tag := "principle:" + string(p)
	for _, ev := range t.Evidence {
		if ev.Tag != tag {
			continue
		}
		why := rulePhrase(ev.Rule)
		if m := strings.Join(strings.Fields(ev.Match), " "); m != "" && ev.Field != "tags" {
			if utf8.RuneCountInString(m) > maxWhyMatch {
				m = string([]rune(m)[:maxWhyMatch-1]) + ellipsis
			}
			why += " (“" + m + "”)"
		}
		return why
	}
	return ""
}

// rulePhrase turns a classifier rule name into words a reader follows;
// unknown rules are shown by name.
func rulePhrase(rule string) string {
	if s, ok := strings.CutPrefix(rule, "signatory-victim:"); ok {
		return s + " was targeted"
	}
	if s, ok := strings.CutPrefix(rule, "signatory-vendor:"); ok {
		return s + " products are affected"
	}
	switch rule {
	case "state-linked":
		return "state-linked activity"
	case "offensive-tooling":
		return "offensive tooling or spyware"
	case "victims-impacted":
		return "users or systems were hit"
	case "defender-guidance":
		return "guidance or fixes for defenders"
	case "published-research":
		return "published threat research"
	case "joint-action":
		return "joint action with partners"
	}
	return rule
}

// stateLines describes each attributed state with its attribution, e.g.
// "Russia (attributed by Microsoft)".
func stateLines(t accordwatch.Tags) []string {
	describe := func(name string, at *accordwatch.Attribution) string {
		if at == nil || at.Strength == "" {
			return name
		}
		d := at.Strength
		if at.By != "" {
			d += " by " + at.By
		}
		return name + " (" + d + ")"
	}
	var out []string
	used := make(map[int]bool)
	for _, s := range t.States {
		var at *accordwatch.Attribution
		for i := range t.Attribution {
			if !used[i] && t.Attribution[i].State == s {
				at, used[i] = &t.Attribution[i], true
				break
			}
		}
		out = append(out, describe(s, at))
	}
	for i := range t.Attribution {
		if !used[i] && t.Attribution[i].State == "" {
			out = append(out, describe(unnamedSide, &t.Attribution[i]))
		}
	}
	if len(out) == 0 && t.StateLinked {
		out = append(out, "state-linked")
	}
	return out
}

// contextText is "<feed> · <published UTC> · matched: <rules> · N
// sources", escaped; the source count only when there is more than one.
// a.Rule names every rule that matched the incident for this channel.
func contextText(a accordwatch.Alert, item accordwatch.Item) string {
	var parts []string
	if item.FeedName != "" {
		parts = append(parts, item.FeedName)
	}
	if !item.Published.IsZero() {
		parts = append(parts, item.Published.In(time.UTC).Format(dateLayout))
	}
	if a.Rule != "" {
		parts = append(parts, matchedPrefix+a.Rule)
	}
	if a.Sources > 1 {
		parts = append(parts, fmt.Sprintf("%d sources", a.Sources))
	}
	return Escape(strings.Join(parts, " · "))
}

// linkedTitle is "<url|title>" (or the bare title when the link is not
// http(s)), escaped, the title within n runes.
func linkedTitle(title, link string, n int) string {
	title = strings.Join(strings.Fields(title), " ")
	if title == "" {
		title = untitled
	}
	label := fit(Escape(title), n)
	if u := slackURL(link); u != "" {
		return "<" + u + "|" + label + ">"
	}
	return label
}

// tagSummary is the item's tags on one line: signatories with roles,
// states, actors, attack types. Unescaped.
func tagSummary(t accordwatch.Tags) string {
	var parts []string
	for _, s := range t.Signatories {
		if role := t.Roles[s]; role != "" {
			s += " (" + role + ")"
		}
		parts = append(parts, s)
	}
	parts = append(parts, stateLines(t)...)
	parts = append(parts, t.Actors...)
	for _, at := range t.AttackTypes {
		if at != accordwatch.AttackNone {
			parts = append(parts, at)
		}
	}
	return strings.Join(parts, ", ")
}

// maxTagLine bounds a one-line tag summary in compact messages.
const maxTagLine = 300

// renderFollowup is the compact message for a later report of an incident:
// "Also reported by <feed>: <linked title>" and a context line with the
// report's severity, its tags and the rule. The notifier does not see the
// incident's earlier reports, so the tags are this report's own. degraded
// (no thread to reply in) starts the message with "Follow-up:".
func renderFollowup(a accordwatch.Alert, item accordwatch.Item, degraded bool) message {
	feed := strings.TrimSpace(item.FeedName)
	if feed == "" {
		feed = "another source"
	}
	prefix := ""
	if degraded {
		prefix = "Follow-up: "
	}
	lead := prefix + "Also reported by " + fit(Escape(feed), maxHeader) + ": "
	text := lead + linkedTitle(item.Title, item.Link, maxTitle)

	ctx := []string{fmt.Sprintf("%s %d", severityMarker(item.Tags.Severity), item.Tags.Severity)}
	if tags := tagSummary(item.Tags); tags != "" {
		ctx = append(ctx, fit(Escape(tags), maxTagLine))
	}
	if a.Rule != "" {
		ctx = append(ctx, matchedPrefix+fit(Escape(a.Rule), maxTitle))
	}
	if a.Sources > 1 {
		ctx = append(ctx, fmt.Sprintf("%d sources", a.Sources))
	}
	blocks := []slack.Block{
		slack.NewSectionBlock(mrkdwn(text, maxText), nil, nil),
		slack.NewContextBlock("", mrkdwn(strings.Join(ctx, " · "), maxText)),
	}
	title := strings.Join(strings.Fields(item.Title), " ")
	if title == "" {
		title = untitled
	}
	return message{Text: fit(lead+Escape(title), maxText), Blocks: blocks}
}

// Summary message bounds: entries are packed into sections of maxText
// runes, at most maxSummarySections of them, which keeps the whole message
// well under the ~13k characters where Slack starts to answer
// msg_blocks_too_long.
const (
	maxSummarySections = 3
	maxSummaryTitle    = 200
)

// matchedPrefix introduces the rules that matched, in every message kind:
// "matched: state-linked-attack, watch #accord-alerts".
const matchedPrefix = "matched: "

// renderSummary is one message for the alerts a rate cap held back on
// channel (its readable name, else its ID): a lead line, then one line per
// entry (severity, linked title, rules), and "… and K more" for what does
// not fit.
func renderSummary(a accordwatch.Alert, channel string) message {
	n := len(a.Summary)
	noun := "alerts"
	if n == 1 {
		noun = "alert"
	}
	ch := strings.TrimSpace(channel)
	switch {
	case ch == "": // a webhook's channel has no name here
		ch = "this channel"
	case !strings.HasPrefix(ch, "#"):
		ch = "#" + ch
	}
	lead := fmt.Sprintf("%d more %s held back by the rate cap on %s in the last hour:", n, noun, Escape(ch))
	blocks := []slack.Block{slack.NewSectionBlock(mrkdwn("*"+lead+"*", maxText), nil, nil)}

	var cur []string
	curLen, sections, shown := 0, 0, 0
	flush := func() {
		if len(cur) > 0 {
			blocks = append(blocks, slack.NewSectionBlock(mrkdwn(strings.Join(cur, "\n"), maxText), nil, nil))
			sections++
			cur, curLen = nil, 0
		}
	}
	for _, e := range a.Summary {
		line := fmt.Sprintf("%s %d · %s", severityMarker(e.Severity), e.Severity, linkedTitle(e.Title, e.Link, maxSummaryTitle))
		if e.Rule != "" {
			line += " · " + matchedPrefix + fit(Escape(e.Rule), maxSummaryTitle)
		}
		l := utf8.RuneCountInString(line) + 1
		if curLen+l > maxText {
			flush()
			if sections == maxSummarySections {
				break
			}
		}
		if l > maxText { // a single absurd line: never happens with the caps above
			line = fit(line, maxText)
		}
		cur = append(cur, line)
		curLen += l
		shown++
	}
	flush()
	if rest := n - shown; rest > 0 {
		blocks = append(blocks, slack.NewContextBlock("", mrkdwn(fmt.Sprintf("… and %d more", rest), maxText)))
	}
	return message{Text: fit(lead, maxText), Blocks: blocks}
}

// renderOps is an operational message: the text escaped, in one section.
func renderOps(text string) message {
	esc := fit(Escape(text), maxText)
	return message{Text: esc, Blocks: []slack.Block{slack.NewSectionBlock(mrkdwn(esc, maxText), nil, nil)}}
}
