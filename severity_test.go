package accordwatch

import "testing"

func TestSeverityBandIsMonotonicAndTotal(t *testing.T) {
	rank := map[Band]int{BandLow: 0, BandMedium: 1, BandHigh: 2, BandCritical: 3}
	prev := BandLow
	for sev := -5; sev <= 105; sev++ {
		b := SeverityBand(sev)
		if _, ok := rank[b]; !ok {
			t.Fatalf("SeverityBand(%d) = %q, not a band", sev, b)
		}
		if rank[b] < rank[prev] {
			t.Fatalf("SeverityBand(%d) = %s below SeverityBand(%d) = %s", sev, b, sev-1, prev)
		}
		prev = b
	}
	for sev, want := range map[int]Band{0: BandLow, 24: BandLow, 25: BandMedium, 49: BandMedium, 50: BandHigh, 55: BandHigh, 79: BandHigh, 80: BandCritical, 100: BandCritical} {
		if got := SeverityBand(sev); got != want {
			t.Errorf("SeverityBand(%d) = %s, want %s", sev, got, want)
		}
	}
}
