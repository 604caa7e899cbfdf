package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/accordwatch/accordwatch"
)

// generator makes deterministic synthetic items shaped like the news the
// service indexes: titles of about 80 characters, texts of 1–2 KB drawn
// from a Zipf-distributed vocabulary of security-news words with a long
// tail of rarer names, and tags in the proportions the classifier
// produces on real feeds (about 40% name a signatory, 30% are
// state-linked).
type generator struct {
	r     *rand.Rand
	end   time.Time
	span  time.Duration
	vocab []string
	zipf  *rand.Zipf
	n     uint64
}

func newGenerator(seed uint64, end time.Time, years int) *generator {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	vocab := append(strings.Fields(commonWords), strings.Fields(newsWords)...)
	// A tail of rare, made-up names (products, hosts, malware families)
	// gives the term dictionary a realistic size.
	syl := strings.Fields("ka lo mi tre vox zen dra pul nex cor fi by ssa tor qui lan mod ret sha vik")
	for i := 0; i < 20000; i++ {
		k := 2 + r.IntN(3)
		var b strings.Builder
		for range k {
			b.WriteString(syl[r.IntN(len(syl))])
		}
		vocab = append(vocab, b.String())
	}
	return &generator{
		r:     r,
		end:   end.UTC(),
		span:  time.Duration(years) * 365 * 24 * time.Hour,
		vocab: vocab,
		zipf:  rand.NewZipf(r, 1.07, 2, uint64(len(vocab)-1)),
	}
}

// published spreads dates over the span with density rising linearly to
// twice the start's at the end: more feeds, more news, in recent months.
func (g *generator) published() time.Time {
	u := g.r.Float64()
	f := -1 + math.Sqrt(1+3*u) // inverse CDF of density ∝ 1+f on [0,1]
	return g.end.Add(-time.Duration((1 - f) * float64(g.span))).Truncate(time.Second)
}

func (g *generator) word() string { return g.vocab[g.zipf.Uint64()] }

// sentence is k words, with a fixed phrase now and then (phrase queries
// need real bigrams) and a tag name when the item has one.
func (g *generator) sentence(k int, names []string) string {
	w := make([]string, 0, k+4)
	for len(w) < k {
		switch x := g.r.IntN(100); {
		case x < 1:
			w = append(w, phrases[g.r.IntN(len(phrases))])
		case x < 3 && len(names) > 0:
			w = append(w, names[g.r.IntN(len(names))])
		default:
			w = append(w, g.word())
		}
	}
	s := strings.Join(w, " ")
	return strings.ToUpper(s[:1]) + s[1:] + "."
}

func pick[T any](r *rand.Rand, vals []T) T { return vals[r.IntN(len(vals))] }

// pickZipf favours the first values of vals.
func pickZipf[T any](r *rand.Rand, vals []T) T {
	i := int(math.Floor(math.Pow(r.Float64(), 2.5) * float64(len(vals))))
	return vals[min(i, len(vals)-1)]
}

