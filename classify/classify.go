package classify

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/accordwatch/accordwatch"
)

// Options configures a Classifier.
type Options struct {
	// ExtraDictionaries are paths to user dictionary files (same JSON/YAML
	// format as the embedded ones) merged over the embedded entries (same
	// canonical name overrides). May be empty.
	ExtraDictionaries []string
}

type kind uint8

const (
	kSignatory kind = iota
	kCompany
	kOrg
	kActor
	kFamily
	kCountry // a country's name
	kDemonym
	kCapital // capital, seat of power or leader
	kAgency
	kCue
	kAttack
)

// Layers of the matcher: entities compete with each other for words,
// attack keywords with each other, and each cue list only with itself.
const (
	layerEntity = iota
	layerAttack
	firstCueLayer
)

// centry is a compiled dictionary entry.
type centry struct {
	kind         kind
	name         string // canonical name, cue name or attack type
	country      string // actors, families; the state itself for state kinds
	attributable bool
	stateTheft   bool // states whose own units steal money (Entry.StateTheft)
	actorKind    string
	joined       time.Time
	weight       int
	typ          int // attacks: index in attackTypes
	// Evidence strings built once, not per item: the entry's tag
	// ("signatory:Microsoft", "company:…", "actor:…"), a family's rule
	// ("family:typhoon"), a signatory's role tags by rolePriority index.
	tag      string
	famRule  string
	roleTags *[len(rolePriority)]string
}

// Classifier tags items. It is immutable after New and safe for
// concurrent use.
type Classifier struct {
	m *matcher
	// docs pools per-call scratch (token and hit buffers), which is most
	// of what a Classify call would otherwise allocate.
	docs    sync.Pool
	entries []centry
	// kinds is entries' kinds, a byte each: the rules test an entity hit's
	// kind far more often than they read the rest of its entry.
	kinds    []kind
	cueLayer map[string]int
	// resolve maps field → normalised alias → canonical value.
	resolve map[string]map[string]string
	// familyCountry maps a family word ("typhoon") to its state ("" for
	// families without one, such as Tempest).
	familyCountry map[string]string
	// stateTags maps a state's name to its evidence tag ("state:Russia").
	stateTags map[string]string
	// wordSets is by vocabulary id + 1 (0 for words not in it): bit s is
	// set when the word is in ruleSets[s]. The rules test a token's id
	// against it instead of hashing the word into a map.
	wordSets []uint64
}

// New compiles the embedded dictionaries and opts.ExtraDictionaries into
// one matcher.
func New(opts Options) (*Classifier, error) {
	d, err := loadEmbedded()
	if err != nil {
		return nil, fmt.Errorf("classify: %w", err)
	}
	for _, p := range opts.ExtraDictionaries {
		extra, err := loadFile(p)
		if err != nil {
			return nil, fmt.Errorf("classify: %w", err)
		}
		d.merge(extra)
	}
	c, err := compile(d)
	if err != nil {
		return nil, fmt.Errorf("classify: %w", err)
	}
	c.m.all = nil // only tests walk the phrases; the scan needs the compiled trie
	return c, nil
}

