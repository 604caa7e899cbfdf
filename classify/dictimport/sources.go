package dictimport

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"unicode"

	"github.com/accordwatch/accordwatch/classify"
)

// ActorsFromMISP reads the MISP galaxy threat-actor cluster
// (clusters/threat-actor.json). The country comes from
// meta.cfr-suspected-state-sponsor, else from meta.country unless the
// actor looks criminal or hacktivist (MISP records where a gang is based,
// which is not state sponsorship).
func ActorsFromMISP(r io.Reader) ([]classify.Entry, error) {
	var doc struct {
		Values []struct {
			Value       string `json:"value"`
			Description string `json:"description"`
			Meta        struct {
				Synonyms []string `json:"synonyms"`
				Country  string   `json:"country"`
				Sponsor  string   `json:"cfr-suspected-state-sponsor"`
			} `json:"meta"`
		} `json:"values"`
	}
	if err := json.NewDecoder(r).Decode(&doc); err != nil {
		return nil, fmt.Errorf("decode MISP threat-actor galaxy: %w", err)
	}
	if len(doc.Values) == 0 {
		return nil, fmt.Errorf("decode MISP threat-actor galaxy: no values")
	}
	var out []classify.Entry
	for _, v := range doc.Values {
		name := strings.TrimSpace(v.Value)
		if name == "" {
			continue
		}
		names := append([]string{name}, v.Meta.Synonyms...)
		kind := kindFromText(names, v.Description)
		country := normCountry(v.Meta.Sponsor)
		if devClusterRe.MatchString(name) {
			// Microsoft's groups "in development": where MISP says they
			// are based is not yet an attribution.
			kind = "cluster"
		}
		if country == "" && kind == "" {
			country = normCountry(v.Meta.Country)
		}
		if country != "" && kind == "" {
			kind = "apt"
		}
		if e, ok := newActor(name, country, kind, names); ok {
			out = append(out, e)
		}
	}
	return out, nil
}

// ActorsFromATTACK reads the intrusion sets extracted from MITRE ATT&CK
// ({"intrusion_sets": [...]}, or a plain array of intrusion-set objects).
// Revoked and deprecated groups are skipped. ATT&CK records no country.
func ActorsFromATTACK(r io.Reader) ([]classify.Entry, error) {
	type set struct {
		Type       string   `json:"type"`
		Name       string   `json:"name"`
		Aliases    []string `json:"aliases"`
		Revoked    bool     `json:"revoked"`
		Deprecated bool     `json:"x_mitre_deprecated"`
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read ATT&CK groups: %w", err)
	}
	var sets []set
	var doc struct {
		IntrusionSets []set `json:"intrusion_sets"`
		Objects       []set `json:"objects"` // a STIX bundle
	}
	if err := json.Unmarshal(data, &sets); err != nil {
		if err := json.Unmarshal(data, &doc); err != nil {
			return nil, fmt.Errorf("decode ATT&CK groups: %w", err)
		}
		sets = doc.IntrusionSets
		for _, o := range doc.Objects {
			if o.Type == "intrusion-set" {
				sets = append(sets, o)
			}
		}
	}
	if len(sets) == 0 {
		return nil, fmt.Errorf("decode ATT&CK groups: no intrusion sets")
	}
	var out []classify.Entry
	for _, s := range sets {
		name := strings.TrimSpace(s.Name)
		if s.Revoked || s.Deprecated || name == "" {
			continue
		}
		names := append([]string{name}, s.Aliases...)
		if e, ok := newActor(name, "", kindFromText(names, ""), names); ok {
			out = append(out, e)
		}
	}
	return out, nil
}

// familyCountries are Microsoft's weather families that name a state.
// Tempest (financially motivated), Flood (influence), Tsunami (private
// sector offensive actors) and Storm-NNNN (in development) do not.
var familyCountries = map[string]string{
	"typhoon": "China", "blizzard": "Russia", "sleet": "North Korea", "sandstorm": "Iran",
	"cyclone": "Vietnam", "dust": "Turkey", "hail": "South Korea", "rain": "Lebanon",
}