// item returns the next item. IDs are hashes, as the store's are, so items
// arrive in no date order.
func (g *generator) item() accordwatch.Item {
	g.n++
	r := g.r
	it := accordwatch.Item{
		ID:       fmt.Sprintf("%016x", mix(g.n)),
		FeedName: pickZipf(r, feeds),
		Fetched:  time.Time{},
	}
	it.Published = g.published()
	it.Fetched = it.Published.Add(time.Duration(r.IntN(3600)) * time.Second)
	it.Link = fmt.Sprintf("https://news.example.com/%d/%s", it.Published.Year(), it.ID)

	var names []string
	t := &it.Tags
	if r.IntN(100) < 40 {
		for range 1 + pickZipf(r, []int{0, 0, 0, 1, 1, 2}) {
			s := pickZipf(r, signatories)
			if !contains(t.Signatories, s) {
				t.Signatories = append(t.Signatories, s)
			}
		}
		names = append(names, t.Signatories...)
	}
	if r.IntN(100) < 15 {
		t.Companies = []string{pick(r, companies)}
		names = append(names, t.Companies...)
	}
	if r.IntN(100) < 30 {
		t.StateLinked = true
		st := pickZipf(r, states)
		t.States = []string{st.name}
		if r.IntN(100) < 70 {
			t.Actors = []string{pickZipf(r, st.actors)}
		}
		names = append(names, t.States...)
		names = append(names, t.Actors...)
	}
	for range 1 + r.IntN(2) {
		a := pickZipf(r, attacks)
		if !contains(t.AttackTypes, a) {
			t.AttackTypes = append(t.AttackTypes, a)
		}
	}
	for range 1 + r.IntN(2) {
		p := pickZipf(r, accordwatch.Principles)
		if !contains(t.Principles, p) {
			t.Principles = append(t.Principles, p)
		}
	}
	t.Severity = 10 + r.IntN(60)
	if t.StateLinked {
		t.Severity += 20 + r.IntN(11)
	}

	// Title: about 80 characters, often led by a tag name.
	var tb strings.Builder
	if len(names) > 0 && r.IntN(2) == 0 {
		tb.WriteString(names[0])
		tb.WriteByte(' ')
	}
	for tb.Len() < 60+r.IntN(40) {
		if r.IntN(10) == 0 {
			tb.WriteString(phrases[r.IntN(len(phrases))])
		} else {
			tb.WriteString(g.word())
		}
		tb.WriteByte(' ')
	}
	title := strings.TrimSpace(tb.String())
	it.Title = strings.ToUpper(title[:1]) + title[1:]

	// Text: 1–2 KB of sentences.
	want := 1000 + r.IntN(1000)
	var b strings.Builder
	for b.Len() < want {
		b.WriteString(g.sentence(8+r.IntN(14), names))
		b.WriteByte(' ')
	}
	it.Text = strings.TrimSpace(b.String())
	return it
}

func contains[T comparable](vals []T, v T) bool {
	for _, x := range vals {
		if x == v {
			return true
		}
	}
	return false
}

// mix is splitmix64: distinct, unordered ids from a counter.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

type state struct {
	name   string
	actors []string
}

var (
	// Ordered most frequent first (pickZipf).
	states = []state{
		{"Russia", []string{"APT28", "APT29", "Sandworm", "Turla", "Gamaredon", "Star Blizzard"}},
		{"China", []string{"Volt Typhoon", "Salt Typhoon", "APT41", "APT40", "Mustang Panda", "Silk Typhoon"}},
		{"North Korea", []string{"Lazarus Group", "Kimsuky", "Andariel", "APT37"}},
		{"Iran", []string{"APT33", "APT35", "MuddyWater", "Peach Sandstorm"}},
	}
	signatories = []string{"Microsoft", "Cisco", "ESET", "Cloudflare", "Google", "Oracle", "HP Inc", "Trend Micro",
		"Check Point", "Avast", "Kaspersky", "Fortinet", "Arm", "Nokia", "Ericsson", "Salesforce", "GitHub",
		"LinkedIn", "Intel", "Dell", "VMware", "Bitdefender", "F-Secure", "Sophos", "Telefonica", "Orange",
		"SAP", "Juniper Networks", "Palo Alto Networks", "Trellix"}
	companies = []string{"Coinbase", "Okta", "Ivanti", "Citrix", "SolarWinds", "MOVEit", "Atlassian", "Zoom",
		"Snowflake", "CrowdStrike", "Change Healthcare", "Ticketmaster", "AT&T", "T-Mobile", "Boeing"}
	attacks = []string{"vulnerability", "ransomware", "phishing", "espionage", "data-breach", "malware", "ddos",
		"supply-chain", "fraud", "wiper", "takedown", "not-an-attack"}
	feeds = []string{"BleepingComputer", "The Record", "SecurityWeek", "The Hacker News", "Dark Reading",
		"CISA", "Krebs on Security", "Help Net Security", "Infosecurity Magazine", "SC Media", "CyberScoop",
		"Microsoft Security Blog", "Google TAG", "ESET WeLiveSecurity", "Cisco Talos", "Unit 42",
		"Mandiant", "Recorded Future", "Europol", "NCSC UK", "ANSSI", "BSI", "Ars Technica", "Wired Security",
		"The Register", "ZDNet Security", "Schneier on Security", "SANS ISC", "Cloudflare Blog", "Check Point Research"}
	phrases = []string{"supply chain", "remote code execution", "critical infrastructure", "zero day",
		"threat actor", "command and control", "proof of concept", "privilege escalation", "denial of service",
		"security update", "law enforcement", "initial access", "data leak site", "multi-factor authentication"}
)

