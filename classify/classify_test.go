package classify

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/accordwatch/accordwatch"
)

// TestAmbiguousNames covers each dictionary trap: the company is tagged in
// company contexts and not in the look-alike.
func TestAmbiguousNames(t *testing.T) {
	c := newTestClassifier(t)
	tests := []struct {
		name  string
		text  string
		field string // "signatory" or "company"
		value string
		want  bool
	}{
		{"Arm company", "Google's Android Red Team partnered with Arm to analyse the Mali GPU.", "signatory", "Arm", true},
		{"ARM caps", "ARM Holdings shares rose after the patch.", "signatory", "Arm", true},
		{"arm lower-case division", "Sales at its fashion arm fell 3%.", "signatory", "Arm", false},
		{"banking Arm in a headline", "Hackers Hit Postal Service and Its Banking Arm", "signatory", "Arm", false},
		{"firearm", "Police seized a firearm and laptops.", "signatory", "Arm", false},
		{"armed", "Attackers armed with stolen keys.", "signatory", "Arm", false},
		{"Oracle company", "Oracle released an emergency security alert for Identity Manager.", "signatory", "Oracle", true},
		{"blockchain oracle", "Futures are powered by decentralized oracle infrastructure.", "signatory", "Oracle", false},
		{"capitalised blockchain Oracle", "An attacker manipulated the price Oracle of the protocol.", "signatory", "Oracle", false},
		{"oracle lower-case", "She consulted the oracle about the breach.", "signatory", "Oracle", false},
		{"Dell company", "Dell patched a flaw in PowerEdge servers.", "signatory", "Dell", true},
		{"Dell Technologies", "Dell Technologies warns of data theft.", "signatory", "Dell", true},
		{"dell lower-case", "He lived in a wooded dell near the farm.", "signatory", "Dell", false},
		{"O'Dell surname", "Analyst Kate O'Dell said the campaign continues.", "signatory", "Dell", false},
		{"RSA company", "RSA warned SecurID customers about phishing.", "signatory", "RSA", true},
		{"RSA Conference", "Vendors showed AI agents at the RSA Conference this week.", "signatory", "RSA", false},
		{"RSAC", "Announced at RSAC 2025 in San Francisco.", "signatory", "RSA", false},
		{"RSA encryption", "Quantum computers could break RSA encryption.", "signatory", "RSA", false},
		{"RSA key", "The malware uses an RSA key to lock files.", "signatory", "RSA", false},
		{"RSA-2048", "Files are encrypted with RSA-2048.", "signatory", "RSA", false},
		{"SAP company", "Critical SAP Vulnerability Exposes Enterprises", "signatory", "SAP", true},
		{"sap lower-case", "The attack will sap morale at the agency.", "signatory", "SAP", false},
		{"BT company", "BT said customer data was not affected.", "signatory", "BT", true},
		{"BTC", "Attackers demanded 5 BTC in ransom.", "signatory", "BT", false},
		{"bt lower-case", "the bt handshake failed", "signatory", "BT", false},
		{"Stripe company", "Stripe blocked fraudulent payments from the botnet.", "signatory", "Stripe", true},
		{"stripe lower-case", "The logo has a red stripe.", "signatory", "Stripe", false},
		{"Nokia company", "Nokia patched its routers.", "signatory", "Nokia", true},
		{"Nokia Arena", "The concert at Nokia Arena was cancelled.", "signatory", "Nokia", false},
		{"Apple company", "Apple patched two zero-days in iOS.", "company", "Apple", true},
		{"apple fruit", "An apple a day keeps the doctor away.", "company", "Apple", false},
		{"Apple Daily newspaper", "Hong Kong's Apple Daily was raided.", "company", "Apple", false},
		{"Big Apple", "Ransomware hit a hospital in the Big Apple.", "company", "Apple", false},
		{"Amazon company", "Amazon said AWS customers were not affected.", "company", "Amazon", true},
		{"AWS", "Attackers abused AWS keys.", "company", "Amazon", true},
		{"Amazon river", "Satellite links along the Amazon River were jammed.", "company", "Amazon", false},
		{"Amazon rainforest", "Illegal mining in the Brazilian Amazon continues.", "company", "Amazon", false},
		{"Meta company", "Meta disclosed a WhatsApp flaw.", "signatory", "Facebook", true},
		{"Meta Platforms", "the Meta Platforms-owned service said it had patched", "signatory", "Facebook", true},
		{"Ray-Ban Meta", "Cruise firm bans Ray-Ban Meta smart glasses.", "signatory", "Facebook", true},
		{"metadata", "The metadata of the files was stripped.", "signatory", "Facebook", false},
		{"meta-analysis", "A meta-analysis of breach costs.", "signatory", "Facebook", false},
		{"Meta-analysis capitalised", "Meta-analysis shows phishing works.", "signatory", "Facebook", false},
		{"meta lower-case", "a meta discussion about bugs", "signatory", "Facebook", false},
		{"Intuit company", "Intuit warned TurboTax users of phishing.", "signatory", "Intuit", true},
		{"intuitive", "An intuitive restoration process.", "signatory", "Intuit", false},
		{"HP", "HP patched printer firmware.", "signatory", "HP Inc.", true},
		{"HP Enterprise is HPE", "HP Enterprise disclosed a breach.", "signatory", "HPE", true},
		{"HP Enterprise is not HP Inc.", "HP Enterprise disclosed a breach.", "signatory", "HP Inc.", false},
		{"Hewlett Packard Enterprise", "Hewlett Packard Enterprise patched Aruba.", "signatory", "HPE", true},
		{"Hewlett-Packard", "Hewlett-Packard printers were hijacked.", "signatory", "HP Inc.", true},
		{"Mandiant is FireEye", "According to Mandiant, ransomware grew.", "signatory", "FireEye", true},
		{"Trend Research is Trend Micro", "Trend™ Research examines China-aligned APT groups.", "signatory", "Trend Micro", true},
		{"Trend alone", "The trend continues across sectors.", "signatory", "Trend Micro", false},
		{"Cisco Systems", "Cisco Systems fixed ISE.", "signatory", "Cisco", true},
		{"Palo Alto city", "PALO ALTO, Calif.--Permiso released a report.", "company", "Palo Alto Networks", false},
		{"Palo Alto Networks", "Palo Alto Networks Inc. was affected.", "company", "Palo Alto Networks", true},
		{"Telefónica accent", "A hacker claims to have breached Telefónica.", "signatory", "Telefonica", true},
		// The publisher is not a subject: feed trailers and title suffixes.
		{"feed trailer", "Hackers hit a retailer. The post Retail breach appeared first on Microsoft Security Blog.", "signatory", "Microsoft", false},
		{"named besides the trailer", "Microsoft patched it. The post Patch Tuesday appeared first on Microsoft Security Blog.", "signatory", "Microsoft", true},
		// An acronym the item defines as something else is not the company.
		{"ARM defined as Azure Resource Manager", "Attackers abused Azure Resource Manager (ARM) templates; ARM deployments were hit.", "signatory", "Arm", false},
		{"HPE defined as itself", "Hewlett Packard Enterprise (HPE) patched Aruba.", "signatory", "HPE", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tags := c.Classify("", tt.text, time.Time{})
			list := tags.Signatories
			if tt.field == "company" {
				list = tags.Companies
			}
			if got := slices.Contains(list, tt.value); got != tt.want {
				t.Errorf("%s %q in %q: got %v, want %v (signatories %v, companies %v)", tt.field, tt.value, tt.text, got, tt.want, tags.Signatories, tags.Companies)
			}
			checkEvidence(t, "", tt.text, tags)
		})
	}
}