// ActorsFromMicrosoft reads Microsoft's threat-actor naming map
// (MicrosoftMapping.json: "Threat actor name", "Origin/Threat", "Other
// names"). The country comes from the family word, else from
// "Origin/Threat" when that names a country and no criminal or commercial
// motive; Storm-NNNN groups are "in development" and get none.
func ActorsFromMicrosoft(r io.Reader) ([]classify.Entry, error) {
	var rows []struct {
		Name   string `json:"Threat actor name"`
		Origin string `json:"Origin/Threat"`
		Other  string `json:"Other names"`
	}
	if err := json.NewDecoder(r).Decode(&rows); err != nil {
		return nil, fmt.Errorf("decode Microsoft threat-actor naming: %w", err)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("decode Microsoft threat-actor naming: no rows")
	}
	var out []classify.Entry
	for _, row := range rows {
		name := strings.TrimSpace(row.Name)
		if name == "" {
			continue
		}
		names := []string{name}
		for _, o := range strings.Split(row.Other, ",") {
			if o = strings.TrimSpace(o); o != "" {
				names = append(names, o)
			}
		}
		ws := strings.Fields(strings.ToLower(name))
		family := ws[len(ws)-1]
		var country, kind string
		origin := strings.ToLower(row.Origin)
		motive := strings.Contains(origin, "financially") || strings.Contains(origin, "private sector") || family == "tempest"
		switch {
		case strings.HasPrefix(family, "storm-"):
			kind = "cluster"
		case motive:
			kind = "crime"
			if strings.Contains(origin, "private sector") || family == "tsunami" {
				kind = "psoa"
			}
		default:
			country = familyCountries[family]
			if country == "" {
				first, _, _ := strings.Cut(row.Origin, ",")
				country = normCountry(first)
			}
			if country != "" {
				kind = "apt"
			}
		}
		if e, ok := newActor(name, country, kind, names); ok {
			out = append(out, e)
		}
	}
	return out, nil
}

// newActor builds an entry from its names, sorting each usable alias into
// Match or CaseSensitive. ok is false when no alias is usable.
func newActor(name, country, kind string, names []string) (classify.Entry, bool) {
	e := classify.Entry{Name: name, Country: country, Kind: kind}
	seen := map[string]bool{}
	for _, a := range names {
		a = strings.TrimSpace(a)
		cls, form := classifyAlias(a)
		k := aliasKey(form)
		if cls == aliasDrop || seen[k] {
			continue
		}
		seen[k] = true
		if cls == aliasCased {
			e.CaseSensitive = append(e.CaseSensitive, form)
		} else {
			e.Match = append(e.Match, form)
		}
	}
	return e, len(e.Match)+len(e.CaseSensitive) > 0
}

var (
	ransomwareRe = regexp.MustCompile(`(?i)\bransomware\b`)
	crimeRe      = regexp.MustCompile(`(?i)\b(cyber ?crim\w*|financially motivated|criminal\w*|fraud\w*|e-?crime)\b`)
	hacktivistRe = regexp.MustCompile(`(?i)\bhacktivis\w*`)
	// Vendor naming schemes that mark criminal groups: CrowdStrike's
	// SPIDER, Secureworks' GOLD, Unit 42's Libra and Scorpius, FIN7 & co.
	devClusterRe = regexp.MustCompile(`(?i)^(storm|dev)-\d{4}$`)
	crimeNameRe  = regexp.MustCompile(`(?i)(\bspider$|^gold |\blibra$|\bscorpius$|^fin\d+$|\btempest$)`)
)

// kindFromText guesses a criminal kind from an actor's names and
// description; "" means no criminal sign (not necessarily a state).
func kindFromText(names []string, desc string) string {
	for _, n := range names {
		if crimeNameRe.MatchString(strings.TrimSpace(n)) {
			if ransomwareRe.MatchString(desc) {
				return "ransomware"
			}
			return "crime"
		}
	}
	// Only the first sentence: later ones often say "unlike criminal groups".
	first, _, _ := strings.Cut(desc, ". ")
	switch {
	case hacktivistRe.MatchString(first):
		return "hacktivist"
	case ransomwareRe.MatchString(first):
		return "ransomware"
	case crimeRe.MatchString(first):
		return "crime"
	}
	return ""
}

