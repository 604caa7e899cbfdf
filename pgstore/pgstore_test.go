package pgstore_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/accordwatch/accordwatch"
	"github.com/accordwatch/accordwatch/internal/pgtest"
	"github.com/accordwatch/accordwatch/pgstore"
	"github.com/accordwatch/accordwatch/store"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func open(t *testing.T) (*pgstore.Store, accordwatch.Secret) {
	t.Helper()
	url := accordwatch.Secret(pgtest.Database(t))
	s, err := pgstore.Open(t.Context(), url, pgstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, url
}

func TestMigrationsApplyOnceUnderConcurrentOpens(t *testing.T) {
	url := accordwatch.Secret(pgtest.Database(t))
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			s, err := pgstore.Open(t.Context(), url, pgstore.Options{})
			if err == nil {
				s.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("concurrent opens: %v", err)
	}
	list, unknown, err := pgstore.MigrationStatus(t.Context(), url)
	if err != nil || len(unknown) != 0 || len(list) == 0 {
		t.Fatalf("status: %v %v %v", list, unknown, err)
	}
	for _, m := range list {
		if m.Applied.IsZero() {
			t.Errorf("migration %04d_%s: got pending, want applied", m.Version, m.Name)
		}
	}
	if n, err := pgstore.Migrate(t.Context(), url); err != nil || n != 0 {
		t.Errorf("Migrate on a migrated database: applied %d, err %v; want 0, nil", n, err)
	}
}

func TestMigrationStatusOfAnEmptyDatabase(t *testing.T) {
	url := accordwatch.Secret(pgtest.Database(t))
	list, _, err := pgstore.MigrationStatus(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) == 0 || !list[0].Applied.IsZero() || list[0].Version != 1 {
		t.Errorf("status of an empty database: got %+v, want version 1 pending", list)
	}
	// Status changes nothing: a second look still shows it pending.
	list, _, _ = pgstore.MigrationStatus(t.Context(), url)
	if !list[0].Applied.IsZero() {
		t.Error("MigrationStatus applied a migration")
	}
}

func TestErrorsNeverShowThePassword(t *testing.T) {
	c := pgtest.Shared(t)
	const pw = "hunter2-s3cret"
	for _, url := range []string{
		// A user the server does not know, with a password.
		fmt.Sprintf("postgres://nobody:%s@127.0.0.1:%d/postgres?sslmode=disable&connect_timeout=5", pw, c.Port),
		// A port nothing listens on.
		fmt.Sprintf("postgres://postgres:%s@127.0.0.1:1/postgres?sslmode=disable&connect_timeout=2", pw),
		// Not a URL pgx can parse.
		fmt.Sprintf("postgres://postgres:%s@127.0.0.1:99999999/x", pw),
		fmt.Sprintf("host=127.0.0.1 port=1 password=%s connect_timeout=2 sslmode=disable", pw),
	} {
		_, err := pgstore.Open(t.Context(), accordwatch.Secret(url), pgstore.Options{})
		if err == nil {
			t.Errorf("Open(%s) succeeded", accordwatch.RedactURL(url))
			continue
		}
		if strings.Contains(err.Error(), pw) || strings.Contains(fmt.Sprintf("%+v", err), pw) {
			t.Errorf("error shows the password: %v", err)
		}
	}
}

func TestNewerSchemaIsRefused(t *testing.T) {
	_, url := open(t)
	// A newer build recorded version 999; this build must not write.
	if err := execSQL(t, url, "INSERT INTO schema_migrations (version, name) VALUES (999, 'future')"); err != nil {
		t.Fatal(err)
	}
	_, err := pgstore.Open(t.Context(), url, pgstore.Options{})
	if !errors.Is(err, pgstore.ErrNewerSchema) {
		t.Errorf("Open of a newer schema: got %v, want ErrNewerSchema", err)
	}
	_, unknown, err := pgstore.MigrationStatus(t.Context(), url)
	if err != nil || !slices.Equal(unknown, []int{999}) {
		t.Errorf("status: unknown %v err %v, want [999]", unknown, err)
	}
}

func execSQL(t *testing.T, url accordwatch.Secret, sql string) error {
	t.Helper()
	return pgstore.ExecForTest(t.Context(), url, sql)
}

func TestItemsKeepFirstFetchedAndJSON(t *testing.T) {
	s, _ := open(t)
	t0 := time.Date(2026, 11, 20, 10, 0, 0, 123456789, time.UTC)
	it := accordwatch.Item{ID: "a", FeedURL: "https://f.example/rss", Title: "NUL \x00 and ünïcode", ContentHash: "h1", Published: t0, Fetched: t0}
	if _, err := s.CommitBatch(store.Batch{Items: []accordwatch.Item{it}}); err != nil {
		t.Fatal(err)
	}
	it2 := it
	it2.ContentHash, it2.Fetched, it2.Title = "h2", t0.Add(time.Hour), "changed"
	if _, err := s.CommitBatch(store.Batch{Items: []accordwatch.Item{it2}}); err != nil {
		t.Fatal(err)
	}
	got, ok, err := s.Item("a")
	if !ok || err != nil {
		t.Fatalf("Item: %v %v", ok, err)
	}
	if !got.Fetched.Equal(t0) || got.Title != "changed" || got.ContentHash != "h2" {
		t.Errorf("got fetched %v title %q hash %q; want the first fetched time %v kept and the rest replaced", got.Fetched, got.Title, got.ContentHash, t0)
	}
	if _, err := s.CommitBatch(store.Batch{Items: []accordwatch.Item{{Title: "no id"}}}); err == nil {
		t.Error("an item without ID was committed")
	}
}

func TestEachItemInIDOrderAcrossPages(t *testing.T) {
	s, _ := open(t)
	var items []accordwatch.Item
	var want []string
	for i := range 2500 {
		id := fmt.Sprintf("id-%05d", 2499-i)
		items = append(items, accordwatch.Item{ID: id, ContentHash: "h"})
		want = append(want, id)
	}
	// Byte order, as bbolt: upper case before lower case.
	items = append(items, accordwatch.Item{ID: "Z", ContentHash: "h"})
	want = append([]string{"Z"}, want...)
	slices.Sort(want)
	if _, err := s.CommitBatch(store.Batch{Items: items}); err != nil {
		t.Fatal(err)
	}
	var got []string
	if err := s.EachItem(func(it accordwatch.Item) error { got = append(got, it.ID); return nil }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Errorf("EachItem: got %d items starting %v, want %d in byte order", len(got), got[:3], len(want))
	}
	if n, err := s.CountItems(); err != nil || n != len(want) {
		t.Errorf("CountItems: got %d %v, want %d", n, err, len(want))
	}
	stop := errors.New("stop")
	n := 0
	if err := s.EachItem(func(accordwatch.Item) error { n++; return stop }); !errors.Is(err, stop) || n != 1 {
		t.Errorf("EachItem stops at fn's error: got %v after %d", err, n)
	}
}

func TestRegisteredFeeds(t *testing.T) {
	s, _ := open(t)
	a := accordwatch.Feed{URL: "https://b.example/rss", Name: "b"}
	b := accordwatch.Feed{URL: "https://a.example/rss", Name: "a"}
	added, dups, err := s.AddFeeds([]accordwatch.Feed{a, b, a})
	if err != nil || len(added) != 2 || len(dups) != 1 {
		t.Fatalf("AddFeeds: added %v dups %v err %v", added, dups, err)
	}
	list, err := s.RegisteredFeeds()
	if err != nil || len(list) != 2 || list[0].URL != b.URL {
		t.Errorf("RegisteredFeeds: got %v %v, want by URL", list, err)
	}
	if ok, err := s.RemoveFeed(a.URL); !ok || err != nil {
		t.Errorf("RemoveFeed: %v %v", ok, err)
	}
	if ok, _ := s.RemoveFeed(a.URL); ok {
		t.Error("RemoveFeed of a removed feed: got ok")
	}
	if _, _, err := s.AddFeeds([]accordwatch.Feed{{Name: "no url"}}); err == nil {
		t.Error("a feed without URL was added")
	}
}

func TestSilences(t *testing.T) {
	s, _ := open(t)
	t0 := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	for _, sl := range []accordwatch.Silence{
		{ID: "late", Query: "x", Created: t0.Add(time.Hour), Expires: t0.Add(48 * time.Hour)},
		{ID: "early", Query: "y", Created: t0, Expires: t0.Add(time.Hour)},
	} {
		if err := s.AddSilence(sl); err != nil {
			t.Fatal(err)
		}
	}
	l, err := s.Silences()
	if err != nil || len(l) != 2 || l[0].ID != "early" {
		t.Fatalf("Silences: %v %v, want oldest first", l, err)
	}
	now := t0.Add(2 * time.Hour)
	sl, ok, err := s.ExpireSilence("late", now)
	if !ok || err != nil || !sl.Expires.Equal(now) {
		t.Errorf("ExpireSilence: %+v %v %v", sl, ok, err)
	}
	if sl, _, _ := s.ExpireSilence("early", now); !sl.Expires.Equal(t0.Add(time.Hour)) {
		t.Errorf("expiring an expired silence moved its end to %v", sl.Expires)
	}
	if _, ok, err := s.ExpireSilence("nope", now); ok || err != nil {
		t.Errorf("ExpireSilence(nope): %v %v", ok, err)
	}
	if err := s.AddSilence(accordwatch.Silence{}); err == nil {
		t.Error("a silence without ID was added")
	}
}

func TestSingletonsForgetOlderThanSince(t *testing.T) {
	s, _ := open(t)
	t0 := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	_, err := s.CommitBatch(store.Batch{Singletons: []store.Singleton{{ItemID: "old", Time: t0.Add(-72 * time.Hour)}, {ItemID: "b", Time: t0}, {ItemID: "a", Time: t0}}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.CommitBatch(store.Batch{SingletonsSince: t0.Add(-time.Hour), Singletons: []store.Singleton{{ItemID: "stale", Time: t0.Add(-2 * time.Hour)}, {ItemID: "c", Time: t0.Add(time.Minute)}}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	s.RecentSingletons(time.Time{}, func(id string) error { got = append(got, id); return nil })
	if want := []string{"a", "b", "c"}; !slices.Equal(got, want) {
		t.Errorf("singletons: got %v, want %v (old forgotten, stale dropped, time then ID order)", got, want)
	}
}

func TestDigestClaims(t *testing.T) {
	s, _ := open(t)
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	const week = "2026-W47"
	claimed, interrupted, _, err := s.ClaimDigest(week, now, false)
	if !claimed || interrupted || err != nil {
		t.Fatalf("first claim: %v %v %v", claimed, interrupted, err)
	}
	if _, _, _, err := s.ClaimDigest(week, now, false); err == nil {
		t.Error("a second claim by this process while posting succeeded")
	}
	if _, ok, _ := s.DigestSent(week); ok {
		t.Error("a claimed week reads as sent")
	}
	if err := s.ReleaseDigest(week); err != nil {
		t.Fatal(err)
	}
	if claimed, _, _, err := s.ClaimDigest(week, now, false); !claimed || err != nil {
		t.Fatalf("claim after release: %v %v", claimed, err)
	}
	sent := now.Add(time.Minute)
	if err := s.ConfirmDigest(week, sent); err != nil {
		t.Fatal(err)
	}
	if at, ok, err := s.DigestSent(week); !ok || err != nil || !at.Equal(sent) {
		t.Errorf("DigestSent: %v %v %v", at, ok, err)
	}
	claimed, _, at, err := s.ClaimDigest(week, now, false)
	if claimed || err != nil || !at.Equal(sent) {
		t.Errorf("claim of a sent week: claimed %v at %v err %v", claimed, at, err)
	}
	// Forced, then released: the week is sent as before.
	if claimed, _, _, _ := s.ClaimDigest(week, now, true); !claimed {
		t.Fatal("forced claim refused")
	}
	s.ReleaseDigest(week)
	if at, ok, _ := s.DigestSent(week); !ok || !at.Equal(sent) {
		t.Errorf("after a released forced claim: sent %v %v, want %v", at, ok, sent)
	}

	// Of many concurrent claims of a new week on one store, exactly one wins.
	var mu sync.Mutex
	wins := 0
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if c, _, _, err := s.ClaimDigest("2026-W48", now, false); c && err == nil {
				mu.Lock()
				wins++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if wins != 1 {
		t.Errorf("concurrent claims: %d won, want 1", wins)
	}
}

func TestCreatedIsKept(t *testing.T) {
	s, url := open(t)
	c1 := s.Created()
	if c1.IsZero() {
		t.Fatal("Created is zero")
	}
	s2, err := pgstore.Open(context.Background(), url, pgstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if c2 := s2.Created(); !c2.Equal(c1) {
		t.Errorf("Created on reopen: got %v, want %v", c2, c1)
	}
}
