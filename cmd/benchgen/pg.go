package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/accordwatch/accordwatch"
)

// The PostgreSQL side of the benchmark (issue 15): the same generated
// items (same seed) in PostgreSQL 15 full-text search, tuned as a
// competent engineer would — monthly partitions by published date, a
// stored weighted tsvector (title A, text B) with a GIN index, GIN
// indexes on the tag arrays, a btree on (published, id) — and asked the
// same questions as accordwatch: newest first, 20 hits, a count capped at
// 10,000, facets over the newest 10,000 matches when the page shows them.

// pgKind is how a query set is asked of PostgreSQL.
type pgKind int

const (
	// pgPage: the newest 20 matches, then the count capped at 10,000.
	pgPage pgKind = iota + 1
	// pgFacets: pgPage, then the facets over the newest 10,000 matches.
	pgFacets
	// pgOffset: a deep page by offset, walking (published, id) first and
	// fetching only the page's rows, then the capped count.
	pgOffset
	// pgCursor: a deep page by keyset on (published, id); the count is
	// carried by the client from the first page, as accordwatch's cursor
	// does.
	pgCursor
	// pgCursorFacets: pgCursor plus the facets.
	pgCursorFacets
	// pgRelevance: the 20 best by ts_rank, then the exact count.
	pgRelevance
)

// pgQuery is one question in SQL: a WHERE clause over items with its
// arguments ($1…), and for deep pages the offset.
type pgQuery struct {
	where  string
	args   []any
	tsq    string // the tsquery expression, for relevance
	offset int
}

func pgTermQueries(qs []string) []pgQuery {
	var out []pgQuery
	for _, q := range qs {
		out = append(out, pgQuery{where: "tsv @@ plainto_tsquery('english', $1)", args: []any{q}, tsq: "plainto_tsquery('english', $1)"})
	}
	return out
}

func pgPhraseQueries(qs []string) []pgQuery {
	var out []pgQuery
	for _, q := range qs {
		q = strings.Trim(q, `"`)
		out = append(out, pgQuery{where: "tsv @@ phraseto_tsquery('english', $1)", args: []any{q}, tsq: "phraseto_tsquery('english', $1)"})
	}
	return out
}

// pgFieldedQueries are querySets' fielded queries in SQL, in the same
// order. Tag values are stored lower-cased, as the index matches them.
func pgFieldedQueries(end time.Time) []pgQuery {
	since := end.Add(-30 * 24 * time.Hour)
	lo := time.Date(end.Year(), end.Month(), end.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, -30)
	hi := time.Date(end.Year(), end.Month(), end.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, 1)
	return []pgQuery{
		{where: "state @> ARRAY['russia'] AND published >= $1", args: []any{since}},
		{where: "signatory @> ARRAY['microsoft'] AND severity >= 50 AND published >= $1", args: []any{since}},
		{where: "state @> ARRAY['china'] AND attack @> ARRAY['espionage'] AND published >= $1", args: []any{since}},
		{where: "attack @> ARRAY['ransomware'] AND feed = 'the record' AND published >= $1", args: []any{since}},
		{where: "state_linked AND published >= $1 AND published < $2", args: []any{lo, hi}},
	}
}

// pgCols are what a result page shows (as accordwatch's hits carry).
const pgCols = "id, title, published, severity, feed, signatory, state, actor, attack, principle, left(body, 1024)"

// pgSchema creates the partitioned table; the indexes come after the load.
func pgSchema(end time.Time, years int) []string {
	stmts := []string{`CREATE TABLE items (
	id text NOT NULL,
	published timestamptz NOT NULL,
	title text NOT NULL,
	body text NOT NULL,
	feed text NOT NULL,
	signatory text[] NOT NULL,
	company text[] NOT NULL,
	actor text[] NOT NULL,
	state text[] NOT NULL,
	attack text[] NOT NULL,
	principle text[] NOT NULL,
	state_linked boolean NOT NULL,
	severity int NOT NULL,
	tsv tsvector GENERATED ALWAYS AS (setweight(to_tsvector('english', title), 'A') || setweight(to_tsvector('english', body), 'B')) STORED
) PARTITION BY RANGE (published)`}
	first := end.Add(-time.Duration(years) * 365 * 24 * time.Hour)
	m := time.Date(first.Year(), first.Month(), 1, 0, 0, 0, 0, time.UTC)
	for !m.After(end) {
		next := m.AddDate(0, 1, 0)
		stmts = append(stmts, fmt.Sprintf("CREATE TABLE items_%s PARTITION OF items FOR VALUES FROM ('%s') TO ('%s')",
			m.Format("2006_01"), m.Format(time.RFC3339), next.Format(time.RFC3339)))
		m = next
	}
	return stmts
}