func TestAttribution(t *testing.T) {
	c := newTestClassifier(t)
	tests := []struct {
		name         string
		title, text  string
		wantLinked   bool
		wantStates   []string
		wantStrength string // of the first attribution, when linked
		wantBy       string
		wantActors   []string
	}{
		{name: "explicit with country", text: "Chinese state-sponsored hackers breached a telecom.", wantLinked: true, wantStates: []string{"China"}, wantStrength: "attributed"},
		{name: "explicit without country", text: "State-aligned hackers wielding AI made headlines.", wantLinked: true, wantStates: []string{}, wantStrength: "attributed"},
		{name: "country-linked", title: "China-Linked Hacking Group Targets European Diplomats", wantLinked: true, wantStates: []string{"China"}, wantStrength: "linked"},
		{name: "linked to agency", text: "The intrusions were linked to Russia's GRU.", wantLinked: true, wantStates: []string{"Russia"}},
		{name: "agency alone", text: "Unit 26165 of the GRU ran the phishing campaign.", wantLinked: true, wantStates: []string{"Russia"}, wantStrength: "attributed"},
		{name: "Ministry of State Security", text: "Prosecutors said the Ministry of State Security directed the hackers.", wantLinked: true, wantStates: []string{"China"}},
		{name: "RGB", text: "The Reconnaissance General Bureau runs the units.", wantLinked: true, wantStates: []string{"North Korea"}},
		{name: "demonym APT", text: "Researchers found a new Iranian APT targeting airlines.", wantLinked: true, wantStates: []string{"Iran"}},
		{name: "capital hackers", text: "Experts say Kremlin hackers were behind it.", wantLinked: true, wantStates: []string{"Russia"}},
		{name: "capital-backed", text: "APT37, a Pyongyang-backed group, was blamed.", wantLinked: true, wantStates: []string{"North Korea"}, wantActors: []string{"APT37"}},
		{name: "suspected", title: "Russia suspected of hacking European ferry", wantLinked: true, wantStates: []string{"Russia"}, wantStrength: "suspected"},
		{name: "blamed with accuser", title: "Denmark Blames Russia for Destructive Cyber-Attacks", wantLinked: true, wantStates: []string{"Russia"}, wantStrength: "suspected", wantBy: "Denmark"},
		{name: "by according to", text: "According to Mandiant, the Chinese espionage group exploited the flaw.", wantLinked: true, wantStates: []string{"China"}, wantBy: "FireEye"},
		{name: "by said", text: "Microsoft said Russian state hackers read executive email.", wantLinked: true, wantStates: []string{"Russia"}, wantBy: "Microsoft"},
		{name: "actor on record", text: "MuddyWater targets critical infrastructure in Israel and Egypt.", wantLinked: true, wantStates: []string{"Iran"}, wantStrength: "attributed", wantActors: []string{"MuddyWater"}},
		{name: "actor alias resolves", text: "Fancy Bear and Cozy Bear were both active.", wantLinked: true, wantStates: []string{"Russia"}, wantActors: []string{"APT28", "APT29"}},
		{name: "Typhoon family not in the list", text: "Microsoft tracks the group as Glacier Typhoon.", wantLinked: true, wantStates: []string{"China"}, wantActors: []string{"Glacier Typhoon"}},
		{name: "Sandstorm family", text: "Obsidian Sandstorm sent lures to journalists.", wantLinked: true, wantStates: []string{"Iran"}, wantActors: []string{"Obsidian Sandstorm"}},
		{name: "weather typhoon", text: "Super Typhoon Haiyan knocked out the grid; a typhoon also hit Taiwan.", wantLinked: false},
		{name: "Storm cluster has no country", text: "Microsoft tracks the actor as Storm-2603.", wantLinked: false, wantActors: []string{"Storm-2603"}},
		{name: "criminal group has no country", text: "LockBit and Scattered Spider hit retailers.", wantLinked: false, wantActors: []string{"LockBit", "Scattered Spider"}},
		{name: "victim country", text: "A wave of DDoS attacks on Ukraine and Taiwan continued.", wantLinked: false},
		{name: "targeting Russian victims", text: "The malware is targeting Russian organizations.", wantLinked: false},
		{name: "criminal nationality", title: "Notorious Russian cybercriminals return with new ransomware", wantLinked: false},
		{name: "language is not a state", text: "A Russian-speaking threat actor runs the Kraken operation.", wantLinked: false},
		{name: "nationality ransomware gang", text: "A Russian ransomware gang leaked the data.", wantLinked: false},
		{name: "pro-Russian hacktivists", text: "Pro-Russian hacktivists Noname057(16) claimed the DDoS attack.", wantLinked: false, wantActors: []string{"NoName057(16)"}},
		{name: "pro-Russian tied to Kremlin", text: "Danish intelligence believes pro-Russian hacktivist groups have links with the Kremlin.", wantLinked: true, wantStates: []string{"Russia"}, wantStrength: "linked", wantBy: "Denmark"},
		{name: "arrested individual", text: "Poland arrests Russian suspected of hacking Polish companies. A Russian citizen was detained.", wantLinked: false},
		{name: "China-based criminals", text: "Google sues China-based hacking group behind the Smishing Triad scam.", wantLinked: false},
		{name: "undetermined", title: "Minister cannot say if cyber attack on Jaguar Land Rover was state-sponsored", wantLinked: false},
		{name: "generic nation-state risk", text: "The persistent risk of nation-state actors demands attention.", wantLinked: false},
		{name: "leaked state group is the victim", title: "Kimsuky APT Hackers Exposed in Alleged Breach", text: "Kimsuky data breach reports reveal details about the North Korean APT group.", wantLinked: false, wantActors: []string{"Kimsuky"}},
		{name: "country as actor", title: "North Korea Steals Over $2bn in Crypto in 2025", wantLinked: true, wantStates: []string{"North Korea"}},
		{name: "possessive", text: "China's Ink Dragon hides in government networks.", wantLinked: true, wantStates: []string{"China"}},
		// A state denying or denouncing an accusation reports the accusation.
		{name: "denial reports the accusation", text: "China denies hacking the Czech foreign ministry.", wantLinked: true, wantStates: []string{"China"}, wantStrength: "suspected"},
		{name: "denounced theory", text: "North Korea has denounced the cyber threat theory of the United States.", wantLinked: true, wantStates: []string{"North Korea"}, wantStrength: "suspected"},
		{name: "company denial is no state", text: "Microsoft denied that its cloud was breached.", wantLinked: false},
		{name: "suspected individual", text: "Thai police arrested a suspected Russian hacker wanted by the FBI.", wantLinked: false},
		{name: "connected oligarch", text: "The essay mill has ties to a Kremlin-connected oligarch.", wantLinked: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tags := c.Classify(tt.title, tt.text, time.Time{})
			if tags.StateLinked != tt.wantLinked {
				t.Fatalf("state_linked: got %v, want %v (states %v, evidence %+v)", tags.StateLinked, tt.wantLinked, tags.States, tags.Evidence)
			}
			if tt.wantStates != nil && !slices.Equal(tags.States, tt.wantStates) {
				t.Errorf("states: got %v, want %v", tags.States, tt.wantStates)
			}
			if !tt.wantLinked && len(tags.States) != 0 {
				t.Errorf("states: got %v, want none", tags.States)
			}
			if tt.wantStrength != "" && tags.Attribution[0].Strength != tt.wantStrength {
				t.Errorf("strength: got %q, want %q (%+v)", tags.Attribution[0].Strength, tt.wantStrength, tags.Attribution)
			}
			if tt.wantBy != "" && tags.Attribution[0].By != tt.wantBy {
				t.Errorf("by: got %q, want %q", tags.Attribution[0].By, tt.wantBy)
			}
			if tt.wantActors != nil && !slices.Equal(tags.Actors, tt.wantActors) {
				t.Errorf("actors: got %v, want %v", tags.Actors, tt.wantActors)
			}
			if tt.wantLinked && !slices.Contains(tags.Principles, accordwatch.NoOffense) {
				t.Errorf("principles: got %v, want no-offense on a state-linked item", tags.Principles)
			}
			checkEvidence(t, tt.title, tt.text, tags)
		})
	}
}

