package pgstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/accordwatch/accordwatch/store"
	"github.com/jackc/pgx/v5"
)

// markArticles writes a batch's pending-article marks (an existing mark
// keeps its time and takes the new claim) and then clears those in done.
func markArticles(ctx context.Context, tx pgx.Tx, pending []store.PendingArticle, done []string) error {
	if len(pending) == 0 && len(done) == 0 {
		return nil
	}
	b := &pgx.Batch{}
	for _, p := range pending {
		if p.ItemID == "" {
			return errors.New("pending article without item ID")
		}
		b.Queue(`INSERT INTO article_pending (item_id, since_ns, claim_until_ns) VALUES ($1, $2, $3)
			ON CONFLICT (item_id) DO UPDATE SET claim_until_ns = EXCLUDED.claim_until_ns`,
			p.ItemID, nanos(p.Since), nanos(p.ClaimedUntil))
	}
	if len(done) > 0 {
		b.Queue("DELETE FROM article_pending WHERE item_id = ANY($1)", done)
	}
	return tx.SendBatch(ctx, b).Close()
}

// ClaimArticles claims, until until, up to limit pending articles whose
// claim ended by now, oldest mark first (ties by item ID). Rows another
// replica is claiming at this moment are skipped (FOR UPDATE SKIP LOCKED),
// and a claimed row is not returned again before its claim ends, so
// replicas resuming at once fetch each article once.
func (s *Store) ClaimArticles(ctx context.Context, now, until time.Time, limit int) ([]store.PendingArticle, error) {
	if limit <= 0 {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	rows, err := s.pool.Query(ctx, `WITH pick AS (
			SELECT item_id FROM article_pending WHERE claim_until_ns <= $1
			ORDER BY since_ns, item_id LIMIT $3
			FOR UPDATE SKIP LOCKED
		)
		UPDATE article_pending a SET claim_until_ns = $2 FROM pick WHERE a.item_id = pick.item_id
		RETURNING a.item_id, a.since_ns`, nanos(now), nanos(until), limit)
	if err != nil {
		return nil, fmt.Errorf("claim pending articles: %w", err)
	}
	var out []store.PendingArticle
	var id string
	var since int64
	if _, err := pgx.ForEachRow(rows, []any{&id, &since}, func() error {
		out = append(out, store.PendingArticle{ItemID: id, Since: time.Unix(0, since).UTC(), ClaimedUntil: until})
		return nil
	}); err != nil {
		return nil, fmt.Errorf("claim pending articles: %w", err)
	}
	// UPDATE ... RETURNING has no order of its own.
	sortPending(out)
	return out, nil
}

func sortPending(l []store.PendingArticle) {
	slices.SortFunc(l, func(a, b store.PendingArticle) int {
		if c := a.Since.Compare(b.Since); c != 0 {
			return c
		}
		return strings.Compare(a.ItemID, b.ItemID)
	})
}
