package classify

import (
	"slices"
	"testing"
	"time"

	"github.com/accordwatch/accordwatch"
)

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
		{"funding round", "Acme Shield raises $12M in a seed round", "The funding was led by a venture firm.", "not-an-attack", []accordwatch.Principle{}, 0, 0},
		{"advisory", "CISA orders agencies to patch Oracle WebLogic flaw exploited in attacks", "The bug is now listed in the Known Exploited Vulnerabilities catalog.", "vulnerability", []accordwatch.Principle{accordwatch.StrongerDefense, accordwatch.CapacityBuilding}, 30, 100},
		{"not an attack outage", "Fastly says the outage was not caused by hackers", "A faulty settings push took sites offline for an hour.", "not-an-attack", []accordwatch.Principle{}, 0, 0},
		// State-linked activity framed as a report, or left untyped, is espionage.
		{"state-linked report is espionage", "Iran-backed group hits shipping firms with cyber attack", "The group hid a backdoor in invoices, a report said on Tuesday.", "espionage", []accordwatch.Principle{accordwatch.NoOffense}, 30, 100},
		{"state-linked headline type wins", "Chinese hacking campaign abuses zero-day in Contoso gateway", "A report says the campaign hit telecom customers.", "vulnerability", []accordwatch.Principle{accordwatch.StrongerDefense, accordwatch.NoOffense}, 30, 100},
		// A statement about a state's attacks (a warning, an accusation) with
		// no type is policy; a country accused without a group is too.
		{"state warning is policy", "Russia is hacking European ports, navy chief warns", "The admiral gave no details of the attacks.", "policy", []accordwatch.Principle{accordwatch.NoOffense, accordwatch.CapacityBuilding}, 0, 100},
		{"accused country untyped attack", "Poland accuses Russia of cyber attack on water plant", "Officials gave no details.", "policy", []accordwatch.Principle{accordwatch.NoOffense}, 0, 100},
		{"named group alone is espionage", "Volt Typhoon returns", "Volt Typhoon is back in American utility networks.", "espionage", []accordwatch.Principle{accordwatch.NoOffense}, 0, 100},
		// A roundup takes the type of its lead story.
		{"roundup lead", "Quiet week, loud bugs.", "Police arrest a botnet operator in Spain. A retailer reports a data breach. A ransomware gang hits a hospital. Contoso patches a router flaw. A phishing wave hits banks.", "takedown", []accordwatch.Principle{}, 0, 100},
		// An episode title (a full stop ends it) over four longer
		// sentences is a roundup too, and its pun does not outweigh the
		// lead story.
		{"episode roundup", "Phishing season opens.", "Federal prosecutors charge three men over a marketplace selling stolen card data. A regional hospital chain restores services after a weekend cyber attack. Contoso patches a critical flaw in its VPN gateways that attackers exploit. Researchers describe a phishing kit that copies bank login pages closely.", "takedown", nil, 0, 100},
		{"news headline over long sentences", "Phishing wave hits regional banks", "Federal prosecutors charge three men over a marketplace selling stolen card data. A regional hospital chain restores services after a weekend cyber attack. Contoso patches a critical flaw in its VPN gateways that attackers exploit. Researchers describe a phishing kit that copies bank login pages closely.", "phishing", []accordwatch.Principle{accordwatch.StrongerDefense}, 0, 100},
		{"roundup untyped lead", "Senate season.", "The Senate confirms a new cyber director. A retailer reports a data breach. A ransomware gang hits a hospital. Contoso patches a router flaw. A phishing wave hits banks.", "policy", []accordwatch.Principle{}, 0, 100},
		// A product flaw or a DDoS on a company puts its users on the line.
		{"ddos mitigated", "Cloudflare blocks record DDoS attack", "The flood peaked at 20 Tbps.", "ddos", []accordwatch.Principle{accordwatch.StrongerDefense}, 0, 100},
		// A report that counts attacks is policy; a report noun that only
		// sources the headline is not a policy report.
		{"survey counts attacks", "Ransomware attacks on dentists rise 40%: Contoso survey", "Two in five practices paid.", "policy", []accordwatch.Principle{accordwatch.CapacityBuilding}, 0, 100},
		{"report sources business news", "Contoso in talks to buy a chip start-up: report", "The deal would value the start-up at $2 billion.", "not-an-attack", []accordwatch.Principle{}, 0, 100},
		{"named gang keeps event type", "Ransomware gang LockBit hits 40% of the county's clinics: report", "Records were encrypted.", "ransomware", []accordwatch.Principle{accordwatch.CapacityBuilding}, 0, 100},
		// Business words do not turn an attack in the headline into a non-attack.
		{"sales after cyber attack", "Contoso sales drop after cyber attack", "Shops stayed shut for a week.", "policy", nil, 0, 100},
		{"announces ransomware attack", "Contoso Clinics announces a ransomware attack", "The firm said files were encrypted.", "ransomware", nil, 0, 100},
		{"product against attacks", "Contoso launches a tool to protect against attack", "The product is now available.", "not-an-attack", nil, 0, 100},
		{"guidance after a breach", "Your bank was breached. Here is what you should do", "Change your password and watch your statements.", "data-breach", []accordwatch.Principle{accordwatch.StrongerDefense, accordwatch.CapacityBuilding}, 0, 100},
		{"unattributed warning stays policy", "Agency warns of rising cyber threat", "The report describes trends.", "policy", []accordwatch.Principle{accordwatch.CapacityBuilding}, 0, 100},
		// Research words count only from a named source or in the headline.
		{"passing researchers", "Hackers steal data from Acme retailer", "Researchers say the data breach exposed customer records.", "data-breach", []accordwatch.Principle{accordwatch.StrongerDefense}, 0, 100},
		{"research headline", "Identity is the biggest threat to firms, Contoso Labs research finds", "Attackers use stolen credentials.", "policy", []accordwatch.Principle{accordwatch.CapacityBuilding}, 0, 100},
		// A civil suit or settlement over a breach is the victim's
		// liability (policy), with the breach's victims; a suit against
		// the attackers is a takedown.
		{"class action over breach", "Regional lender faces class action over customer data breach", "Customers say their records were stolen in the breach.", "policy", []accordwatch.Principle{accordwatch.StrongerDefense}, 0, 100},
		{"settlement payments", "Data breach settlement payments begin for retailer's shoppers", "Affected customers can claim up to $500.", "policy", []accordwatch.Principle{accordwatch.StrongerDefense}, 0, 100},
		{"fine over breach", "Regulator fines retailer £2m over data breach", "The watchdog said customer records were stolen.", "policy", []accordwatch.Principle{accordwatch.StrongerDefense}, 0, 100},
		{"impersonation", "Fake support pages impersonating a bank trick users into installing malware", "The pages copy the bank's help site.", "phishing", []accordwatch.Principle{accordwatch.StrongerDefense}, 0, 100},
		// A headline that opens with "Hacking" and an object does
		// something to a device; "Hacking group…" is still an actor.
		{"hobby hacking", "Hacking the thermostat in my attic", "I replaced its firmware with my own over a weekend.", "not-an-attack", nil, 0, 100},
		{"hacking group noun", "Hacking group leaks files of a regional airline", "The group posted 40 GB of records.", "data-breach", nil, 0, 100},
		// Attack words after a how-to cue name what to guard against.
		{"guard against scams", "Holiday shopping: protect your parents from gift card scams and fraud", "Check the seller before paying.", "not-an-attack", []accordwatch.Principle{accordwatch.CapacityBuilding}, 0, 100},
		{"guidance after scam keeps type", "Gift card scam hits shoppers: what to do now", "Thousands lost money at checkout.", "fraud", []accordwatch.Principle{accordwatch.CapacityBuilding}, 0, 100},
		// Police, prosecutors or Europol shutting something down is a
		// takedown; an attack that shuts something down is not.
		{"police shut down", "Dutch police shut down a phishing-kit marketplace", "The site sold kits to thousands of buyers.", "takedown", nil, 0, 100},
		{"attack shuts down", "Cyber attack shuts down a regional railway's ticket machines", "Passengers were asked to buy tickets on board.", "policy", nil, 0, 100},
		{"sanction verb", "Allies sanction a bulletproof hosting firm over ransomware links", "The firm rented servers to extortion gangs.", "takedown", []accordwatch.Principle{accordwatch.CollectiveAction}, 0, 100},
		{"negated sanction", "Washington won't sanction Beijing over telecom hacking", "Officials cited trade talks.", "policy", nil, 0, 100},
		// A supplier that suffers an attack is its victim: the attack
		// keeps its own type; a supplier that carried malware is a route.
		{"supplier as victim", "Carmaker's parts supplier hit by ransomware attack", "Production lines stopped for two days.", "ransomware", []accordwatch.Principle{accordwatch.StrongerDefense}, 0, 100},
		{"supplier as route", "Hackers breach retailer through a third-party supplier", "The attackers pushed a poisoned update to the retailer's tills.", "supply-chain", []accordwatch.Principle{accordwatch.StrongerDefense}, 0, 100},
		// "Ransomware gang…" names who; the leak it claims is the event.
		{"ransomware gang leak", "Ransomware hackers claim breach of payroll provider", "They posted samples online.", "data-breach", []accordwatch.Principle{accordwatch.StrongerDefense}, 0, 100},
		{"ransomware attack event", "Ransomware attack encrypts clinic chain's servers", "Staff went back to paper records.", "ransomware", nil, 0, 100},
		// An outage pinned on a state is an attack whose type the text
		// does not say, when the lead names the event.
		{"outage blamed on a state", "Water outage blamed on Iran", "Officials blamed the intrusion at the treatment plant on Iran.", "policy", []accordwatch.Principle{accordwatch.NoOffense}, 0, 100},
		{"outage not an attack", "Water outage in three towns after a burst main", "Crews repaired the pipe overnight.", "not-an-attack", nil, 0, 100},
		// A report ranking products by the attacks they draw bears on
		// the vendors' users as the attacks would.
		{"ranking report", "Microsoft and Oracle gateways riskiest products for ransomware: Tailspin Insurance Claims Report", "The insurer ranked remote-access products by claims.", "policy", []accordwatch.Principle{accordwatch.StrongerDefense, accordwatch.CapacityBuilding}, 0, 100},
		{"suit against hackers", "Contoso sues hackers behind phishing kit", "The suit names ten defendants.", "takedown", nil, 0, 100},
		// A denied attack is not one; what remains is an unexplained event.
		{"no breach found", "Utility says no data breach found after website went offline", "Officials said there were no signs of a breach.", "policy", nil, 0, 100},
		// Attacks in general are background in product and guidance pieces.
		{"attacks as background", "Learn how a unified console helps security teams", "The volume of cyberattacks keeps growing every year.", "not-an-attack", []accordwatch.Principle{accordwatch.CapacityBuilding}, 0, 100},
		{"how-to headline", "Securing cloud workloads with signed builds", "Teams can check every change before it ships.", "not-an-attack", []accordwatch.Principle{accordwatch.CapacityBuilding}, 0, 100},
		// An attack word that only modifies a defence, product or office
		// noun, or a term of art, names no attack.
		{"product against ransomware", "Contoso adds ransomware protection to its backup service", "The feature is in preview for business customers.", "not-an-attack", nil, 0, 100},
		{"attack surface", "Five ways to shrink your attack surface", "Inventory every service you run first.", "not-an-attack", nil, 0, 100},
		// A threat named as what to protect against is no attack; a how-to
		// headline with no attack of its own is guidance.
		{"protect from phishing", "Start-up protects team chats from phishing", "Its filter checks every link before delivery.", "not-an-attack", nil, 0, 100},
		{"how-to headline", "How to plan your first security team", "Social engineering and malware keep defenders busy.", "not-an-attack", []accordwatch.Principle{accordwatch.CapacityBuilding}, 0, 100},
		{"how-to after a breach", "Contoso confirms data breach: here's how to stay safe", "Customer emails were stolen.", "data-breach", []accordwatch.Principle{accordwatch.StrongerDefense, accordwatch.CapacityBuilding}, 0, 100},
		// A threat assessment or forecast is policy; "threat intelligence"
		// names a trade, not an outlook.
		{"forecast headline", "Five security predictions for the year ahead", "Experts expect more pressure on small firms.", "policy", nil, 0, 100},
		{"threat intelligence team", "Meet the threat intelligence team at Contoso", "They moved to a new office this spring.", "not-an-attack", []accordwatch.Principle{accordwatch.CapacityBuilding}, 0, 100},
		// A theft is typed by what was taken; a prison sentence is a takedown.
		{"stolen data", "Hackers steal patient records from clinic chain", "The clinics wrote to every family.", "data-breach", nil, 0, 100},
		{"stolen logins", "Crooks steal bank logins with fake parcel texts", "The texts link to a copy of the bank's site.", "phishing", nil, 0, 100},
		{"stolen money", "Thieves steal $3 million from crypto wallet app", "Users lost savings overnight.", "fraud", []accordwatch.Principle{accordwatch.StrongerDefense}, 0, 100},
		{"jailed", "Hacker jailed for selling access to school networks", "He sold logins on a forum.", "takedown", nil, 0, 100},
		// One policy word in the text alone types nothing.
		{"one policy word in text", "Meet the team behind Contoso's new cloud console", "The team also handles compliance for the product.", "not-an-attack", nil, 0, 100},
		// A breach through a third party is a supply-chain attack.
		{"breach via third party", "Airline says passenger data exposed in breach", "The data was taken from a third-party provider that handles bookings.", "supply-chain", []accordwatch.Principle{accordwatch.StrongerDefense}, 0, 100},
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
