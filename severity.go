package accordwatch

// Band is a named range of the 0–100 severity scale. Slack markers, the
// digest and the web page all colour and name severity through SeverityBand,
// so an item reads the same everywhere.
type Band string

// The bands, from the top.
const (
	BandCritical Band = "critical" // 80–100
	BandHigh     Band = "high"     // 50–79
	BandMedium   Band = "medium"   // 25–49
	BandLow      Band = "low"      // 0–24
)

// SeverityBand names the band severity falls in. With the classifier's
// factors, a state-linked espionage report naming a signatory as victim
// (10+30+20) is high; critical takes one more factor such as active
// exploitation or critical infrastructure.
func SeverityBand(severity int) Band {
	switch {
	case severity >= 80:
		return BandCritical
	case severity >= 50:
		return BandHigh
	case severity >= 25:
		return BandMedium
	}
	return BandLow
}
