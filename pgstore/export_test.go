package pgstore

import (
	"context"

	"github.com/accordwatch/accordwatch"
)

// ExecForTest runs one statement on the database at url.
func ExecForTest(ctx context.Context, url accordwatch.Secret, sql string) error {
	pool, err := connect(ctx, url)
	if err != nil {
		return err
	}
	defer pool.Close()
	_, err = pool.Exec(ctx, sql)
	return err
}
