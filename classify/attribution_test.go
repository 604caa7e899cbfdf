package classify

import (
	"slices"
	"testing"
	"time"

	"github.com/accordwatch/accordwatch"
)

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
		{name: "explicit with country", text: "Iranian state-sponsored hackers broke into a water utility.", wantLinked: true, wantStates: []string{"Iran"}, wantStrength: "attributed"},
		{name: "explicit without country", text: "State-aligned operators phished defence contractors.", wantLinked: true, wantStates: []string{}, wantStrength: "attributed"},
		{name: "country-linked", title: "Iran-Linked Crew Targets Gulf Shipping Firms", wantLinked: true, wantStates: []string{"Iran"}, wantStrength: "linked"},
		{name: "linked to agency", text: "The intrusions were linked to Russia's GRU.", wantLinked: true, wantStates: []string{"Russia"}},
		{name: "agency alone", text: "Unit 26165 of the GRU ran the phishing campaign.", wantLinked: true, wantStates: []string{"Russia"}, wantStrength: "attributed"},
		{name: "Ministry of State Security", text: "An indictment names officers of the Ministry of State Security.", wantLinked: true, wantStates: []string{"China"}},
		{name: "RGB", text: "The Reconnaissance General Bureau runs the units.", wantLinked: true, wantStates: []string{"North Korea"}},
		{name: "demonym APT", text: "Researchers found a new Iranian APT targeting airlines.", wantLinked: true, wantStates: []string{"Iran"}},
		{name: "capital hackers", text: "Experts say Kremlin hackers were behind it.", wantLinked: true, wantStates: []string{"Russia"}},
		{name: "capital-backed", text: "The lures came from APT37, a Pyongyang-backed unit.", wantLinked: true, wantStates: []string{"North Korea"}, wantActors: []string{"APT37"}},
		{name: "suspected", title: "Russia suspected of breaching Baltic port systems", wantLinked: true, wantStates: []string{"Russia"}, wantStrength: "suspected"},
		{name: "blamed with accuser", title: "Poland Blames Russia for Sabotage of Rail Signals", wantLinked: true, wantStates: []string{"Russia"}, wantStrength: "suspected", wantBy: "Poland"},
		{name: "by according to", text: "According to Mandiant, the Chinese espionage group exploited the flaw.", wantLinked: true, wantStates: []string{"China"}, wantBy: "FireEye"},
		{name: "by said", text: "Microsoft said Russian state hackers read executive email.", wantLinked: true, wantStates: []string{"Russia"}, wantBy: "Microsoft"},
		{name: "actor on record", text: "MuddyWater sent phishing lures to airline staff.", wantLinked: true, wantStates: []string{"Iran"}, wantStrength: "attributed", wantActors: []string{"MuddyWater"}},
		{name: "actor alias resolves", text: "Fancy Bear and Cozy Bear were both active.", wantLinked: true, wantStates: []string{"Russia"}, wantActors: []string{"APT28", "APT29"}},
		{name: "Typhoon family not in the list", text: "Microsoft tracks the group as Glacier Typhoon.", wantLinked: true, wantStates: []string{"China"}, wantActors: []string{"Glacier Typhoon"}},
		{name: "Sandstorm family", text: "Obsidian Sandstorm sent lures to journalists.", wantLinked: true, wantStates: []string{"Iran"}, wantActors: []string{"Obsidian Sandstorm"}},
		// The language of blame, long and short state names, plural group
		// names; crime and money theft veto a nationality.
		{name: "blamed on country", title: "Cyber attack on water utility blamed on Iran", wantLinked: true, wantStates: []string{"Iran"}, wantStrength: "suspected"},
		{name: "based actors linked", title: "Vendor links attacks on telecoms to China-based actors", wantLinked: true, wantStates: []string{"China"}, wantStrength: "linked"},
		{name: "based scammers", title: "Police warn of Nigeria-based scammers", wantLinked: false},
		{name: "acronym as adjective", title: "DPRK IT workers infiltrate European firms", wantLinked: true, wantStates: []string{"North Korea"}},
		{name: "long form", title: "People's Republic of China cyber actors target telecoms", wantLinked: true, wantStates: []string{"China"}},
		{name: "plural family names", title: "The Volt and Salt Typhoons keep probing US networks", wantLinked: true, wantStates: []string{"China"}, wantActors: []string{"Salt Typhoon", "Volt Typhoon"}},
		{name: "nationality before hack", title: "Chinese hack of Treasury widens", wantLinked: true, wantStates: []string{"China"}},
		{name: "crypto theft is crime", title: "A Russian hacking group steals crypto from exchange", wantLinked: false},
		{name: "data theft is not money", title: "Iranian hackers steal voter data from election office", wantLinked: true, wantStates: []string{"Iran"}},
		{name: "weather typhoon", text: "Super Typhoon Haiyan knocked out the grid; a typhoon also hit Taiwan.", wantLinked: false},
		{name: "Storm cluster has no country", text: "Microsoft tracks the actor as Storm-2603.", wantLinked: false, wantActors: []string{"Storm-2603"}},
		{name: "criminal group has no country", text: "LockBit and Scattered Spider hit retailers.", wantLinked: false, wantActors: []string{"LockBit", "Scattered Spider"}},
		{name: "victim country", text: "A wave of DDoS attacks on Ukraine and Taiwan continued.", wantLinked: false},
		{name: "targeting Russian victims", text: "The malware is targeting Russian organizations.", wantLinked: false},
		{name: "criminal nationality", title: "Russian cybercriminals sell access to hospital networks", wantLinked: false},
		{name: "language is not a state", text: "A Russian-speaking crew rents out its loader to affiliates.", wantLinked: false},
		{name: "nationality ransomware gang", text: "A Russian ransomware gang leaked the data.", wantLinked: false},
		{name: "pro-Russian hacktivists", text: "Pro-Russian hacktivists Noname057(16) claimed the DDoS attack.", wantLinked: false, wantActors: []string{"NoName057(16)"}},
		{name: "pro-Russian tied to Kremlin", text: "Pro-Russian hacktivists are tied to the Kremlin, Estonian intelligence says.", wantLinked: true, wantStates: []string{"Russia"}, wantStrength: "linked", wantBy: "Estonia"},
		{name: "arrested individual", text: "Spain detains Russian suspected of breaking into Spanish banks. The Russian citizen was held in Madrid.", wantLinked: false},
		{name: "China-based criminals", text: "Police dismantle a China-based hacking ring behind a parcel text scam.", wantLinked: false},
		{name: "undetermined", title: "Officials say it is unclear whether the port hack was state-sponsored", wantLinked: false},
		{name: "generic nation-state risk", text: "Boards underestimate the threat from nation-state actors.", wantLinked: false},
		{name: "leaked state group is the victim", title: "Andariel Servers Leaked Online", text: "The Andariel data breach lays bare the tools of the North Korean APT group.", wantLinked: false, wantActors: []string{"Andariel"}},
		{name: "country as actor", title: "North Korea steals millions from a crypto exchange", wantLinked: true, wantStates: []string{"North Korea"}},
		{name: "possessive", text: "Russia's spy agency broke into the ministry's email.", wantLinked: true, wantStates: []string{"Russia"}},
		// A state denying or denouncing an accusation reports the accusation.
		{name: "denial reports the accusation", text: "Russia denies hacking the election commission.", wantLinked: true, wantStates: []string{"Russia"}, wantStrength: "suspected"},
		{name: "dismissed claims", text: "Iran has dismissed the hacking claims as baseless.", wantLinked: true, wantStates: []string{"Iran"}, wantStrength: "suspected"},
		{name: "company denial is no state", text: "Microsoft denied that its cloud was breached.", wantLinked: false},
		{name: "suspected individual", text: "Border officers detained a suspected Chinese hacker at the airport.", wantLinked: false},
		{name: "connected businessman", text: "The essay mill has ties to a Kremlin-connected businessman.", wantLinked: false},
		// Accusations: the accused is the actor, the accuser is not.
		{name: "accuser and accused", title: "Iran accuses Israel of hacking its fuel pumps", wantLinked: true, wantStates: []string{"Israel"}, wantStrength: "suspected"},
		{name: "accuser agency", text: "Russia's counter-intelligence service has accused Britain of running a phishing operation.", wantLinked: true, wantStates: []string{"United Kingdom"}},
		{name: "accused of", title: "Russia accused of hacking Dutch shipping registry", wantLinked: true, wantStates: []string{"Russia"}, wantStrength: "suspected"},
		{name: "officials believed to", text: "Iranian officials are believed to have hacked the campaign's email.", wantLinked: true, wantStates: []string{"Iran"}},
		{name: "spying for capital", text: "Two engineers were charged with spying for Moscow.", wantLinked: true, wantStates: []string{"Russia"}},
		// A theft of money beside a nationality is crime, except for a
		// state whose own units steal (North Korea's, per ATT&CK).
		{name: "state that steals", text: "North Korean hackers steal $40 million in crypto from an exchange.", wantLinked: true, wantStates: []string{"North Korea"}},
		{name: "criminal theft", text: "Romanian hackers steal $40 million in crypto from an exchange.", wantLinked: false},
		// A survey's fears pin nothing on a state; one person's named
		// fear of a state's attack does (the label rules' threat).
		{name: "survey fear", title: "Executives fear Chinese cyber attacks, poll finds", text: "Two thirds of firms expect an attack this year.", wantLinked: false},
		{name: "named fear", title: "Mayor fears Russian cyber attack on the port", text: "She said Moscow would target the harbour.", wantLinked: true, wantStates: []string{"Russia"}},
		{name: "country hackers", title: "China hackers hit Philippine ministries", wantLinked: true, wantStates: []string{"China"}},
		{name: "IT workers", text: "The firm had hired North Korean IT workers without knowing it.", wantLinked: true, wantStates: []string{"North Korea"}},
		// Explicit wording that names no actor.
		{name: "state-run media", text: "Iranian state-run media reported an outage at the port.", wantLinked: false},
		{name: "government-backed loan", title: "Carmaker gets government-backed loan after cyber attack", wantLinked: false},
		{name: "crime and nation-state", text: "Retailers face cybercriminals and nation-state groups alike.", wantLinked: false},
		{name: "asked whether", title: "Police cannot say if the rail hack was state-sponsored", wantLinked: false},
		{name: "place before spaced suffix", title: "Arrest in India Linked to Crypto Exchange Breach", wantLinked: false},
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