// pgIndexes are built after the load, two at a time.
func pgIndexes() []string {
	stmts := []string{
		"CREATE INDEX items_tsv ON items USING gin (tsv)",
		"CREATE INDEX items_published_id ON items (published, id)",
		"CREATE INDEX items_feed ON items (feed, published)",
	}
	for _, f := range []string{"signatory", "company", "actor", "state", "attack", "principle"} {
		stmts = append(stmts, fmt.Sprintf("CREATE INDEX items_%s ON items USING gin (%s)", f, f))
	}
	return stmts
}

type pgLoadStats struct {
	copying, indexing time.Duration
	bytes             int64
}

// pgLoad creates the schema, copies n generated items in over two
// connections (the index build uses both cores too), builds the indexes
// and analyses.
func pgLoad(ctx context.Context, url string, gen *generator, n int, end time.Time, years int, progress io.Writer) (pgLoadStats, error) {
	var st pgLoadStats
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return st, fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(ctx)
	for _, s := range pgSchema(end, years) {
		if _, err := conn.Exec(ctx, s); err != nil {
			return st, fmt.Errorf("schema: %w", err)
		}
	}
	start := time.Now()
	rows := make(chan []any, 1024)
	genErr := make(chan error, 1)
	go func() {
		defer close(rows)
		for i := range n {
			if i%1000 == 0 && ctx.Err() != nil {
				genErr <- ctx.Err()
				return
			}
			rows <- pgRow(gen.item())
		}
		genErr <- nil
	}()
	cols := []string{"id", "published", "title", "body", "feed", "signatory", "company", "actor", "state", "attack", "principle", "state_linked", "severity"}
	var copied sync.WaitGroup
	errs := make([]error, 2)
	for w := range errs {
		copied.Go(func() {
			c, err := pgx.Connect(ctx, url)
			if err != nil {
				errs[w] = fmt.Errorf("connect: %w", err)
				for range rows { // let the generator finish
				}
				return
			}
			defer c.Close(ctx)
			_, err = c.CopyFrom(ctx, pgx.Identifier{"items"}, cols, &chanSource{rows: rows})
			if err != nil {
				errs[w] = fmt.Errorf("copy: %w", err)
				for range rows {
				}
			}
		})
	}
	copied.Wait()
	if err := errors.Join(append(errs, <-genErr)...); err != nil {
		return st, err
	}
	st.copying = time.Since(start)
	fmt.Fprintf(progress, "postgres: copied %d items in %s\n", n, st.copying.Round(time.Second))

	start = time.Now()
	stmts := make(chan string)
	go func() {
		defer close(stmts)
		for _, s := range pgIndexes() {
			stmts <- s
		}
	}()
	var built sync.WaitGroup
	for w := range errs {
		errs[w] = nil
		built.Go(func() {
			c, err := pgx.Connect(ctx, url)
			if err != nil {
				errs[w] = fmt.Errorf("connect: %w", err)
				return
			}
			defer c.Close(ctx)
			for s := range stmts {
				if errs[w] != nil {
					continue
				}
				if _, err := c.Exec(ctx, s); err != nil {
					errs[w] = fmt.Errorf("%s: %w", s, err)
				}
			}
		})
	}
	built.Wait()
	if err := errors.Join(errs...); err != nil {
		return st, err
	}
	// VACUUM sets the visibility map, so deep pages walk (published, id)
	// with index-only scans.
	if _, err := conn.Exec(ctx, "VACUUM ANALYZE items"); err != nil {
		return st, fmt.Errorf("vacuum: %w", err)
	}
	st.indexing = time.Since(start)
	if err := conn.QueryRow(ctx, "SELECT pg_database_size(current_database())").Scan(&st.bytes); err != nil {
		return st, fmt.Errorf("database size: %w", err)
	}
	return st, nil
}

// pgRow is an item as COPY columns; tags lower-cased as the index
// matches them.
func pgRow(it accordwatch.Item) []any {
	principles := make([]string, len(it.Tags.Principles))
	for i, p := range it.Tags.Principles {
		principles[i] = string(p)
	}
	lower := func(vals []string) []string {
		out := make([]string, len(vals))
		for i, v := range vals {
			out[i] = strings.ToLower(v)
		}
		return out
	}
	return []any{it.ID, it.Published.UTC(), it.Title, it.FullText(), strings.ToLower(it.FeedName),
		lower(it.Tags.Signatories), lower(it.Tags.Companies), lower(it.Tags.Actors), lower(it.Tags.States),
		lower(it.Tags.AttackTypes), lower(principles), it.Tags.StateLinked, it.Tags.Severity}
}

