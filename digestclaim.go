package accordwatch

import (
	"fmt"
	"time"
)

// A weekly digest is claimed, posted, then confirmed, so that the
// schedule, its catch-up and `digest --post` send each week once. The
// rules live here, once; each store only reads and writes the record in
// one transaction.

// Digest record states.
const (
	DigestPosting = "posting"
	DigestSent    = "sent"
)

// DigestRecord is one week's delivery record.
type DigestRecord struct {
	// State is DigestPosting from the claim until the confirm, then
	// DigestSent.
	State string `json:"state"`
	// Session is the process that claimed it: a random name made once per
	// process. A claim under another session was left by a process that
	// stopped before it confirmed or released.
	Session   string    `json:"session,omitempty"`
	ClaimedAt time.Time `json:"claimed_at,omitzero"`
	SentAt    time.Time `json:"sent_at,omitzero"`
	// PrevSentAt is when a week re-posted with force was posted before;
	// a release puts it back if the new post fails.
	PrevSentAt time.Time `json:"prev_sent_at,omitzero"`
}

// ClaimDigest decides a claim of a week whose stored record is old (found
// false when there is none) by session at now. When claimed, next is the
// record to write.
//
//   - A week already sent is not claimed: claimed=false, sentAt says when.
//     With force it is claimed again (sentAt still says when), and that
//     earlier time comes back if the new post is released.
//   - A week being posted by this session is an error unless force.
//   - A week claimed by another session is taken over, with
//     interrupted=true: that poster may have stopped after Slack accepted
//     the digest and before it was recorded.
//
// That last case is a choice: a digest is delivered at least once, like
// alerts, never at most once. Posting it again risks a duplicate in the
// short window between Slack's answer and the confirm; skipping it would
// risk a week with no digest whenever a post failed in flight, which
// nobody would notice.
func ClaimDigest(old DigestRecord, found bool, session string, now time.Time, force bool) (next DigestRecord, claimed, interrupted bool, sentAt time.Time, err error) {
	next = DigestRecord{State: DigestPosting, Session: session, ClaimedAt: now.UTC()}
	switch {
	case !found:
	case old.State == DigestSent:
		sentAt = old.SentAt
		if !force {
			return DigestRecord{}, false, false, sentAt, nil
		}
		next.PrevSentAt = old.SentAt
	case old.Session == session && !force:
		return DigestRecord{}, false, false, time.Time{}, fmt.Errorf("it is being posted since %s", old.ClaimedAt.Format(time.RFC3339))
	default:
		// Posting, by a process gone (or by this one, and forced).
		interrupted = old.Session != session
		next.PrevSentAt = old.PrevSentAt
	}
	return next, true, interrupted, sentAt, nil
}

// ConfirmedDigest is the record of a week whose digest Slack accepted at
// at, whatever the record said before.
func ConfirmedDigest(at time.Time) DigestRecord {
	return DigestRecord{State: DigestSent, SentAt: at.UTC()}
}

// ReleaseDigest decides what a release of a failed post leaves of rec:
// change is false when there is nothing to undo (no claim in progress);
// otherwise keep says whether next is written (a week re-posted with
// force is sent again as before) or the record is deleted (a week never
// sent has none).
func ReleaseDigest(rec DigestRecord) (next DigestRecord, keep, change bool) {
	if rec.State != DigestPosting {
		return DigestRecord{}, false, false
	}
	if !rec.PrevSentAt.IsZero() {
		return DigestRecord{State: DigestSent, SentAt: rec.PrevSentAt}, true, true
	}
	return DigestRecord{}, false, true
}