// TestMoreEvidenceNeverLess is a property of attribution: adding wording
// that attributes the activity to a state (an explicit phrase, a
// nationality, a named agency) to a sentence never removes a state that
// the sentence without it gave.
func TestMoreEvidenceNeverLess(t *testing.T) {
	c := newTestClassifier(t)
	cores := []string{
		"Lazarus Group hackers breached Microsoft customers.",
		"Lazarus Group hackers breach Microsoft customers.",
		"Lazarus Group breached Microsoft customers.",
		"Volt Typhoon breached telecom routers in Guam.",
		"APT28 leaked emails of election officials.",
		"Sandworm exposed customer records of a power utility.",
		"Salt Typhoon hackers targeted Cisco routers at carriers.",
		"Kimsuky sent phishing mail to researchers.",
		"Midnight Blizzard read executive mailboxes at Microsoft.",
	}
	prefixes := []string{
		"Government-backed North Korean hackers of ",
		"Government-backed Chinese hackers of ",
		"State-sponsored ",
		"Nation-state actor ",
		"Russian intelligence officers of ",
		"Spies of ",
		"Iran-linked ",
		"A state-aligned group, ",
	}
	for _, core := range cores {
		base := c.Classify("", core, time.Time{})
		if len(base.States) == 0 {
			t.Errorf("%q: got no state, want the actor's", core)
			continue
		}
		for _, p := range prefixes {
			for _, where := range []struct{ title, text string }{{"", p + core}, {p + core, core}, {core, p + core}} {
				got := c.Classify(where.title, where.text, time.Time{})
				for _, s := range base.States {
					if !slices.Contains(got.States, s) {
						t.Errorf("title %q text %q: got states %v, want them to keep %s (from %q alone)", where.title, where.text, got.States, s, core)
					}
				}
				if !got.StateLinked {
					t.Errorf("title %q text %q: got state_linked false", where.title, where.text)
				}
			}
		}
	}
}