// MergeActors unions actors from several sources. An entry joins the
// group whose name or aliases it shares (case- and spacing-insensitive);
// when it touches several groups, the one whose name it shares wins, then
// the one sharing most aliases, then the oldest. Earlier sets have
// priority: their names are canonical, their country and kind win, and an
// alias claimed by two groups stays with the earlier one. Pass ATT&CK
// first, then MISP, then Microsoft, so "APT28" names the group that
// Microsoft calls Forest Blizzard. The result is sorted by name, aliases
// sorted within each entry.
func MergeActors(sets ...[]classify.Entry) []classify.Entry {
	type alias struct {
		form  string
		cased bool
	}
	type group struct {
		e       classify.Entry
		aliases map[string][]alias // aliasKey -> the forms listed by the entry that claimed it
	}
	var groups []*group
	owner := map[string]int{} // aliasKey of a name or alias -> group index
	byName := map[string]int{}
	for _, set := range sets {
		for _, in := range set {
			keys := map[string]bool{}
			for _, a := range slices.Concat([]string{in.Name}, in.Match, in.CaseSensitive) {
				if k := aliasKey(a); k != "" {
					keys[k] = true
				}
			}
			nameKey := aliasKey(in.Name)
			best, bestScore := -1, 0
			if gi, ok := byName[nameKey]; ok {
				best = gi
			} else if gi, ok := owner[nameKey]; ok {
				best = gi
			} else {
				score := map[int]int{}
				for k := range keys {
					if gi, ok := owner[k]; ok {
						score[gi]++
					}
				}
				for gi, s := range score {
					if s > bestScore || (s == bestScore && gi < best) {
						best, bestScore = gi, s
					}
				}
			}
			if best < 0 {
				best = len(groups)
				groups = append(groups, &group{e: classify.Entry{Name: in.Name}, aliases: map[string][]alias{}})
				byName[nameKey] = best
				owner[nameKey] = best
			}
			g := groups[best]
			if g.e.Country == "" {
				g.e.Country = in.Country
			}
			if g.e.Kind == "" {
				g.e.Kind = in.Kind
			}
			// Spellings that differ only in case or punctuation ("LAPSUS",
			// "Lapsus$") are kept only as the first entry to list the alias
			// wrote them, so curated variants survive and datasets add none.
			claimed := map[string]bool{}
			add := func(a string, cased bool) {
				k := aliasKey(a)
				if k == "" {
					return
				}
				if gi, ok := owner[k]; ok && gi != best {
					return
				}
				owner[k] = best
				if _, ok := g.aliases[k]; ok && !claimed[k] {
					return
				}
				claimed[k] = true
				if !slices.Contains(g.aliases[k], alias{a, cased}) {
					g.aliases[k] = append(g.aliases[k], alias{a, cased})
				}
			}
			for _, a := range in.Match {
				add(a, false)
			}
			for _, a := range in.CaseSensitive {
				add(a, true)
			}
		}
	}
	out := make([]classify.Entry, 0, len(groups))
	for _, g := range groups {
		e := g.e
		for _, forms := range g.aliases {
			for _, f := range forms {
				if f.cased {
					e.CaseSensitive = append(e.CaseSensitive, f.form)
				} else {
					e.Match = append(e.Match, f.form)
				}
			}
		}
		sortAliases(e.Match)
		sortAliases(e.CaseSensitive)
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b classify.Entry) int {
		return cmp.Or(cmp.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)), cmp.Compare(a.Name, b.Name))
	})
	return out
}

// sortAliases orders aliases case-insensitively, ties by bytes, so
// generated files diff cleanly.
func sortAliases(s []string) {
	slices.SortFunc(s, func(a, b string) int {
		return cmp.Or(cmp.Compare(strings.ToLower(a), strings.ToLower(b)), cmp.Compare(a, b))
	})
}

// aliasClass is what the filter decides for one alias.
type aliasClass uint8

const (
	aliasDrop  aliasClass = iota
	aliasAny              // matched case-insensitively
	aliasCased            // matched only as written or in capitals
)

// usableAlias reports whether alias may name an actor in news text at all
// (possibly only case-sensitively).
func usableAlias(alias string) bool {
	c, _ := classifyAlias(alias)
	return c != aliasDrop
}

var (
	attackIDRe   = regexp.MustCompile(`^G\d{4}$`)   // ATT&CK group IDs in MISP synonyms
	internalCase = regexp.MustCompile(`[a-z][A-Z]`) // OilRig, ScarCruft
	operationRe  = regexp.MustCompile(`(?i)^(operation|op\.?|campaign)\s+`)
	bracketRe    = regexp.MustCompile(`\s*[\(\[][^)\]]*[\)\]]\s*$`) // "APT-C-38 (QiAnXin)"
)

