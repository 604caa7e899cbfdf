package monitor

import (
	"fmt"
	"testing"
	"time"
)

func TestNextCheck(t *testing.T) {
	now := time.Date(2026, 3, 2, 10, 7, 0, 0, time.UTC)
	lim := limits{min: 5 * time.Minute, max: 24 * time.Hour, maxBackoff: 6 * time.Hour}
	every15 := mustSchedule(t, "@every 15m")
	hourly := mustSchedule(t, "0 * * * *")
	tests := []struct {
		name    string
		spec    string
		frac    float64
		feedMin time.Duration
		out     outcome
		lim     limits
		want    time.Duration // after now
	}{
		{name: "@every on success", spec: "@every 15m", want: 15 * time.Minute},
		{name: "cron spec fires at its time", spec: "0 * * * *", want: 53 * time.Minute},
		{name: "jitter adds up to a tenth of the interval", spec: "@every 15m", frac: 0.5, want: 15*time.Minute + 45*time.Second},
		{name: "cron jitter is a tenth of its period", spec: "0 * * * *", frac: 0.5, want: 53*time.Minute + 3*time.Minute},
		{name: "Retry-After stretches", spec: "@every 15m", out: outcome{retryAfter: 2 * time.Hour}, want: 2 * time.Hour},
		{name: "max-age stretches", spec: "@every 15m", out: outcome{maxAge: time.Hour}, want: time.Hour},
		{name: "RSS ttl stretches", spec: "@every 15m", out: outcome{ttl: 3 * time.Hour}, want: 3 * time.Hour},
		{name: "shorter hints change nothing", spec: "@every 15m", out: outcome{maxAge: time.Minute, ttl: time.Minute}, want: 15 * time.Minute},
		{name: "largest hint wins", spec: "@every 15m", out: outcome{maxAge: time.Hour, ttl: 2 * time.Hour}, want: 2 * time.Hour},
		{name: "hints never beyond the maximum", spec: "@every 15m", out: outcome{maxAge: 72 * time.Hour}, want: 24 * time.Hour},
		{name: "schedule below the minimum", spec: "@every 1m", want: 5 * time.Minute},
		{name: "feed minimum raises the floor", spec: "@every 15m", feedMin: time.Hour, want: time.Hour},
		{name: "global minimum wins over a lower feed minimum", spec: "@every 1m", feedMin: 2 * time.Minute, want: 5 * time.Minute},
		{name: "first failure waits one interval", spec: "@every 15m", out: outcome{failures: 1}, want: 15 * time.Minute},
		{name: "third failure waits four", spec: "@every 15m", out: outcome{failures: 3}, want: time.Hour},
		{name: "backoff caps at MaxBackoff", spec: "@every 15m", out: outcome{failures: 20}, want: 6 * time.Hour},
		{name: "backoff of a huge run does not overflow", spec: "@every 15m", out: outcome{failures: 1 << 30}, want: 6 * time.Hour},
		{name: "backoff keeps the jitter", spec: "@every 15m", frac: 0.5, out: outcome{failures: 20}, want: 6*time.Hour + 45*time.Second},
		{name: "backoff never beyond MaxInterval", spec: "@every 15m", out: outcome{failures: 20},
			lim: limits{min: 5 * time.Minute, max: 2 * time.Hour, maxBackoff: 6 * time.Hour}, want: 2 * time.Hour},
		{name: "backoff starts from the minimum", spec: "@every 1m", out: outcome{failures: 2}, want: 10 * time.Minute},
		{name: "backoff of an hourly cron feed", spec: "0 * * * *", out: outcome{failures: 2}, want: 2 * time.Hour},
		{name: "429 Retry-After longer than the backoff", spec: "@every 15m", out: outcome{failures: 1, retryAfter: 3 * time.Hour}, want: 3 * time.Hour},
		{name: "429 Retry-After shorter than the backoff", spec: "@every 15m", out: outcome{failures: 4, retryAfter: time.Minute}, want: 2 * time.Hour},
		{name: "gone waits the maximum", spec: "@every 15m", out: outcome{failures: 1, gone: true}, want: 24 * time.Hour},
		{name: "gone waits the maximum whatever the feed minimum", spec: "@every 15m", feedMin: 48 * time.Hour, out: outcome{failures: 1, gone: true}, want: 48 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := lim
			if tt.lim != (limits{}) {
				l = tt.lim
			}
			s := every15
			switch tt.spec {
			case "0 * * * *":
				s = hourly
			case "@every 15m":
			default:
				s = mustSchedule(t, tt.spec)
			}
			got := nextCheck(now, s, tt.frac, tt.feedMin, tt.out, l).Sub(now)
			if got != tt.want {
				t.Errorf("got next check in %s, want %s", got, tt.want)
			}
		})
	}
}

func TestJitterIsStableAndSpread(t *testing.T) {
	const n = 1000
	base := 15 * time.Minute
	buckets := map[time.Duration]int{}
	for i := range n {
		u := fmt.Sprintf("https://feed-%d.example/rss", i)
		j := jitterFor(jitterFrac(u), base)
		if again := jitterFor(jitterFrac(u), base); again != j {
			t.Fatalf("%s: got jitter %s then %s, want the same", u, j, again)
		}
		if j < 0 || j >= base/10 {
			t.Fatalf("%s: got jitter %s, want within [0, %s)", u, j, base/10)
		}
		buckets[j.Truncate(10*time.Second)]++
	}
	// 90 s of jitter in 9 buckets of 10 s: about 111 feeds each.
	if len(buckets) != 9 {
		t.Errorf("got %d of 9 ten-second buckets used, want all", len(buckets))
	}
	for b, c := range buckets {
		if c > 2*n/9 {
			t.Errorf("bucket %s holds %d feeds, want about %d", b, c, n/9)
		}
	}
}

func TestHostOf(t *testing.T) {
	tests := []struct{ url, moved, want string }{
		{"https://Example.COM/feed", "", "example.com"},
		{"http://example.com:8080/rss", "", "example.com:8080"},
		{"https://old.example/rss", "https://new.example/rss", "new.example"},
		{"/var/feeds/a.xml", "", "(local)"},
		{"file:///var/feeds/b.xml", "", "(local)"},
	}
	for _, tt := range tests {
		if got := hostOf(tt.url, tt.moved); got != tt.want {
			t.Errorf("hostOf(%q, %q) = %q, want %q", tt.url, tt.moved, got, tt.want)
		}
	}
}
