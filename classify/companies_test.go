package classify

import (
	"slices"
	"strings"
	"testing"
	"time"
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
		{"Arm company", "Engineers at Arm shipped a fix for the GPU driver flaw.", "signatory", "Arm", true},
		{"ARM caps", "ARM Holdings shares rose after the patch.", "signatory", "Arm", true},
		{"arm lower-case division", "Profits at the insurer's leasing arm rose 4%.", "signatory", "Arm", false},
		{"banking Arm in a headline", "Ransomware Crew Targets Retailer and Its Banking Arm", "signatory", "Arm", false},
		{"firearm", "Police seized a firearm and laptops.", "signatory", "Arm", false},
		{"armed", "Attackers armed with stolen keys.", "signatory", "Arm", false},
		{"Oracle company", "Oracle shipped fixes for flaws in its E-Business Suite.", "signatory", "Oracle", true},
		{"blockchain oracle", "A decentralized oracle feeds prices to the lending pool.", "signatory", "Oracle", false},
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
		{"SAP company", "SAP Fixes Severe Flaw in NetWeaver Portal", "signatory", "SAP", true},
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
		{"Meta Platforms", "a Meta Platforms subsidiary disclosed the bug", "signatory", "Facebook", true},
		{"brand before Meta", "Privacy groups question Ray-Ban Meta glasses at concerts.", "signatory", "Facebook", true},
		{"metadata", "The metadata of the files was stripped.", "signatory", "Facebook", false},
		{"meta-analysis", "A meta-analysis of breach costs.", "signatory", "Facebook", false},
		{"Meta-analysis capitalised", "Meta-analysis shows phishing works.", "signatory", "Facebook", false},
		{"meta lower-case", "a meta discussion about bugs", "signatory", "Facebook", false},
		{"Intuit company", "Intuit warned TurboTax users of phishing.", "signatory", "Intuit", true},
		{"intuitive", "The dashboard is intuitive for new analysts.", "signatory", "Intuit", false},
		{"HP", "HP patched printer firmware.", "signatory", "HP Inc.", true},
		{"HP Enterprise is HPE", "HP Enterprise disclosed a breach.", "signatory", "HPE", true},
		{"HP Enterprise is not HP Inc.", "HP Enterprise disclosed a breach.", "signatory", "HP Inc.", false},
		{"Hewlett Packard Enterprise", "Hewlett Packard Enterprise patched Aruba.", "signatory", "HPE", true},
		{"Hewlett-Packard", "Hewlett-Packard printers were hijacked.", "signatory", "HP Inc.", true},
		{"Mandiant is FireEye", "Mandiant responders found a web shell on the server.", "signatory", "FireEye", true},
		{"Trend Vision One is Trend Micro", "Trend Vision One customers received a detection update.", "signatory", "Trend Micro", true},
		{"Trend alone", "The trend continues across sectors.", "signatory", "Trend Micro", false},
		{"Cisco Systems", "Cisco Systems fixed ISE.", "signatory", "Cisco", true},
		{"Palo Alto city", "PALO ALTO, Calif.--A startup released a survey today.", "company", "Palo Alto Networks", false},
		{"Palo Alto Networks", "Palo Alto Networks Inc. issued a hotfix.", "company", "Palo Alto Networks", true},
		{"Telefónica accent", "Telefónica said its Peruvian unit restored service.", "signatory", "Telefonica", true},
		// The publisher is not a subject: feed trailers and title suffixes.
		{"feed trailer", "Attackers phished a payroll firm. The post Payroll phishing wave appeared first on Microsoft Security Blog.", "signatory", "Microsoft", false},
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