// classifyAlias decides whether an alias is dropped, matched in any case
// or matched case-sensitively, and returns the form to store (all-capital
// plain words become title case so "Strontium" and "STRONTIUM" both match
// but "strontium" does not).
func classifyAlias(alias string) (aliasClass, string) {
	a := strings.Join(strings.Fields(alias), " ")
	// Vendor notes in brackets are not part of the name ("APT-C-38
	// (QiAnXin)"), but a bracketed number is ("NoName057(16)").
	if m := bracketRe.FindString(a); m != "" && !strings.ContainsAny(m, "0123456789") {
		a = strings.TrimSuffix(a, m)
	}
	if a == "" || attackIDRe.MatchString(a) {
		return aliasDrop, a
	}
	for _, r := range a {
		if unicode.IsLetter(r) && r > unicode.MaxLatin1 && !unicode.In(r, unicode.Latin) {
			return aliasDrop, a // other scripts never occur in English news
		}
	}
	ws := aliasWords(a)
	if len(ws) == 0 {
		return aliasDrop, a
	}
	if k := strings.Join(ws, " "); reservedNames[k] {
		return aliasDrop, a
	}
	letters := 0
	for _, r := range a {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			letters++
		}
	}
	if letters <= 3 {
		return aliasDrop, a
	}
	rest := ws
	if len(ws) > 1 && (ws[0] == "the" || operationRe.MatchString(a)) {
		rest = ws[1:]
	}
	// distinct counts words that are neither generic nor common English;
	// code is set by a word mixing letters and digits (APT28, Ke3chang) or
	// a hyphenated number (Storm-0558, UAC-0056), never by "Group 74".
	var distinct, plain int
	code := false
	for i, w := range rest {
		switch {
		case hasLetterAndDigit(w):
			code = true
		case allDigits(w):
			code = code || (len(w) >= 2 && (!strings.Contains(a, " ") || (i > 0 && rest[i-1] == "apt")))
		case genericWords[w] || len(w) <= 2:
		case commonWords[w]:
			plain++
		default:
			distinct++
		}
	}
	switch {
	case !slices.ContainsFunc(ws, func(w string) bool { return !allDigits(w) }):
		return aliasDrop, a // "1337", "61398"
	case code:
		return aliasAny, a
	case distinct == 0 && plain == 0:
		return aliasDrop, a // "Group 3", "Hacker Team"
	case distinct == 0 && len(rest) == 1:
		return aliasDrop, a // "Equation", "Shadow", "Operation Ghost"
	case distinct == 0:
		return aliasCased, titleIfCaps(a) // "Fancy Bear", "Comment Crew"
	case len(rest) > 1:
		return aliasAny, a // "Sandworm Team", "Hidden Cobra"
	case internalCase.MatchString(a) || strings.ContainsAny(a, "$-_.@"):
		return aliasAny, a // OilRig, ScarCruft, TEMP.Periscope
	case len(ws) == 1 && len(ws[0]) <= 4:
		return aliasCased, strings.ToUpper(a) // "ZINC": short words only in capitals
	}
	return aliasCased, titleIfCaps(a) // "Turla", "Strontium": a name, as written
}

func hasLetterAndDigit(w string) bool {
	return strings.ContainsFunc(w, unicode.IsLetter) && strings.ContainsFunc(w, unicode.IsDigit)
}

func allDigits(w string) bool {
	for _, r := range w {
		if !unicode.IsDigit(r) {
			return false
		}
	}
	return true
}

// titleIfCaps turns "IRON TWILIGHT" into "Iron Twilight"; mixed-case
// phrases are kept as written.
func titleIfCaps(a string) string {
	if strings.ToUpper(a) != a {
		return a
	}
	ws := strings.Fields(strings.ToLower(a))
	for i, w := range ws {
		r := []rune(w)
		r[0] = unicode.ToUpper(r[0])
		ws[i] = string(r)
	}
	return strings.Join(ws, " ")
}