func compile(d Dictionary) (*Classifier, error) {
	c := &Classifier{
		cueLayer:      map[string]int{},
		familyCountry: map[string]string{},
		resolve: map[string]map[string]string{
			"signatory": {}, "company": {}, "actor": {}, "state": {}, "attack": {}, "principle": {},
		},
	}
	b := newMatcherBuilder()
	var errs []error
	add := func(e centry, src Entry, layer int, lists ...[]string) {
		idx := len(c.entries)
		c.entries = append(c.entries, e)
		cased := map[string]bool{}
		for _, p := range src.CaseSensitive {
			cased[p] = true
		}
		listed := map[string]bool{}
		for _, list := range lists {
			for _, p := range list {
				listed[p] = true
				if !b.add(p, layer, idx, cased[p], src.NotBefore, src.NotAfter) {
					errs = append(errs, fmt.Errorf("%s: phrase %q has no words", src.Name, p))
				}
			}
		}
		if len(lists) > 0 {
			for _, p := range src.CaseSensitive {
				if !listed[p] {
					b.add(p, layer, idx, true, src.NotBefore, src.NotAfter)
				}
			}
		}
	}
	alias := func(field, canonical string, lists ...[]string) {
		c.resolve[field][normKey(canonical)] = canonical
		for _, l := range lists {
			for _, a := range l {
				if k := normKey(a); k != "" {
					if _, taken := c.resolve[field][k]; !taken {
						c.resolve[field][k] = canonical
					}
				}
			}
		}
	}

	for _, s := range d.Signatories {
		var joined time.Time
		if s.Joined != "" {
			t, err := time.Parse(time.DateOnly, s.Joined)
			if err != nil {
				errs = append(errs, fmt.Errorf("signatory %s: joined: %w", s.Name, err))
			}
			joined = t
		}
		add(centry{kind: kSignatory, name: s.Name, joined: joined}, s, layerEntity, s.Match)
		alias("signatory", s.Name, s.Match, s.CaseSensitive)
	}
	for _, s := range d.Companies {
		add(centry{kind: kCompany, name: s.Name}, s, layerEntity, s.Match)
		alias("company", s.Name, s.Match, s.CaseSensitive)
	}
	for _, s := range d.Orgs {
		add(centry{kind: kOrg, name: s.Name}, s, layerEntity, s.Match)
	}
	for _, s := range d.Actors {
		add(centry{kind: kActor, name: s.Name, country: s.Country, actorKind: s.Kind}, s, layerEntity, s.Match)
		alias("actor", s.Name, s.Match, s.CaseSensitive)
	}
	for _, s := range d.Families {
		add(centry{kind: kFamily, name: s.Name, country: s.Country}, s, layerEntity, s.Match)
		for _, m := range s.Match {
			c.familyCountry[normKey(m)] = s.Country
		}
	}
	for _, s := range d.States {
		attributable := s.Attributable == nil || *s.Attributable
		for _, part := range []struct {
			k    kind
			list []string
		}{{kCountry, s.Match}, {kDemonym, s.Demonyms}, {kCapital, s.Capitals}, {kAgency, s.Agencies}} {
			if len(part.list) == 0 {
				continue
			}
			add(centry{kind: part.k, name: s.Name, country: s.Name, attributable: attributable, stateTheft: s.StateTheft}, s, layerEntity, part.list)
		}
		alias("state", s.Name, s.Match, s.Demonyms, s.CaseSensitive)
	}
	// Known cue lists take the layers of their ids; a user's own cue lists
	// get the layers after them and are matched but unused by the rules.
	for id, name := range cueNames {
		c.cueLayer[name] = firstCueLayer + id
	}
	present := map[string]bool{}
	for _, s := range d.Cues {
		layer, ok := c.cueLayer[s.Name]
		if !ok {
			layer = firstCueLayer + len(c.cueLayer)
			c.cueLayer[s.Name] = layer
		}
		present[s.Name] = true
		add(centry{kind: kCue, name: s.Name}, s, layer, s.Match)
	}
	for _, name := range cueNames {
		if !present[name] {
			errs = append(errs, fmt.Errorf("cue list %q is missing", name))
		}
	}
	for _, s := range d.Attacks {
		typ := slices.Index(attackTypes[:], s.Name)
		if typ < 0 {
			errs = append(errs, fmt.Errorf("attack type %q is not in the vocabulary", s.Name))
			continue
		}
		w := s.Weight
		if w <= 0 {
			w = 1
		}
		add(centry{kind: kAttack, name: s.Name, weight: w, typ: typ}, s, layerAttack, s.Match)
	}
	for _, t := range attackTypes {
		alias("attack", t)
	}
	for k, v := range attackAliases {
		alias("attack", v, []string{k})
	}
	for _, p := range accordwatch.Principles {
		alias("principle", string(p))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	c.stateTags = map[string]string{}
	c.kinds = make([]kind, len(c.entries))
	for i := range c.entries {
		c.kinds[i] = c.entries[i].kind
		e := &c.entries[i]
		switch e.kind {
		case kSignatory:
			e.tag = "signatory:" + e.name
			e.roleTags = new([len(rolePriority)]string)
			for r, rp := range rolePriority {
				e.roleTags[r] = "role:" + e.name + ":" + rp.role
			}
		case kCompany:
			e.tag = "company:" + e.name
		case kActor:
			e.tag = "actor:" + e.name
		case kFamily:
			e.famRule = "family:" + strings.ToLower(e.name)
		}
		if e.country != "" {
			c.stateTags[e.country] = "state:" + e.country
		}
	}
	for _, set := range ruleSets {
		for w := range set {
			b.extra = append(b.extra, w)
		}
	}
	c.m = b.build()
	c.wordSets = make([]uint64, c.m.nwords+1)
	for s, set := range ruleSets {
		for w := range set {
			c.wordSets[wordID(c.m, w)+1] |= 1 << s
		}
	}
	c.docs.New = func() any { return new(doc) }
	return c, nil
}

// attackAliases are other names of attack types that Resolve accepts: the
// evaluation set's long labels and common spellings. The type names with
// their hyphens read as spaces ("data breach") resolve without an entry.
var attackAliases = map[string]string{
	"wiper/destructive":   accordwatch.AttackWiper,
	"destructive":         accordwatch.AttackWiper,
	"fraud/financial":     accordwatch.AttackFraud,
	"takedown/disruption": accordwatch.AttackTakedown,
	"policy/other":        accordwatch.AttackPolicy,
	"denial of service":   accordwatch.AttackDDoS,
}

func normKey(s string) string { return strings.Join(words(s), " ") }

// Normalize returns s the way the tagger compares names: its words (runs
// of letters and digits) lower-cased, common accents folded, joined by
// single spaces. "Türkiye-linked APT 28" becomes "turkiye linked apt 28".
func Normalize(s string) string { return normKey(s) }

// Resolve maps a user-typed value of a tag field to the canonical value,
// case-insensitively, through aliases. field is one of signatory, company,
// actor, state, attack, principle. ok is false when the value is unknown.
func (c *Classifier) Resolve(field, value string) (canonical string, ok bool) {
	m, known := c.resolve[strings.ToLower(field)]
	if !known {
		return "", false
	}
	k := normKey(value)
	if v, ok := m[k]; ok {
		return v, true
	}
	if field == "actor" {
		// "<Word> Typhoon" and friends are actors even when not listed.
		ws := strings.Fields(k)
		if len(ws) == 2 {
			if _, fam := c.familyCountry[ws[1]]; fam {
				return titleWord(ws[0]) + " " + titleWord(ws[1]), true
			}
		}
	}
	return "", false
}

func titleWord(w string) string {
	if w == "" {
		return w
	}
	return strings.ToUpper(w[:1]) + w[1:]
}
