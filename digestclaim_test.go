package accordwatch

import (
	"testing"
	"time"
)

func TestDigestClaimRules(t *testing.T) {
	now := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	sent := ConfirmedDigest(now.Add(-time.Hour))
	mine := DigestRecord{State: DigestPosting, Session: "me", ClaimedAt: now}
	gone := DigestRecord{State: DigestPosting, Session: "gone", ClaimedAt: now, PrevSentAt: sent.SentAt}
	tests := []struct {
		name                 string
		old                  DigestRecord
		found, force         bool
		claimed, interrupted bool
		prev                 time.Time
		wantErr              bool
	}{
		{name: "fresh week", claimed: true},
		{name: "sent week", old: sent, found: true},
		{name: "sent week, forced", old: sent, found: true, force: true, claimed: true, prev: sent.SentAt},
		{name: "posting here", old: mine, found: true, wantErr: true},
		{name: "posting here, forced", old: mine, found: true, force: true, claimed: true},
		{name: "left by a process gone", old: gone, found: true, claimed: true, interrupted: true, prev: sent.SentAt},
	}
	for _, tt := range tests {
		next, claimed, interrupted, _, err := ClaimDigest(tt.old, tt.found, "me", now, tt.force)
		if (err != nil) != tt.wantErr || claimed != tt.claimed || interrupted != tt.interrupted || !next.PrevSentAt.Equal(tt.prev) {
			t.Errorf("%s: got %+v claimed %v interrupted %v err %v", tt.name, next, claimed, interrupted, err)
		}
		if claimed && (next.State != DigestPosting || next.Session != "me") {
			t.Errorf("%s: claim record %+v", tt.name, next)
		}
	}
	if _, _, change := ReleaseDigest(sent); change {
		t.Error("releasing a sent week changed it")
	}
	if next, keep, _ := ReleaseDigest(gone); !keep || next.State != DigestSent || !next.SentAt.Equal(sent.SentAt) {
		t.Errorf("release of a forced re-post: %+v keep %v", next, keep)
	}
	if _, keep, change := ReleaseDigest(mine); keep || !change {
		t.Error("release of a first post must delete the record")
	}
}