// countryNames maps spellings, ISO 3166-1 alpha-2 codes and the UN-style
// names MISP uses to the state names of dict/states.json.
var countryNames = func() map[string]string {
	m := map[string]string{}
	for canon, variants := range map[string][]string{
		"Russia":               {"RU", "Russian Federation", "Russia"},
		"China":                {"CN", "China", "People's Republic of China", "PRC"},
		"North Korea":          {"KP", "North Korea", "Korea (Democratic People's Republic of)", "DPRK", "Democratic People's Republic of Korea"},
		"South Korea":          {"KR", "South Korea", "Korea (Republic of)", "Republic of Korea"},
		"Iran":                 {"IR", "Iran", "Iran (Islamic Republic of)", "Islamic Republic of Iran"},
		"Belarus":              {"BY", "Belarus"},
		"Turkey":               {"TR", "Turkey", "Türkiye", "Turkiye"},
		"Vietnam":              {"VN", "Vietnam", "Viet Nam"},
		"Pakistan":             {"PK", "Pakistan"},
		"India":                {"IN", "India"},
		"United States":        {"US", "United States", "United States of America", "USA"},
		"United Kingdom":       {"GB", "UK", "United Kingdom"},
		"Ukraine":              {"UA", "Ukraine"},
		"Taiwan":               {"TW", "Taiwan"},
		"Japan":                {"JP", "Japan"},
		"Israel":               {"IL", "Israel"},
		"Germany":              {"DE", "Germany"},
		"France":               {"FR", "France"},
		"Spain":                {"ES", "Spain"},
		"Italy":                {"IT", "Italy"},
		"Lebanon":              {"LB", "Lebanon"},
		"Palestine":            {"PS", "Palestine", "State of Palestine"},
		"United Arab Emirates": {"AE", "United Arab Emirates", "UAE"},
		"Syria":                {"SY", "Syria", "Syrian Arab Republic"},
		"Kazakhstan":           {"KZ", "Kazakhstan"},
		"Singapore":            {"SG", "Singapore"},
		"Austria":              {"AT", "Austria"},
		"Egypt":                {"EG", "Egypt"},
		"Iraq":                 {"IQ", "Iraq"},
		"Morocco":              {"MA", "Morocco"},
		"Algeria":              {"DZ", "Algeria"},
		"Tunisia":              {"TN", "Tunisia"},
		"Nigeria":              {"NG", "Nigeria"},
		"Brazil":               {"BR", "Brazil"},
		"Indonesia":            {"ID", "Indonesia"},
		"Malaysia":             {"MY", "Malaysia"},
		"Romania":              {"RO", "Romania"},
		"Kenya":                {"KE", "Kenya"},
		"Libya":                {"LY", "Libya"},
	} {
		for _, v := range variants {
			m[strings.ToLower(v)] = canon
		}
	}
	return m
}()

// normCountry returns the project's name for a country, "" when s is not
// a known country ("Unknown", "Financially motivated").
func normCountry(s string) string {
	return countryNames[strings.ToLower(strings.TrimSpace(s))]
}

func wordList(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}

// genericWords say "a group" without naming one.
var genericWords = wordList(`
a an the of and or in on for by to at from with
group groups team teams gang gangs crew crews hackers hacker hacking hack actor actors threat threats
cyber cyberarmy army squad unit units operation operations campaign campaigns apt apts
security sec collective network networks organization organisation clan syndicate cell
temp unc dev tag ta tg unknown anonymous`)