func TestJoinDate(t *testing.T) {
	c := newTestClassifier(t)
	text := "Microsoft patched a zero-day."
	tests := []struct {
		name      string
		published time.Time
		want      bool
	}{
		{"zero time counts", time.Time{}, true},
		{"after joining", time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), true},
		{"join day", time.Date(2018, 4, 17, 0, 0, 0, 0, time.UTC), true},
		{"before joining", time.Date(2017, 6, 1, 0, 0, 0, 0, time.UTC), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := slices.Contains(c.Classify("", text, tt.published).Signatories, "Microsoft")
			if got != tt.want {
				t.Errorf("Microsoft on %v: got %v, want %v", tt.published, got, tt.want)
			}
		})
	}
}

func TestAttackTypesPrinciplesSeverity(t *testing.T) {
	c := newTestClassifier(t)
	tests := []struct {
		name        string
		title, text string
		wantPrimary string
		wantP       []accordwatch.Principle
		minSev      int
		maxSev      int
	}{
		{"ransomware on signatory", "Ransomware gang hits Cisco", "Cisco customers' data was stolen in the ransomware attack.", "ransomware", []accordwatch.Principle{accordwatch.StrongerDefense}, 30, 100},
		{"state zero-day on vendor", "Chinese state hackers exploit Cisco zero-day", "Cisco said the actively exploited flaw affects its firewalls at hundreds of telecom customers.", "vulnerability", []accordwatch.Principle{accordwatch.StrongerDefense, accordwatch.NoOffense}, 80, 100},
		{"joint takedown", "Europol and FBI dismantle botnet in joint operation", "Police arrested four suspects.", "takedown", []accordwatch.Principle{accordwatch.CollectiveAction}, 0, 40},
		{"funding round", "Gambit Cyber raises $3.4M seed round", "The funding was led by Expeditions.", "not-an-attack", []accordwatch.Principle{}, 0, 0},
		{"advisory", "CISA urges patch of actively exploited flaw in Oracle Identity Manager", "The agency added the flaw to its Known Exploited Vulnerabilities list.", "vulnerability", []accordwatch.Principle{accordwatch.StrongerDefense, accordwatch.CapacityBuilding}, 30, 100},
		{"not an attack outage", "Cloudflare outage was not caused by a cyber attack", "A configuration error broke bot management.", "not-an-attack", []accordwatch.Principle{}, 0, 0},
		// State-linked activity framed as a report, or left untyped, is espionage.
		{"state-linked report is espionage", "North Korea-backed hackers launch cyber attack using computer files", "The group embedded malicious code in documents, a report showed on Monday.", "espionage", []accordwatch.Principle{accordwatch.NoOffense}, 30, 100},
		{"state-linked headline type wins", "Zero-day in Acme VPN exploited in Chinese hacking campaign", "A report says the campaign hit telecom customers.", "vulnerability", []accordwatch.Principle{accordwatch.StrongerDefense, accordwatch.NoOffense}, 30, 100},
		{"unattributed warning stays policy", "Agency warns of rising cyber threat", "The report describes trends.", "policy", []accordwatch.Principle{accordwatch.CapacityBuilding}, 0, 100},
		// Research words count only from a named source or in the headline.
		{"passing researchers", "Hackers steal data from Acme retailer", "Researchers say the data breach exposed customer records.", "data-breach", []accordwatch.Principle{accordwatch.StrongerDefense}, 0, 100},
		{"research headline", "Identity is the top threat vector, Permiso Research finds", "Attackers use stolen credentials.", "policy", []accordwatch.Principle{accordwatch.CapacityBuilding}, 0, 100},
		// Public bodies as the only victims are not stronger-defense.
		{"public victim", "Hackers breach city council network", "The council said resident records were stolen in the breach.", "data-breach", []accordwatch.Principle{}, 0, 100},
		{"private victim", "Hackers breach retailer network", "The company said customer records were stolen in the breach.", "data-breach", []accordwatch.Principle{accordwatch.StrongerDefense}, 0, 100},
		{"severity capped", "Russian state hackers deploy wiper on Microsoft customers' power grid", "Microsoft said the actively exploited flaw hit millions of users at energy utilities.", "wiper", []accordwatch.Principle{accordwatch.StrongerDefense, accordwatch.NoOffense}, 100, 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tags := c.Classify(tt.title, tt.text, time.Time{})
			if got := tags.AttackTypes[0]; got != tt.wantPrimary {
				t.Errorf("primary attack type: got %q, want %q (all %v)", got, tt.wantPrimary, tags.AttackTypes)
			}
			if !slices.Equal(tags.Principles, tt.wantP) {
				t.Errorf("principles: got %v, want %v", tags.Principles, tt.wantP)
			}
			if tags.Severity < tt.minSev || tags.Severity > tt.maxSev {
				t.Errorf("severity: got %d, want %d..%d", tags.Severity, tt.minSev, tt.maxSev)
			}
			checkEvidence(t, tt.title, tt.text, tags)
		})
	}
}

