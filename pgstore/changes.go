package pgstore

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/accordwatch/accordwatch"
	"github.com/jackc/pgx/v5"
)

// itemChangesLock is the transaction advisory lock item writes take (see
// putItems). The key is "itemseqs" as a big-endian number, fixed forever.
const itemChangesLock int64 = 0x6974656d73657173

// ChangesSince returns up to limit items whose latest change is numbered
// above after, in change order, and the number of the last one returned
// (after itself when none). An item changed twice is returned once, at
// its latest number. Since numbers become visible in order (putItems),
// a reader that resumes from the last number it saw misses nothing.
func (s *Store) ChangesSince(ctx context.Context, after int64, limit int) (items []accordwatch.Item, last int64, err error) {
	rows, err := s.pool.Query(ctx, "SELECT change_seq, doc FROM items WHERE change_seq > $1 ORDER BY change_seq LIMIT $2", after, limit)
	if err != nil {
		return nil, after, fmt.Errorf("read item changes after %d: %w", after, err)
	}
	last = after
	var seq int64
	var raw []byte
	_, err = pgx.ForEachRow(rows, []any{&seq, &raw}, func() error {
		var it accordwatch.Item
		if err := json.Unmarshal(raw, &it); err != nil {
			return fmt.Errorf("decode item at change %d: %w", seq, err)
		}
		items = append(items, it)
		last = seq
		return nil
	})
	if err != nil {
		return nil, after, fmt.Errorf("read item changes after %d: %w", after, err)
	}
	return items, last, nil
}

// LastChange is the number of the latest item change, 0 when none.
func (s *Store) LastChange(ctx context.Context) (int64, error) {
	var n int64
	if err := s.pool.QueryRow(ctx, "SELECT coalesce(max(change_seq), 0) FROM items").Scan(&n); err != nil {
		return 0, fmt.Errorf("read the last item change: %w", err)
	}
	return n, nil
}