// commonWords are frequent English words and names. A one-word alias that
// is one of them is dropped; a phrase made only of them ("Fancy Bear") is
// matched case-sensitively.
var commonWords = wordList(`
about above across act action active admin after again against age agent agents air all alpha also
always american angel angels animal answer any apple arch area arm armed arms arrow art ash attack
august autumn axe axiom baby back bad ball band bank bar base basic bat battle beach beacon beast
bee bees before begin being bell best beta big bird birds bit black blade blind blood blue board
boat body bomb bone book boss bottle box boy brain brave bread break bridge bright broken brother
brown bug build burn bush business butter buy cabinet cake call calm camel camp can cancer candy
capital captain car card care carbon cardinal case cash castle cat catch cell center
chain chair champion change charge charming check chef chess chief child chimera china choice
circle city clean clear cleaver clever click climb clock close cloud club coast code cold color
comet comment common control cook cool copy core corn corporate cost cotton country cover cozy
crack crash crazy cream credit crimson cross crow crown cry crystal cup cut cutting daily dance
danger dark data date dawn day dead deal death december deep deer delta desert devil diamond digital
direct dirty doctor dog dollar door double dove down dragon dream drift drive drop dry
duck dust eagle early earth east echo edge egg eight electric elephant eleven emerald empire end
enemy energy engine equal equation error evening event evil exchange eye face fact fall false
family famous fancy farm fast father fear february ferret field fight file fin fire first fish
five flag flame flash flat flower fly flying focus fog force forest fork form fortune four fox
free freedom friday friend frog front frost frozen fruit full fun future galaxy game garden gate
general ghost giant gift girl glass global goblin golden good goose gorgon grace grand grass gray
great green grey ground guard guardian guest guide gun hammer hand happy harbor hard harvest hat
hawk head health heart heat heaven hell hello help hero hidden high hill history hit hold hole
home honey hope horse host hot hotel house hunter ice idea image impact india inside insight island
ivory jade january jet job join joker journey judge july jump june jungle jupiter just justice
keeper key kid kill killer king kitty knight lab labs lady lake lamb lamp land large laser last
late launch law lead leaf left legend lemon level liberty life light lightning lime line lion
little live lock lone long lord lost lotus love lucky luna lunar machine magic magnet mail main
major man map march marine mark market mars mask master matrix may medium meet member memory
mercury metal middle midnight mind mine mint mirror miss mist mob model monday money monkey monster
moon morning mother mountain mouse move music name nation natural nature needle net new news night
nine noble north note nothing november number ocean october office oil old olive one open orange
order origin outlaw owl pacific page paint palace paper parrot party pass patchwork path peace
peach pearl pen people pepper phantom phoenix pilot pink pirate place plan planet plant play point
poison polar pool power press pretty prime prince private project public pulse puma pupil purple
puzzle queen quick quiet rabbit race radio rain rainbow rat raven ray reaper red remote rest return
rich right ring river road robin rock rocket rogue roof room rose round royal ruby run rush sage
saint salt sand saturday saturn scan school sea seal season second secret seed sense september
service seven shade shadow shark sharp shell shield ship short shot signal silent silk silver simple
sister six sky sleep slow small smart smoke snake snow soft solar soldier son sound source south
space spark speed spell spring spy square stable star state station steel stone stop stormy
strike strong sugar summer sun sunday sunrise sunset super swan sweet sword system table tail tank
target task tea ten terra test thief thin thunder thursday tick tide time tiny titan today token
tomorrow tool top torch tower town toy trade train tree trick trojan true trust tuesday turtle
twin twins two union united universe up urban user valley vampire velvet venom venus victory view
viking village violet viper virgin virus voice void volcano wall war warrior wasp watch water wave
web wednesday west whale white wicked wild wind window winter wise witch wizard wolf woman wood
word work world worm year yellow young zero zone
spider panda bear kitten chollima tiger leopard jackal buffalo crane wolf taurus ursa
serpens pisces libra scorpius typhoon blizzard sleet sandstorm tempest flood tsunami
iron bronze cobalt nickel tin zinc copper platinum
alibaba amoeba antlion armageddon basin bitter blackjack blackwood bowser butterfly callisto calypso
chameleon chromium cicada combine covenant dogfish dune electrum foxmail foxtrot golem gorilla
hellfire hippo honeybee horde icecap inception indra kairos karst lexus livesafe longhorn machete
mantis mirage monsoon moonlight nitro packrat paladin parasite paste pickaxe pioneer polaris popeye
rancor rattlesnake scarab scimitar silence slingshot springtail strider summit superman templar
trident vermin voyeur watchdog webmasters taskmasters wildcard wraith timmy labubu sportsfans
aluminum aluminium boron calcium chlorine helium hydrogen iodine iridium krypton magnesium oxygen
plutonium radium silicon sodium sulphur sulfur uranium titanium lithium neon argon carbon
`)

// reservedNames are countries, people and companies that some dataset
// lists as a group's alias; as actor names they would misfire on every
// mention of the country or company.
var reservedNames = func() map[string]bool {
	m := map[string]bool{}
	for k, v := range countryNames {
		m[aliasKey(k)] = true
		m[aliasKey(v)] = true
	}
	for _, s := range strings.Split(`microsoft,windows,google,apple,android,linux,office,outlook,chrome,
amazon,facebook,meta,twitter,telegram,whatsapp,github,youtube,instagram,tiktok,adobe,oracle,cisco,
intel,samsung,huawei,zoom,slack,discord,signal,skype,dropbox,paypal,bitcoin,ethereum,crypto,
cobalt strike,metasploit,mimikatz,powershell,teamviewer,anydesk,ngrok,wordpress,java,python,
hamas,hezbollah,israel,palestine,gaza,russian,chinese,iranian,korean,north korean,american,
anonymous,unknown,ransomware,malware,spyware,botnet,phishing`, ",") {
		m[aliasKey(strings.TrimSpace(s))] = true
	}
	return m
}()

// aliasWords splits a phrase into lower-case words the way the matcher
// does (letters and digits; everything else separates).
func aliasWords(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

// aliasKey compares aliases across sources: "APT 28" and "apt 28" are one
// alias, "APT28" another (the matcher sees different words).
func aliasKey(s string) string { return strings.Join(aliasWords(s), " ") }