// chanSource feeds COPY from a channel shared by the copying connections.
type chanSource struct {
	rows <-chan []any
	row  []any
}

func (s *chanSource) Next() bool {
	var ok bool
	s.row, ok = <-s.rows
	return ok
}
func (s *chanSource) Values() ([]any, error) { return s.row, nil }
func (s *chanSource) Err() error             { return nil }

// pgBench loads the items into a fresh cluster's database and times the
// query sets the way querySets describes them.
func pgBench(ctx context.Context, w io.Writer, gen *generator, parent, buffers string, n, years, runs int, end time.Time, only string, verbose bool) ([]timing, error) {
	fmt.Fprintf(w, "\nbenchgen -pg: %d items, PostgreSQL 15 (shared_buffers %s), load %s\n", n, buffers, loadavg())
	c, err := startPG(parent, buffers)
	if err != nil {
		return nil, err
	}
	defer c.Stop()
	if err := c.CreateDatabase("bench"); err != nil {
		return nil, err
	}
	url := c.URL("bench") + "&timezone=UTC"
	st, err := pgLoad(ctx, url, gen, n, end, years, w)
	if err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	total := st.copying + st.indexing
	fmt.Fprintf(w, "postgres loading: %d items in %s = %.0f items/s (COPY %s, indexes + VACUUM ANALYZE %s); database %.2f GB; load %s\n",
		n, total.Round(time.Second), float64(n)/total.Seconds(), st.copying.Round(time.Second), st.indexing.Round(time.Second), float64(st.bytes)/1e9, loadavg())

	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(ctx)
	timingHeader(w, "PostgreSQL (newest first, 20 rows)")
	var out []timing
	for _, set := range querySets(end) {
		if !strings.HasPrefix(set.name, only) || set.pg == nil {
			continue
		}
		cursors := make([][]any, len(set.pg))
		if set.cursorPage > 0 {
			for i, q := range set.pg {
				if cursors[i], err = pgCursorAt(ctx, conn, q, (set.cursorPage-1)*20); err != nil {
					return nil, err
				}
			}
		}
		tm, err := measure(set, runs, len(set.pg), verbose, w, func(i int) (string, error) {
			return pgAsk(ctx, conn, set.pgKind, set.pg[i], cursors[i])
		})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", set.name, err)
		}
		out = append(out, tm)
	}
	fmt.Fprintf(w, "load after the PostgreSQL run: %s\n", loadavg())
	return out, nil
}

// pgCursorAt returns the (published, id) of the row before offset.
func pgCursorAt(ctx context.Context, conn *pgx.Conn, q pgQuery, offset int) ([]any, error) {
	var at time.Time
	var id string
	sql := fmt.Sprintf("SELECT published, id FROM items WHERE %s ORDER BY published DESC, id DESC OFFSET %d LIMIT 1", q.where, offset-1)
	if err := conn.QueryRow(ctx, sql, q.args...).Scan(&at, &id); err != nil {
		return nil, fmt.Errorf("cursor: %w", err)
	}
	return []any{at, id}, nil
}

// pgAsk asks one question and returns the count shown with the page.
func pgAsk(ctx context.Context, conn *pgx.Conn, kind pgKind, q pgQuery, cursor []any) (string, error) {
	next := "$" + strconv.Itoa(len(q.args)+1)
	var total string
	var err error
	switch kind {
	case pgPage, pgFacets:
		if err = pgRows(ctx, conn, fmt.Sprintf("SELECT %s FROM items WHERE %s ORDER BY published DESC, id DESC LIMIT 20", pgCols, q.where), q.args...); err == nil {
			total, err = pgCappedCount(ctx, conn, q)
		}
		if err == nil && kind == pgFacets {
			err = pgFacetCounts(ctx, conn, q)
		}
	case pgOffset:
		sql := fmt.Sprintf(`SELECT %s FROM items JOIN (
	SELECT published, id FROM items WHERE %s ORDER BY published DESC, id DESC OFFSET %d LIMIT 20
) page USING (published, id) ORDER BY published DESC, id DESC`, pgCols, q.where, q.offset)
		if err = pgRows(ctx, conn, sql, q.args...); err == nil {
			total, err = pgCappedCount(ctx, conn, q)
		}
	case pgCursor, pgCursorFacets:
		sql := fmt.Sprintf("SELECT %s FROM items WHERE %s AND (published, id) < (%s, $%d) ORDER BY published DESC, id DESC LIMIT 20",
			pgCols, q.where, next, len(q.args)+2)
		err = pgRows(ctx, conn, sql, append(append([]any{}, q.args...), cursor...)...)
		total = "(carried)"
		if err == nil && kind == pgCursorFacets {
			err = pgFacetCounts(ctx, conn, q)
		}
	case pgRelevance:
		sql := fmt.Sprintf("SELECT %s, ts_rank(tsv, %s) AS rank FROM items WHERE %s ORDER BY rank DESC, published DESC LIMIT 20", pgCols, q.tsq, q.where)
		if err = pgRows(ctx, conn, sql, q.args...); err == nil {
			var n int64
			err = conn.QueryRow(ctx, "SELECT count(*) FROM items WHERE "+q.where, q.args...).Scan(&n)
			total = strconv.FormatInt(n, 10)
		}
	default:
		err = fmt.Errorf("unknown kind %d", kind)
	}
	return total, err
}

