package classify

import (
	"slices"
	"testing"
	"time"

	"github.com/accordwatch/accordwatch"
)

// Sentences written for these tests, one per principle rule of steps 4
// and 9.
func TestPrinciplesRules(t *testing.T) {
	c := newTestClassifier(t)
	tests := []struct {
		name, title, text string
		p                 accordwatch.Principle
		want              bool
	}{
		{"attack of unstated type on a company", "Bakery chain halts deliveries after cyber attack",
			"The company said its ordering systems were disrupted and taken offline for two days.", accordwatch.StrongerDefense, true},
		{"attack of unstated type on public bodies only", "Town council closes offices after cyber attack",
			"The council said its offices would stay closed while officials investigate.", accordwatch.StrongerDefense, false},
		{"takedown over a breach", "Police arrest suspect over telecom data breach",
			"Officers said the man sold records stolen from the provider's database.", accordwatch.StrongerDefense, true},
		{"roundup reads the lead story only", "Quiet week.",
			"A court delays a privacy ruling. Lawmakers debate a budget. A vendor publishes guidance on router hardening. Researchers share indicators of compromise.",
			accordwatch.CapacityBuilding, false},
		// Step 9: patch releases and newly disclosed threats are capacity
		// building; countries listed as one actor, and joint work that is
		// not the attackers' own, are collective action.
		{"patch release", "Contoso patches router flaw used in attacks",
			"Owners should install firmware 2.1 now.", accordwatch.CapacityBuilding, true},
		{"new malware disclosed", "New Quillfish malware variant targets payroll staff",
			"The loader arrives in fake invoices.", accordwatch.CapacityBuilding, true},
		{"survey headline", "Half of clinics hit by phishing last year, survey finds",
			"The survey polled 500 practice managers.", accordwatch.CapacityBuilding, true},
		{"countries sanction together", "Canada, Japan and Germany sanction crypto mixer over laundering",
			"The mixer moved funds for extortion crews.", accordwatch.CollectiveAction, true},
		{"rivals named together", "Japan and Germany trade barbs over chip exports",
			"Officials met twice without a deal.", accordwatch.CollectiveAction, false},
		{"attackers coordinating", "Retailers hit by coordinated attacks over the weekend",
			"Sites were knocked offline for hours.", accordwatch.CollectiveAction, false},
		{"collaboration software", "Hackers abuse collaboration platforms to spread malware",
			"Fake meeting invites carry the payload.", accordwatch.CollectiveAction, false},
		// Step 13: agencies that urge action give guidance; a company
		// adding protection for its
		// own users protects them, an award for a protection product not.
		{"agencies urge", "Regulators urge banks to turn on hardware keys",
			"The notice lists the steps for staff accounts.", accordwatch.CapacityBuilding, true},
		{"company adds protection", "Microsoft adds phishing protection to Outlook on the web",
			"The feature flags lookalike sign-in pages.", accordwatch.StrongerDefense, true},
		{"end of support", "Microsoft confirms end of support for Exchange 2016 next month",
			"Servers left running will get no more security fixes.", accordwatch.StrongerDefense, true},
		{"end of life without a company", "End of life for the city's oldest tram line",
			"The last run is on Sunday.", accordwatch.StrongerDefense, false},
		{"award for protection product", "Microsoft is named a leader for endpoint protection platforms",
			"The analyst firm ranked eleven vendors.", accordwatch.StrongerDefense, false},
		{"reader addressed marketing", "Upgrade your defences with Microsoft Sentinel",
			"A webinar shows the new dashboards.", accordwatch.StrongerDefense, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tags := c.Classify(tt.title, tt.text, time.Time{})
			if got := slices.Contains(tags.Principles, tt.p); got != tt.want {
				t.Errorf("%s: got %v, want %v (principles %v, types %v)", tt.p, got, tt.want, tags.Principles, tags.AttackTypes)
			}
		})
	}
}