// commonWords are English function and common words (ranked first, so
// the Zipf draw makes them the most frequent, as in real text).
const commonWords = `the of and to in a is that for on with as by was said it from at be this are an
has have were its which their or not been but also after more new than other who they into had about
would could may can will one two three all some over week month year report company companies
according researchers people users customers team systems system data attack attacks security`

// newsWords are the security-news vocabulary, roughly by frequency.
const newsWords = `vulnerability vulnerabilities ransomware malware phishing hackers hacker breach exploit
exploited patch patched flaw flaws campaign group cyber cybersecurity threat threats actors network
networks server servers government agency agencies software access attackers attacker credentials
password passwords email emails account accounts cloud update updates critical infrastructure
espionage intelligence state sponsored nation military officials federal department ministry police
arrested charged sanctions indictment investigation incident incidents response disclosed disclosure
advisory warning warned warns targeted targeting targets victims victim stolen theft leak leaked
leaks exposed exposure backdoor trojan botnet wiper spyware loader infostealer stealer rootkit
firmware router routers firewall vpn endpoint browser chrome windows linux android ios apple
microsoft google amazon open source package packages library repository npm pypi github developer
developers code execution remote privilege escalation bypass authentication injection memory buffer
overflow denial service ddos traffic domain domains dns certificate encryption encrypted decryptor
key keys token tokens session cookie cookies identity mfa bank banks banking financial crypto
cryptocurrency exchange wallet funds million billion dollars payment fraud scam scams scammers
hospital hospitals health healthcare patients school schools university education energy power grid
water utility utilities telecom telecommunications provider providers carrier manufacturing retail
airline airport transport logistics shipping port defense contractor election elections voters
campaigns disinformation influence operation operations takedown seized seizure dismantled europol
fbi cisa nsa ncsc interpol court judge prison sentenced extradited suspect suspects forum forums
marketplace dark web telegram channel affiliate affiliates negotiation ransom demand paid payment
backup backups recovery outage outages disruption disrupted downtime restored impact impacted affected
million records personal information social security numbers addresses phone numbers medical
insurance claims lawsuit settlement fine regulator regulators gdpr compliance privacy policy
law legislation bill congress senate parliament minister president administration white house
executive order strategy framework guidance recommendations best practices mitigation mitigations
detection detected detect hunting indicators compromise iocs signatures rules yara sigma telemetry
sensor sensors logs logging monitoring analysts analyst analysis researcher research lab labs
blog post whitepaper conference talk presentation demo proof concept poc cve cves zero day zeroday
exploit kit kits initial access brokers broker lateral movement persistence exfiltration
command control c2 infrastructure hosting bulletproof proxy proxies residential tor onion anonymity
attribution attributed linked tied overlap overlaps cluster tracked tracks dubbed named known
previously undocumented novel sophisticated custom tooling tools tool framework frameworks
cobalt strike sliver metasploit mimikatz powershell script scripts macro macros document documents
attachment attachments lure lures themed job offers recruitment fake installer installers update
signed signing certificate stolen abused abuse legitimate service services platform platforms
api apis integration third party vendor vendors supplier suppliers customer managed msp msps
sector sectors industry industries organizations organization enterprise enterprises small
businesses business worldwide global europe european asia asian america american ukraine ukrainian
russia russian china chinese korea korean iran iranian israel israeli taiwan japan india germany
france britain uk us united states canada australia poland baltic nato eu union`
