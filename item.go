package accordwatch

import "time"

// Item is one normalised news item. The store keeps it as the source of
// truth; the index is derived from it.
type Item struct {
	// ID is a stable hash of the feed URL and the item's GUID (or its
	// canonical link when the GUID is missing); see feeds.ItemID.
	ID       string `json:"id"`
	FeedURL  string `json:"feed_url"`
	FeedName string `json:"feed"`
	GUID     string `json:"guid,omitempty"`
	// Link is canonical: no utm_* parameters, no fragment, lower-case host.
	Link  string `json:"link"`
	Title string `json:"title"`
	// Text is plain text extracted from the item's HTML description/content.
	Text string `json:"text"`
	// Published is in UTC; it is the fetch time when the feed gives none.
	Published time.Time `json:"published"`
	// Fetched is when accordwatch first saw this version of the item.
	Fetched time.Time `json:"fetched"`
	// ContentHash covers title, text and link, so an edit is detectable.
	// It never covers Article: the feed's own item decides what changed.
	ContentHash string `json:"content_hash,omitempty"`
	// Article is the plain text of the article on the page at Link,
	// fetched once when the item was new and its feed's Article setting
	// asked for it (see Feed.ArticleMode). Never HTML.
	Article string `json:"article,omitempty"`
	// ArticleError is why the article was not used (the page could not be
	// fetched, was a paywall, was not a web page, ...); the item then has
	// the feed's text only. Empty when Article is set or none was asked
	// for.
	ArticleError string `json:"article_error,omitempty"`
	Tags         Tags   `json:"tags"`
}

// Principle is one of the four Cybersecurity Tech Accord commitments.
type Principle string

// The accord's four principles, in the order the accord lists them.
const (
	StrongerDefense  Principle = "stronger-defense"
	NoOffense        Principle = "no-offense"
	CapacityBuilding Principle = "capacity-building"
	CollectiveAction Principle = "collective-action"
)

// Principles lists every principle in the accord's order.
var Principles = []Principle{StrongerDefense, NoOffense, CapacityBuilding, CollectiveAction}

// Attack types: a fixed vocabulary, see DESIGN.md.
const (
	AttackRansomware    = "ransomware"
	AttackEspionage     = "espionage"
	AttackSupplyChain   = "supply-chain"
	AttackDDoS          = "ddos"
	AttackPhishing      = "phishing"
	AttackDataBreach    = "data-breach"
	AttackVulnerability = "vulnerability"
	AttackWiper         = "wiper"
	AttackInfluence     = "influence-operation"
	AttackFraud         = "fraud"
	AttackTakedown      = "takedown"
	AttackPolicy        = "policy"
	AttackNone          = "not-an-attack"
)

// Tags is what the classifier says about an item. Every tag has at least
// one Evidence entry explaining it.
type Tags struct {
	// Signatories are canonical Tech Accord signatory names
	// exactly as in shared/data/accord/signatories.csv ("Microsoft",
	// "HPE", "HP Inc.", "Facebook" for Meta, ...).
	Signatories []string `json:"signatories"`
	// Roles gives each signatory's role in the story, keyed by canonical
	// name: victim, vendor, reporter or responder.
	Roles map[string]string `json:"roles,omitempty"`
	// Companies are notable non-signatory companies (Google, Amazon, Apple,
	// ...), so the contrast is searchable.
	Companies   []string `json:"companies"`
	StateLinked bool     `json:"state_linked"`
	// States are English short country names of the attributed attacker
	// ("Russia", "China", "North Korea", "Iran"); never the victim.
	States []string `json:"states"`
	// Attribution says how strongly and by whom the activity is tied to a
	// state, one entry per state (or one with State "" for an unnamed one).
	Attribution []Attribution `json:"attribution,omitempty"`
	// Actors are canonical threat-actor names ("APT28", "Lazarus Group").
	Actors      []string    `json:"actors"`
	AttackTypes []string    `json:"attack_types"`
	Principles  []Principle `json:"principles"`
	// Severity is 0–100, explained by evidence entries with Tag "severity".
	Severity int        `json:"severity"`
	Evidence []Evidence `json:"evidence"`
}

// Attribution strengths.
const (
	StrengthAttributed = "attributed"
	StrengthLinked     = "linked"
	StrengthSuspected  = "suspected"
)

// Attribution ties an item's activity to a state.
type Attribution struct {
	State    string `json:"state,omitempty"`
	Strength string `json:"strength"`
	// By is who attributes it when the text names them ("Microsoft", "CISA").
	By string `json:"by,omitempty"`
}

// Evidence explains one tag: the words that matched, where, and the rule
// that turned them into the tag.
type Evidence struct {
	// Tag is "kind:value", e.g. "signatory:Microsoft", "state:Russia",
	// "actor:APT28", "attack:ransomware", "principle:no-offense",
	// "state_linked:true", "severity:+30".
	Tag string `json:"tag"`
	// Field is the part of the item the match came from: "title", "text"
	// (the feed's summary) or "article" (the fetched article, Item.Article),
	// or "tags" when derived from other tags.
	Field string `json:"field"`
	// Match is the matched text as it appears in the field.
	Match string `json:"match,omitempty"`
	// Offset is the byte offset of Match in Field (-1 when derived).
	Offset int    `json:"offset"`
	Rule   string `json:"rule"`
}

// ArticleSeparator joins an item's Text and Article in FullText.
const ArticleSeparator = "\n\n"

// FullText is what the item says in words: the feed's Text, then the
// Article when there is one (after ArticleSeparator). The tagger and the
// index read it; evidence offsets past len(Text)+len(ArticleSeparator)
// point into the Article.
func (it Item) FullText() string {
	if it.Article == "" {
		return it.Text
	}
	return it.Text + ArticleSeparator + it.Article
}