func TestRoles(t *testing.T) {
	c := newTestClassifier(t)
	tests := []struct {
		name, text, sig, want string
	}{
		{"vendor", "Oracle released a patch for a critical vulnerability in Identity Manager.", "Oracle", "vendor"},
		{"victim", "Tenable confirmed a data breach exposing customer contact details.", "Tenable", "victim"},
		{"reporter", "According to Symantec researchers, the Osiris group is new.", "Symantec", "reporter"},
		{"responder", "Microsoft disrupted the Lumma infrastructure with partners.", "Microsoft", "responder"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tags := c.Classify("", tt.text, time.Time{})
			if got := tags.Roles[tt.sig]; got != tt.want {
				t.Errorf("role of %s: got %q, want %q", tt.sig, got, tt.want)
			}
		})
	}
}

func TestResolve(t *testing.T) {
	c := newTestClassifier(t)
	tests := []struct {
		field, value, want string
		ok                 bool
	}{
		{"actor", "fancy bear", "APT28", true},
		{"actor", "Forest Blizzard", "APT28", true},
		{"actor", "hidden cobra", "Lazarus Group", true},
		{"actor", "Glacier Typhoon", "Glacier Typhoon", true},
		{"state", "dprk", "North Korea", true},
		{"state", "russian federation", "Russia", true},
		{"state", "PRC", "China", true},
		{"signatory", "meta", "Facebook", true},
		{"signatory", "Hewlett Packard Enterprise", "HPE", true},
		{"signatory", "HP Inc", "HP Inc.", true},
		{"signatory", "mandiant", "FireEye", true},
		{"company", "aws", "Amazon", true},
		{"attack", "Wiper/Destructive", "wiper", true},
		{"attack", "ransomware", "ransomware", true},
		{"principle", "No Offense", "no-offense", true},
		{"actor", "nobody at all", "", false},
		{"signatory", "Google", "", false},
		{"weather", "typhoon", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.field+"/"+tt.value, func(t *testing.T) {
			got, ok := c.Resolve(tt.field, tt.value)
			if got != tt.want || ok != tt.ok {
				t.Errorf("Resolve(%q, %q): got (%q, %v), want (%q, %v)", tt.field, tt.value, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestExtraDictionaries(t *testing.T) {
	dir := t.TempDir()
	jsonPath := filepath.Join(dir, "extra.json")
	yamlPath := filepath.Join(dir, "extra.yaml")
	writeFile(t, jsonPath, `{"companies": [{"name": "Acme Security", "match": ["Acme Security", "AcmeSec"]}]}`)
	// Overrides the embedded Nokia entry: now case-sensitive, and adds an actor.
	writeFile(t, yamlPath, "signatories:\n  - name: Nokia\n    joined: \"2018-04-17\"\n    case_sensitive: [Nokia]\nactors:\n  - name: Paper Werewolf\n    country: Russia\n    match: [Paper Werewolf, GOFFEE]\n")
	c, err := New(Options{ExtraDictionaries: []string{jsonPath, yamlPath}})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	tags := c.Classify("AcmeSec says GOFFEE targeted Nokia", "nokia phones were not affected", time.Time{})
	if !slices.Contains(tags.Companies, "Acme Security") {
		t.Errorf("companies: got %v, want Acme Security", tags.Companies)
	}
	if !slices.Equal(tags.Actors, []string{"Paper Werewolf"}) || !slices.Equal(tags.States, []string{"Russia"}) {
		t.Errorf("actors/states: got %v/%v, want [Paper Werewolf]/[Russia]", tags.Actors, tags.States)
	}
	n := 0
	for _, e := range tags.Evidence {
		if e.Tag == "signatory:Nokia" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("Nokia evidence entries: got %d, want 1 (only the capitalised title mention)", n)
	}
	if got, ok := c.Resolve("actor", "goffee"); !ok || got != "Paper Werewolf" {
		t.Errorf("Resolve(actor, goffee): got %q, %v", got, ok)
	}

	bad := filepath.Join(dir, "bad.json")
	writeFile(t, bad, `{"signatories": [{"name": "X", "aliases": ["x"]}]}`)
	if _, err := New(Options{ExtraDictionaries: []string{bad}}); err == nil || !strings.Contains(err.Error(), "bad.json") {
		t.Errorf("unknown field: got error %v, want one naming bad.json", err)
	}
	if _, err := New(Options{ExtraDictionaries: []string{filepath.Join(dir, "missing.yaml")}}); err == nil {
		t.Error("missing file: got nil error")
	}
	badAttack := filepath.Join(dir, "attack.yml")
	writeFile(t, badAttack, "attacks:\n  - name: cyberwar\n    match: [cyberwar]\n")
	if _, err := New(Options{ExtraDictionaries: []string{badAttack}}); err == nil || !strings.Contains(err.Error(), "cyberwar") {
		t.Errorf("unknown attack type: got error %v", err)
	}
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestEmptyTagsEncodeAsArrays: callers JSON-encode Tags; empty lists must
// be [] rather than null.
func TestEmptyTagsEncodeAsArrays(t *testing.T) {
	c := newTestClassifier(t)
	b, err := json.Marshal(c.Classify("", "", time.Time{}))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, key := range []string{"signatories", "companies", "states", "actors", "attack_types", "principles", "evidence"} {
		if !strings.Contains(s, `"`+key+`":[`) {
			t.Errorf("%s: got %s, want an array", key, s)
		}
	}
}

// TestEveryTagHasEvidence checks the contract on the dev set (when present)
// and a few fixed items.
func TestEveryTagHasEvidence(t *testing.T) {
	c := newTestClassifier(t)
	items := []evalItem{
		{Title: "Chinese state hackers exploit Cisco zero-day", Text: "Microsoft said Salt Typhoon hit AWS customers."},
		{ID: "capped", Title: "Russian state hackers deploy wiper on Microsoft customers' power grid", Text: "Microsoft said the actively exploited flaw hit millions of users at energy utilities."},
	}
	if _, err := os.Stat(devSet); err == nil {
		items = append(items, loadDev(t)...)
	}
	for _, it := range items {
		tags := c.Classify(it.Title, it.Text, time.Time{})
		have := map[string]bool{}
		for _, e := range tags.Evidence {
			have[e.Tag] = true
		}
		var want []string
		for _, s := range tags.Signatories {
			want = append(want, "signatory:"+s, "role:"+s+":"+tags.Roles[s])
		}
		for _, s := range tags.Companies {
			want = append(want, "company:"+s)
		}
		for _, s := range tags.States {
			want = append(want, "state:"+s)
		}
		for _, s := range tags.Actors {
			want = append(want, "actor:"+s)
		}
		for _, s := range tags.AttackTypes {
			want = append(want, "attack:"+s)
		}
		for _, p := range tags.Principles {
			want = append(want, "principle:"+string(p))
		}
		if tags.StateLinked {
			want = append(want, "state_linked:true")
		}
		for _, w := range want {
			if !have[w] {
				t.Errorf("%s %q: tag %s has no evidence", it.ID, it.Title, w)
			}
		}
		sev := 0
		for _, e := range tags.Evidence {
			if n, ok := strings.CutPrefix(e.Tag, "severity:"); ok {
				v, err := strconv.Atoi(n)
				if err != nil {
					t.Errorf("%s: severity evidence %q is not a signed number", it.ID, e.Tag)
				}
				if e.Rule == "" {
					t.Errorf("%s: severity evidence %q names no factor", it.ID, e.Tag)
				}
				sev += v
			}
		}
		if sev != tags.Severity {
			t.Errorf("%s: severity %d, but its evidence adds up to %d", it.ID, tags.Severity, sev)
		}
		checkEvidence(t, it.Title, it.Text, tags)
	}
}

// checkEvidence asserts that every evidence entry points at its text.
func checkEvidence(t testing.TB, title, text string, tags accordwatch.Tags) {
	t.Helper()
	for _, e := range tags.Evidence {
		var src string
		switch e.Field {
		case "title":
			src = title
		case "text":
			src = text
		case "tags":
			if e.Offset != -1 {
				t.Errorf("evidence %+v: derived evidence offset got %d, want -1", e, e.Offset)
			}
			continue
		default:
			t.Errorf("evidence %+v: unknown field", e)
			continue
		}
		if e.Offset < 0 || e.Offset+len(e.Match) > len(src) || src[e.Offset:e.Offset+len(e.Match)] != e.Match || e.Match == "" {
			t.Errorf("evidence %+v does not match %s text", e, e.Field)
		}
		if e.Rule == "" || !strings.Contains(e.Tag, ":") {
			t.Errorf("evidence %+v: want a kind:value tag and a rule", e)
		}
	}
}

func FuzzClassify(f *testing.F) {
	c, err := New(Options{})
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{
		"Chinese state-sponsored hackers exploit Cisco zero-day",
		"Meta-analysis: Arm, ARM, arm; RSA-2048; U. S. N. Korea-linked Lazarus Group",
		"Storm-0558 Storm 1849 UNC6384 UAT-9686 Glacier Typhoon",
		"Telefónica Türkiye \xff\xfe broken utf8 ’quotes’",
		"HACKERS HIT BANKING ARM OF SAP AND BT",
		"<p>Oracle&nbsp;patched &lt;script&gt;</p> Azure Resource Manager (ARM)",
		"Russian state hackers deploy wiper on Microsoft customers' power grid, actively exploited, millions of users",
		"",
	} {
		f.Add(s, s)
	}
	f.Fuzz(func(t *testing.T, title, text string) {
		tags := c.Classify(title, text, time.Time{})
		if tags.Severity < 0 || tags.Severity > 100 {
			t.Errorf("severity %d out of range", tags.Severity)
		}
		if len(tags.AttackTypes) == 0 {
			t.Error("no attack type")
		}
		checkEvidence(t, title, text, tags)
		sev := 0
		for _, e := range tags.Evidence {
			if n, ok := strings.CutPrefix(e.Tag, "severity:"); ok {
				v, err := strconv.Atoi(n)
				if err != nil {
					t.Fatalf("severity evidence %q", e.Tag)
				}
				sev += v
			}
		}
		if sev != tags.Severity {
			t.Errorf("severity %d, but its factors sum to %d", tags.Severity, sev)
		}
	})
}

// BenchmarkClassify measures Classify on 5 KB items; run it with -cpu 1.
// "dense" is a synthetic worst case (an entity, cue or attack keyword on
// almost every other word); "news" are 5 KB items made of consecutive real
// articles from the dev set (or the dense text when the set is absent).
func BenchmarkClassify(b *testing.B) {
	c, err := New(Options{})
	if err != nil {
		b.Fatal(err)
	}
	para := "Microsoft Threat Intelligence said Chinese state-sponsored hackers tracked as Salt Typhoon exploited a zero-day vulnerability in Cisco IOS XE devices at telecom providers, according to CISA. " +
		"The Russia-linked group APT28 also targeted Oracle customers in a phishing campaign, while the LockBit ransomware gang leaked data from a hospital. " +
		"Google and Amazon Web Services said their users were not affected; Meta patched WhatsApp and the RSA Conference went ahead. "
	dense := strings.Repeat(para, 5000/len(para)+1)[:5000]
	title := "Chinese hackers exploit Cisco zero-day in global espionage campaign"
	news := newsItems(b, 5000)
	if len(news) == 0 {
		news = []string{dense}
	}
	for _, bc := range []struct {
		name  string
		texts []string
	}{{"dense", []string{dense}}, {"news", news}} {
		b.Run(bc.name, func(b *testing.B) {
			n := 0
			for _, t := range bc.texts {
				n += len(t) + len(title)
			}
			b.SetBytes(int64(n / len(bc.texts)))
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				c.Classify(title, bc.texts[i%len(bc.texts)], time.Time{})
				i++
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "items/s")
		})
	}
}

// newsItems joins consecutive dev-set articles (title and text) into
// items of about size bytes each.
func newsItems(t testing.TB, size int) []string {
	t.Helper()
	data, err := os.ReadFile(devSet)
	if err != nil {
		return nil
	}
	var out []string
	var sb strings.Builder
	for _, line := range strings.Split(string(data), "\n") {
		var it evalItem
		if json.Unmarshal([]byte(line), &it) != nil {
			continue
		}
		sb.WriteString(it.Title + ". " + it.Text + "\n")
		if sb.Len() >= size {
			out = append(out, sb.String()[:size])
			sb.Reset()
		}
	}
	return out
}

func TestClusterShapes(t *testing.T) {
	c, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		text string
		want []string
	}{
		{"Proofpoint tracks the activity as TA4557.", []string{"TA4557"}},
		{"Mapped to MITRE ATT&CK tactics TA0001 and TA0043 (Initial Access, Reconnaissance).", nil},
		{"Mandiant attributes it to UNC6384; Microsoft calls it Storm-1849.", []string{"Storm-1849", "UNC6384"}},
	}
	for _, tt := range tests {
		got := c.Classify("", tt.text, time.Time{}).Actors
		if strings.Join(got, ",") != strings.Join(tt.want, ",") {
			t.Errorf("%q: got actors %q, want %q", tt.text, got, tt.want)
		}
	}
}

// TestDictionaryErrors: a malformed entry in a user dictionary is reported
// with the file, the line and the reason.
func TestDictionaryErrors(t *testing.T) {
	tests := []struct {
		name, file, data, want string
	}{
		{"yaml unknown field", "extra.yaml",
			"actors:\n  - name: A\n    match: [A]\n  - name: B\n    match: [B]\n  - name: C\n    match: [C]\n  - name: D\n    contry: Russia\n    match: [D]\n",
			`extra.yaml:9: actors[3]: unknown field "contry"`},
		{"yaml missing name", "extra.yaml",
			"companies:\n  - name: Acme\n    match: [Acme]\n  - match: [Nameless]\n",
			"extra.yaml:4: companies[1]: name is required"},
		{"yaml bad date", "extra.yml",
			"signatories:\n  - name: Acme\n    joined: 18 April 2018\n    match: [Acme]\n",
			`extra.yml:3: signatories[0].joined: "18 April 2018" is not a date (want YYYY-MM-DD)`},
		{"yaml no phrase", "extra.yaml",
			"actors:\n  - name: Ghost\n    country: Iran\n",
			"extra.yaml:2: actors[0].match: at least one phrase is required (match or case_sensitive)"},
		{"yaml wrong type", "extra.yaml",
			"attacks:\n  - name: ransomware\n    weight: heavy\n    match: [locker]\n",
			"extra.yaml:2: attacks[0]: line 3: cannot unmarshal !!str `heavy` into int"},
		{"yaml unknown section", "extra.yaml",
			"actors: []\nvictims:\n  - name: X\n",
			`extra.yaml:2: unknown section "victims" (want one of signatories, companies, orgs, actors, families, states, cues, attacks)`},
		// yaml.v3's own line numbers for syntax errors are unreliable; its
		// message is passed on unchanged.
		{"yaml syntax", "extra.yaml", "actors:\n  - name: A\n    match: [A]\n   country: Iran\n", "extra.yaml: yaml: line 1: did not find expected '-' indicator"},
		{"json unknown field", "extra.json",
			"{\n \"actors\": [\n  {\"name\": \"A\", \"match\": [\"A\"]},\n  {\"name\": \"B\",\n   \"contry\": \"Russia\",\n   \"match\": [\"B\"]}\n ]\n}\n",
			`extra.json:5: actors[1]: unknown field "contry"`},
		{"json missing name", "extra.json",
			"{\"companies\": [\n {\"match\": [\"X\"]}\n]}\n",
			"extra.json:2: companies[0]: name is required"},
		{"json wrong type", "extra.json",
			"{\"attacks\": [\n {\"name\": \"ddos\",\n  \"weight\": \"3\",\n  \"match\": [\"flood\"]}\n]}\n",
			"extra.json:3: attacks[0].weight: got string, want int"},
		{"json syntax", "extra.json", "{\"actors\": [\n {\"name\": \"A\",}\n]}\n", "extra.json:2: actors[0]: invalid character '}' looking for beginning of object key string"},
		{"json truncated", "extra.json", "{\"actors\": [\n {\"name\": \"A\", \"match\": [\"A\"]}", "extra.json:2: actors: unexpected end of file"},
		{"json unknown section", "extra.json", "{\"actor\": []}", `extra.json:1: unknown section "actor" (want one of signatories, companies, orgs, actors, families, states, cues, attacks)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), tt.file)
			writeFile(t, path, tt.data)
			_, err := New(Options{ExtraDictionaries: []string{path}})
			if err == nil {
				t.Fatalf("got nil error, want %q", tt.want)
			}
			var de *DictionaryError
			if !errors.As(err, &de) {
				t.Fatalf("got %T %v, want a *DictionaryError", err, err)
			}
			got := strings.TrimPrefix(de.Error(), filepath.Dir(path)+string(filepath.Separator))
			if got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestOutletTitleSuffix(t *testing.T) {
	c := newTestClassifier(t)
	tests := []struct {
		title string
		want  []string
	}{
		{"IBM issues urgent warning over API Connect flaw - LinkedIn", nil},
		{"Key challenges that impede segmentation | Cisco Blogs", nil},
		{"LinkedIn - hackers abuse messages to spread malware", []string{"LinkedIn"}},
		{"Hackers abuse LinkedIn messages", []string{"LinkedIn"}},
	}
	for _, tt := range tests {
		got := c.Classify(tt.title, "", time.Time{}).Signatories
		if !slices.Equal(got, tt.want) && len(got)+len(tt.want) > 0 {
			t.Errorf("%q: got signatories %v, want %v", tt.title, got, tt.want)
		}
	}
}

// TestBadInput: hostile or broken input gives correct tags or none, never
// a panic, and evidence that points at the input.
func TestBadInput(t *testing.T) {
	c := newTestClassifier(t)
	filler := strings.Repeat("The quick brown fox jumps over the lazy dog. ", 2000) // ~90 KB
	tests := []struct {
		name, title, text string
		wantSigs          []string
	}{
		{"empty", "", "", nil},
		{"whitespace only", " \t\n ", "\n\n", nil},
		{"megabytes", "Breach report", "Microsoft said. " + filler + " Cisco said.", []string{"Microsoft"}}, // Cisco lies past maxTextBytes
		{"huge title", strings.Repeat("Cisco ", 2000), "", []string{"Cisco"}},
		{"invalid UTF-8 splits words", "Micro\xffsoft", "\xffMicrosoft\xfe patched \xc3", []string{"Microsoft"}},
		{"only invalid bytes", "\xff\xfe\xfd", "\x80\x81", nil},
		{"HTML remnants", "<b>Oracle</b>&nbsp;patches", "<p>&lt;script&gt;alert(1)&lt;/script&gt; Oracle&amp;Cisco</p>", []string{"Cisco", "Oracle"}},
		{"NUL and control bytes", "Cisco\x00patch", "\x01\x02Cloudflare\x7f", []string{"Cisco", "Cloudflare"}},
		// ALL-CAPS fields: case cannot tell Arm/SAP/BT from ordinary words
		// there, so case-sensitive names do not match in them; names that
		// match case-insensitively ("Oracle Corporation", "ARM Holdings")
		// and mixed-case text still do.
		{"all-caps banking arm", "HACKERS HIT POSTAL SERVICE AND ITS BANKING ARM", "", nil},
		{"all-caps sap", "THE ATTACK WILL SAP MORALE AT THE AGENCY", "", nil},
		{"all-caps bt", "HACKERS CLAIM BT BREACH IN NEW LEAK", "", nil},
		{"all-caps with mixed-case text", "CISA WARNS OF CRITICAL FLAW IN ERP SOFTWARE", "SAP patched it; ARM Holdings and BT were not affected.", []string{"Arm", "BT", "SAP"}},
		{"all-caps case-insensitive name", "ORACLE CORPORATION CONFIRMS BREACH OF LEGACY SERVERS", "", []string{"Oracle"}},
		{"short caps title is not shouting", "SAP FLAW", "", []string{"SAP"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tags := c.Classify(tt.title, tt.text, time.Time{})
			got := slices.Sorted(slices.Values(tags.Signatories))
			if !slices.Equal(got, tt.wantSigs) && !(len(got) == 0 && len(tt.wantSigs) == 0) {
				t.Errorf("signatories: got %v, want %v", got, tt.wantSigs)
			}
			if len(tags.AttackTypes) == 0 {
				t.Error("no attack type")
			}
			checkEvidence(t, tt.title, tt.text, tags)
		})
	}
}

func TestClip(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"hello world again", 13, "hello world"},
		{"héllo", 2, "h"}, // never inside a rune
		{strings.Repeat("x", 100), 10, strings.Repeat("x", 10)},
	}
	for _, tt := range tests {
		if got := clip(tt.in, tt.n); got != tt.want {
			t.Errorf("clip(%q, %d): got %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}

// BenchmarkNew measures building the classifier: from the embedded
// dictionaries, and with a synthetic user dictionary of 5,000 more phrases
// (1,250 actors with four aliases each, as the generated dictionaries will
// have). It reports the bytes allocated per build and the heap the built
// classifier keeps.
func BenchmarkNew(b *testing.B) {
	synthetic := filepath.Join(b.TempDir(), "synthetic.json")
	var sb strings.Builder
	sb.WriteString(`{"actors": [`)
	for i := range 1250 {
		if i > 0 {
			sb.WriteString(",\n")
		}
		fmt.Fprintf(&sb, `{"name": "Synth Group %d", "country": "Russia", "kind": "apt", "match": ["Synth Group %d", "SG-%d", "Operation Synth %d", "Synthetic Bear %d"]}`, i, i, i, i, i)
	}
	sb.WriteString("]}\n")
	if err := os.WriteFile(synthetic, []byte(sb.String()), 0o600); err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name  string
		extra []string
	}{{"embedded", nil}, {"embedded+5000", []string{synthetic}}} {
		b.Run(bc.name, func(b *testing.B) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			var c *Classifier
			for b.Loop() {
				var err error
				if c, err = New(Options{ExtraDictionaries: bc.extra}); err != nil {
					b.Fatal(err)
				}
			}
			runtime.ReadMemStats(&after)
			b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(b.N)/(1<<20), "alloc-MB/op")
			runtime.GC()
			runtime.ReadMemStats(&after)
			b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/(1<<20), "retained-MB")
			b.ReportMetric(float64(c.m.nwords), "words")
			b.ReportMetric(float64(c.m.nphrases), "phrases")
			runtime.KeepAlive(c)
		})
	}
}

func TestBTAndArmLookalikes(t *testing.T) {
	c := newTestClassifier(t)
	tests := []struct {
		text string
		want []string
	}{
		{"A British telecom provider was breached by hackers.", nil},
		{"British Telecom confirmed the outage was not an attack.", []string{"BT"}},
		{"Attackers abused ARM templates to deploy miners in Azure.", nil},
		{"Arm patched a flaw in its Mali GPU driver.", []string{"Arm"}},
	}
	for _, tt := range tests {
		got := c.Classify("", tt.text, time.Time{}).Signatories
		if strings.Join(got, ",") != strings.Join(tt.want, ",") {
			t.Errorf("%q: got %q, want %q", tt.text, got, tt.want)
		}
	}
}

// TestTagsOutliveScratch checks that tags never share memory with the
// pooled scratch a later call reuses: tags kept from one call must not
// change while others run, whatever their fields were built from (cluster
// and family names, roles, attribution, evidence).
func TestTagsOutliveScratch(t *testing.T) {
	c, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	items := [][2]string{
		{"UNC6384 and Storm-1849 hit Microsoft", "Mandiant attributes it to UNC6384; Microsoft calls it Storm-1849. Volt Typhoon and Glacier Typhoon, UAT-9686 and TA4557 too."},
		{"Chinese state-sponsored hackers exploit Cisco zero-day", "Microsoft said the Russia-linked group APT28 targeted Oracle customers, according to CISA."},
		{"Telefónica Türkiye breach", "Kimsuky data breach: North Korean hackers leaked data from a hospital; Meta patched WhatsApp."},
	}
	items = append(items, [2]string{"", strings.Repeat("Lazarus Group stole crypto from Bybit. ", 50)})
	for _, s := range newsItems(t, 3000) {
		items = append(items, [2]string{s[:40], s})
	}
	var kept []accordwatch.Tags
	var want [][]byte
	for _, it := range items {
		tags := c.Classify(it[0], it[1], time.Time{})
		b, err := json.Marshal(tags)
		if err != nil {
			t.Fatal(err)
		}
		kept, want = append(kept, tags), append(want, b)
	}
	// Other items reuse the scratch, then every kept result is compared.
	for _, it := range items {
		c.Classify(strings.ToUpper(it[1]), it[0]+" Sandworm UNC1151 Midnight Blizzard", time.Time{})
	}
	for i, tags := range kept {
		got, err := json.Marshal(tags)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want[i]) {
			t.Errorf("item %d changed after later calls:\ngot  %s\nwant %s", i, got, want[i])
		}
	}
}
