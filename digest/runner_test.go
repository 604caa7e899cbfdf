package digest_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/accordwatch/accordwatch/digest"
	"github.com/accordwatch/accordwatch/store"
)

var _ digest.SentStore = (*store.Store)(nil)

// fakePoster records digests; fail makes the next n posts fail.
type fakePoster struct {
	mu    sync.Mutex
	posts []string // "week@local time"
	urls  []string
	fail  int
	clock *time.Time
}

func (p *fakePoster) SendDigest(ctx context.Context, channel string, r *digest.Report, htmlURL string) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fail > 0 {
		p.fail--
		return "", errors.New("slack: http_503")
	}
	p.posts = append(p.posts, r.Week+"@"+r.Generated.In(brussels).Format("Mon 2 Jan 15:04"))
	p.urls = append(p.urls, htmlURL)
	return channel + "/1", nil
}

func (p *fakePoster) Posts() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.posts)
}

func newRunner(t *testing.T) (*digest.Runner, *fakePoster, *store.Store, string) {
	t.Helper()
	ix := openIndex(t, fixtureItems())
	st, err := store.Open(filepath.Join(t.TempDir(), "accordwatch.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	dir := filepath.Join(t.TempDir(), "digests")
	p := &fakePoster{}
	r, err := digest.NewRunner(digest.RunnerOptions{
		Searcher: ix, Feeds: feedsFixture(), Store: st, Poster: p, Channel: "#accord-digest", Dir: dir,
		Build: digest.Options{Location: brussels, BaseURL: "https://accord.example.org", Sections: sectionsFixture()},
	})
	if err != nil {
		t.Fatal(err)
	}
	return r, p, st, dir
}

// tick calls RunDue every hour of [from, to) except while down, as the
// daemon would with its hourly and start-up calls.
func tick(t *testing.T, r *digest.Runner, from, to time.Time, down func(time.Time) bool) {
	t.Helper()
	for now := from; now.Before(to); now = now.Add(time.Hour) {
		if down != nil && down(now) {
			continue
		}
		if err := r.RunDue(context.Background(), now); err != nil {
			t.Fatalf("RunDue(%s): %v", now, err)
		}
	}
}

func local(month time.Month, day, hour int) time.Time {
	return time.Date(2026, month, day, hour, 0, 0, 0, brussels)
}

func TestRunnerDue(t *testing.T) {
	r, _, _, _ := newRunner(t)
	tests := []struct {
		now      time.Time
		week     string
		due      time.Time
		isDueNow bool
	}{
		{local(11, 23, 8), "2026-W47", local(11, 23, 9), false},
		{local(11, 23, 9), "2026-W47", local(11, 23, 9), true},
		{local(11, 27, 9), "2026-W47", local(11, 23, 9), true},
		{local(11, 22, 23), "2026-W46", local(11, 16, 9), true},
	}
	for _, tt := range tests {
		t.Run(tt.now.String(), func(t *testing.T) {
			week, _, _, due := r.Due(tt.now)
			if week != tt.week || !due.Equal(tt.due) || !tt.now.Before(due) != tt.isDueNow {
				t.Errorf("got %s due %s, want %s due %s (due now %v)", week, due, tt.week, tt.due, tt.isDueNow)
			}
		})
	}
}

func TestRunnerWeekly(t *testing.T) {
	r, p, st, dir := newRunner(t)
	tick(t, r, local(11, 16, 0), local(11, 30, 12), nil)
	want := []string{"2026-W46@Mon 16 Nov 09:00", "2026-W47@Mon 23 Nov 09:00", "2026-W48@Mon 30 Nov 09:00"}
	if got := p.Posts(); !slices.Equal(got, want) {
		t.Errorf("posts: got %v, want %v", got, want)
	}
	if p.urls[1] != "https://accord.example.org/api/digest?week=2026-W47&format=html" {
		t.Errorf("html URL: got %q", p.urls[1])
	}
	for _, w := range []string{"2026-W46", "2026-W47", "2026-W48"} {
		at, ok, err := st.DigestSent(w)
		if err != nil || !ok {
			t.Errorf("store: %s not recorded (%v)", w, err)
		}
		if want := digestDue(w); !at.Equal(want) {
			t.Errorf("store: %s sent at %s, want %s", w, at, want)
		}
		for _, ext := range []string{"md", "html", "json"} {
			if fi, err := os.Stat(filepath.Join(dir, w+"."+ext)); err != nil || fi.Size() == 0 {
				t.Errorf("file %s.%s: %v", w, ext, err)
			}
		}
	}
}

// digestDue is the Monday 09:00 after the week.
func digestDue(week string) time.Time {
	_, to, _ := digest.WeekRange(week, brussels)
	return to.Add(9 * time.Hour)
}

func TestRunnerCatchUpAfterDowntime(t *testing.T) {
	tests := []struct {
		name       string
		down       func(time.Time) bool
		want       []string
		wantFailed bool
	}{
		{
			// Down over Monday morning: W47 goes out once, on restart.
			name: "missed one run",
			down: func(t time.Time) bool { return !t.Before(local(11, 22, 20)) && t.Before(local(11, 25, 14)) },
			want: []string{"2026-W46@Mon 16 Nov 09:00", "2026-W47@Wed 25 Nov 14:00"},
		},
		{
			// Down over two Mondays: only the latest week is caught up; a
			// stale W46 would arrive next to a fresh W47.
			name: "missed two runs",
			down: func(t time.Time) bool { return !t.Before(local(11, 15, 0)) && t.Before(local(11, 25, 14)) },
			want: []string{"2026-W47@Wed 25 Nov 14:00"},
		},
		{
			// Restarted before Monday 09:00: nothing early, then on time.
			name: "restart before due",
			down: func(t time.Time) bool { return !t.Before(local(11, 22, 20)) && t.Before(local(11, 23, 8)) },
			want: []string{"2026-W46@Mon 16 Nov 09:00", "2026-W47@Mon 23 Nov 09:00"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, p, _, _ := newRunner(t)
			tick(t, r, local(11, 16, 0), local(11, 29, 0), tt.down)
			if got := p.Posts(); !slices.Equal(got, tt.want) {
				t.Errorf("posts: got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestRunnerNeverTwice(t *testing.T) {
	r, p, _, _ := newRunner(t)
	now := local(11, 23, 9)
	for range 3 {
		if err := r.RunDue(context.Background(), now); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if err := r.RunDue(context.Background(), now.Add(time.Minute)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got := p.Posts(); len(got) != 1 {
		t.Errorf("posts: got %v, want exactly one", got)
	}
}

func TestRunnerConcurrentFirstRun(t *testing.T) {
	r, p, _, _ := newRunner(t)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if err := r.RunDue(context.Background(), local(11, 23, 9)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got := p.Posts(); len(got) != 1 {
		t.Errorf("posts: got %v, want exactly one", got)
	}
}

func TestRunnerRetriesAfterFailedPost(t *testing.T) {
	r, p, st, _ := newRunner(t)
	p.fail = 1
	if err := r.RunDue(context.Background(), local(11, 23, 9)); err == nil {
		t.Fatal("RunDue with a failing post: got nil error, want one")
	}
	if _, ok, _ := st.DigestSent("2026-W47"); ok {
		t.Fatal("a failed post was recorded as sent")
	}
	if err := r.RunDue(context.Background(), local(11, 23, 10)); err != nil {
		t.Fatal(err)
	}
	if got, want := p.Posts(), []string{"2026-W47@Mon 23 Nov 10:00"}; !slices.Equal(got, want) {
		t.Errorf("posts: got %v, want %v", got, want)
	}
}

func TestRunnerWithoutPosterWritesFiles(t *testing.T) {
	ix := openIndex(t, nil)
	st, err := store.Open(filepath.Join(t.TempDir(), "accordwatch.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	dir := t.TempDir()
	r, err := digest.NewRunner(digest.RunnerOptions{Searcher: ix, Store: st, Dir: dir, Build: digest.Options{Location: brussels}})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.RunDue(context.Background(), local(11, 23, 9)); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "2026-W47.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), "No incidents matched this week") {
		t.Errorf("empty week file: got %q", raw)
	}
	if _, ok, _ := st.DigestSent("2026-W47"); !ok {
		t.Errorf("week not recorded")
	}
}

// weekRange is the bounds of an ISO week in Brussels.
func weekRange(t *testing.T, week string) (time.Time, time.Time) {
	t.Helper()
	from, to, err := digest.WeekRange(week, brussels)
	if err != nil {
		t.Fatal(err)
	}
	return from, to
}

// TestRunnerSkipsAWeekPostedByHand: a week posted on request before it
// was due is not posted again by the schedule, nor by the catch-up.
func TestRunnerSkipsAWeekPostedByHand(t *testing.T) {
	r, p, st, dir := newRunner(t)
	from, to := weekRange(t, "2026-W47")
	rep, posted, err := r.Post(context.Background(), from, to, false)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Week != "2026-W47" || posted.Week != "2026-W47" || posted.Ref != "#accord-digest/1" {
		t.Errorf("Post: got report %q, %+v, want 2026-W47 posted as #accord-digest/1", rep.Week, posted)
	}
	if _, ok, _ := st.DigestSent("2026-W47"); !ok {
		t.Errorf("the post was not recorded")
	}
	if _, err := os.Stat(filepath.Join(dir, "2026-W47.md")); err != nil {
		t.Errorf("the post wrote no files: %v", err)
	}
	tick(t, r, local(11, 23, 8), local(11, 24, 12), nil)
	if got := p.Posts(); len(got) != 1 {
		t.Errorf("posts: got %v, want only the one by hand", got)
	}
}

// TestRunnerPostRefusesAPostedWeek: a week the schedule posted is refused
// by Post, with when, unless forced; a forced post is recorded anew.
func TestRunnerPostRefusesAPostedWeek(t *testing.T) {
	r, p, st, _ := newRunner(t)
	if err := r.RunDue(context.Background(), local(11, 23, 9)); err != nil {
		t.Fatal(err)
	}
	from, to := weekRange(t, "2026-W47")
	_, _, err := r.Post(context.Background(), from, to, false)
	var ap *digest.AlreadyPostedError
	if !errors.As(err, &ap) || ap.Week != "2026-W47" || !ap.At.Equal(local(11, 23, 9)) {
		t.Fatalf("second post: got %v, want *AlreadyPostedError for 2026-W47 at %s", err, local(11, 23, 9))
	}
	if want := "digest: week 2026-W47 was already posted at 2026-11-23T08:00:00Z"; err.Error() != want {
		t.Errorf("message: got %q, want %q", err, want)
	}
	_, posted, err := r.Post(context.Background(), from, to, true)
	if err != nil {
		t.Fatal(err)
	}
	if !posted.PostedBefore.Equal(local(11, 23, 9)) {
		t.Errorf("forced post: PostedBefore %v, want %v", posted.PostedBefore, local(11, 23, 9))
	}
	if got := p.Posts(); len(got) != 2 {
		t.Errorf("posts: got %v, want the scheduled one and the forced one", got)
	}
	if at, _, _ := st.DigestSent("2026-W47"); !at.Equal(posted.At) {
		t.Errorf("store: sent at %v, want the forced post's %v", at, posted.At)
	}
}

// TestRunnerPostFailureReleasesTheWeek: a failed post on request leaves
// the week unposted, for the next try and for the schedule.
func TestRunnerPostFailureReleasesTheWeek(t *testing.T) {
	r, p, st, _ := newRunner(t)
	p.fail = 1
	from, to := weekRange(t, "2026-W47")
	if _, _, err := r.Post(context.Background(), from, to, false); err == nil || !strings.Contains(err.Error(), "http_503") {
		t.Fatalf("failing post: got %v, want the poster's error", err)
	}
	if _, ok, _ := st.DigestSent("2026-W47"); ok {
		t.Fatal("a failed post was recorded as sent")
	}
	if err := r.RunDue(context.Background(), local(11, 23, 9)); err != nil {
		t.Fatal(err)
	}
	if got, want := p.Posts(), []string{"2026-W47@Mon 23 Nov 09:00"}; !slices.Equal(got, want) {
		t.Errorf("posts: got %v, want %v", got, want)
	}
}

// TestRunnerPostRangeIsNotRecorded: a range that is not one week is
// posted each time it is asked for, and records no week.
func TestRunnerPostRangeIsNotRecorded(t *testing.T) {
	r, p, st, dir := newRunner(t)
	from := local(11, 1, 0)
	to := local(12, 1, 0)
	for range 2 {
		rep, posted, err := r.Post(context.Background(), from, to, false)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Week != "" || posted.Week != "" || posted.Title != rep.Title {
			t.Errorf("range post: got week %q, %+v", rep.Week, posted)
		}
	}
	if got := p.Posts(); len(got) != 2 {
		t.Errorf("posts: got %v, want 2", got)
	}
	for _, w := range []string{"2026-W44", "2026-W45", "2026-W46", "2026-W47", "2026-W48"} {
		if _, ok, _ := st.DigestSent(w); ok {
			t.Errorf("%s recorded by a range post", w)
		}
	}
	if files, _ := os.ReadDir(dir); len(files) != 0 {
		t.Errorf("a range post wrote %d files", len(files))
	}
}

// blockingPoster holds each post until release is closed.
type blockingPoster struct {
	entered chan struct{}
	release chan struct{}
	posts   atomic.Int32
}

func (p *blockingPoster) SendDigest(ctx context.Context, channel string, r *digest.Report, htmlURL string) (string, error) {
	p.entered <- struct{}{}
	<-p.release
	p.posts.Add(1)
	return channel + "/1", nil
}

// TestTwoRunnersShareTheRecord: serve has a runner for its schedule and
// one for POST /api/digest/post. While one posts a week, the other is
// refused it, and once it is posted, the other skips it.
func TestTwoRunnersShareTheRecord(t *testing.T) {
	ix := openIndex(t, fixtureItems())
	st, err := store.Open(filepath.Join(t.TempDir(), "accordwatch.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	p := &blockingPoster{entered: make(chan struct{}, 2), release: make(chan struct{})}
	runner := func() *digest.Runner {
		r, err := digest.NewRunner(digest.RunnerOptions{Searcher: ix, Store: st, Poster: p, Dir: t.TempDir(), Build: digest.Options{Location: brussels}})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	byHand, scheduled := runner(), runner()
	from, to := weekRange(t, "2026-W47")
	done := make(chan error)
	go func() {
		_, _, err := byHand.Post(context.Background(), from, to, false)
		done <- err
	}()
	<-p.entered
	if err := scheduled.RunDue(context.Background(), local(11, 23, 9)); err == nil || !strings.Contains(err.Error(), "is being posted") {
		t.Errorf("schedule while posting by hand: got %v, want \"is being posted\"", err)
	}
	close(p.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := scheduled.RunDue(context.Background(), local(11, 23, 10)); err != nil {
		t.Fatal(err)
	}
	if n := p.posts.Load(); n != 1 {
		t.Errorf("posts: got %d, want 1", n)
	}
}