// pgRows runs a query and reads every row, as a page would.
func pgRows(ctx context.Context, conn *pgx.Conn, sql string, args ...any) error {
	rows, err := conn.Query(ctx, sql, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if _, err := rows.Values(); err != nil {
			return err
		}
	}
	return rows.Err()
}

// pgCappedCount counts matches up to 10,000, as "10,000+".
func pgCappedCount(ctx context.Context, conn *pgx.Conn, q pgQuery) (string, error) {
	var n int64
	err := conn.QueryRow(ctx, "SELECT count(*) FROM (SELECT 1 FROM items WHERE "+q.where+" LIMIT 10000) m", q.args...).Scan(&n)
	if n == 10000 {
		return "10000+", err
	}
	return strconv.FormatInt(n, 10), err
}

// pgFacetCounts counts the facets accordwatch shows (six tag facets and
// hits per day) over the newest 10,000 matches, and keeps each facet's top
// values as the page would.
func pgFacetCounts(ctx context.Context, conn *pgx.Conn, q pgQuery) error {
	sql := fmt.Sprintf(`WITH m AS (
	SELECT published, feed, signatory, state, actor, attack, principle FROM items WHERE %s ORDER BY published DESC LIMIT 10000
)
SELECT 'signatory', v, count(*) FROM m, unnest(signatory) v GROUP BY v
UNION ALL SELECT 'state', v, count(*) FROM m, unnest(state) v GROUP BY v
UNION ALL SELECT 'actor', v, count(*) FROM m, unnest(actor) v GROUP BY v
UNION ALL SELECT 'attack', v, count(*) FROM m, unnest(attack) v GROUP BY v
UNION ALL SELECT 'principle', v, count(*) FROM m, unnest(principle) v GROUP BY v
UNION ALL SELECT 'feed', feed, count(*) FROM m GROUP BY feed
UNION ALL SELECT 'day', to_char(published, 'YYYY-MM-DD'), count(*) FROM m GROUP BY 2`, q.where)
	rows, err := conn.Query(ctx, sql, q.args...)
	if err != nil {
		return fmt.Errorf("facets: %w", err)
	}
	defer rows.Close()
	top := map[string][]accordwatch.FacetCount{}
	for rows.Next() {
		var facet, value string
		var n int64
		if err := rows.Scan(&facet, &value, &n); err != nil {
			return fmt.Errorf("facets: %w", err)
		}
		top[facet] = append(top[facet], accordwatch.FacetCount{Value: value, Count: int(n)})
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("facets: %w", err)
	}
	for facet, counts := range top {
		if facet != "day" {
			slices.SortFunc(counts, func(a, b accordwatch.FacetCount) int {
				return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Value, b.Value))
			})
			top[facet] = counts[:min(len(counts), 10)]
		}
	}
	return nil
}

// sideBySide prints both systems' p50 and p99 per query set.
func sideBySide(w io.Writer, aw, pg []timing) {
	byName := map[string]timing{}
	for _, t := range pg {
		byName[t.set] = t
	}
	fmt.Fprintf(w, "\nside by side (GOMAXPROCS %d, load %s)\n", runtime.GOMAXPROCS(0), loadavg())
	fmt.Fprintf(w, "| query set | accordwatch p50 / p99 | PostgreSQL p50 / p99 | target (p99, 1M) | totals (accordwatch; PostgreSQL) |\n|---|---|---|---|---|\n")
	for _, a := range aw {
		p, ok := byName[a.set]
		pgs, pgTotals := "-", "-"
		if ok {
			pgs, pgTotals = ms(p.p50)+" / "+ms(p.p99), strings.Join(p.totals, " ")
		}
		target := "-"
		if a.target > 0 {
			target = "< " + ms(a.target)
		}
		fmt.Fprintf(w, "| %s | %s / %s | %s | %s | %s; %s |\n", a.set, ms(a.p50), ms(a.p99), pgs, target, strings.Join(a.totals, " "), pgTotals)
	}
}
