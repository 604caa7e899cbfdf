package incident

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/accordwatch/accordwatch"
	"github.com/accordwatch/accordwatch/classify"
)

// The shared data sets live beside the project and are read, never
// copied: tests that need them skip when they are absent.
var (
	sharedDir = filepath.Join("..", "..", "shared", "data")
	newsDir   = filepath.Join(sharedDir, "news")
	// storyPairsFile holds labelled pairs of real items, referenced by
	// file and id like testdata/pairs.json.
	storyPairsFile = filepath.Join(sharedDir, "eval", "story-pairs.jsonl")
)

// The two news files the labelled pairs point into.
const (
	newsdatahubFile = "newsdatahub-cybersecurity-news-en-title-3000.csv"
	cybernewsFile   = "cybernews-2025-incidents.json"
)

// newsItem is one unlabelled item of the shared news files.
type newsItem struct {
	Key       string // file/id
	Title     string
	Text      string
	Link      string
	Published time.Time
}

var (
	newsOnce  sync.Once
	newsItems []newsItem
	newsByKey map[string]*newsItem
	newsErr   error
)

// loadNews reads both news files once per test binary, or skips the test
// when they are not there.
func loadNews(t testing.TB) ([]newsItem, map[string]*newsItem) {
	t.Helper()
	newsOnce.Do(func() { newsItems, newsErr = readNews() })
	if newsErr != nil {
		t.Skipf("shared news data not available: %v", newsErr)
	}
	if newsByKey == nil {
		newsByKey = make(map[string]*newsItem, len(newsItems))
		for i := range newsItems {
			newsByKey[newsItems[i].Key] = &newsItems[i]
		}
	}
	return newsItems, newsByKey
}

func readNews() ([]newsItem, error) {
	var out []newsItem
	f, err := os.Open(filepath.Join(newsDir, newsdatahubFile))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, err
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	for _, r := range rows[1:] {
		pub, _ := time.Parse("2006-01-02T15:04:05", r[col["pub_date"]])
		out = append(out, newsItem{
			Key:   newsdatahubFile + "/" + r[col["id"]],
			Title: r[col["title"]], Text: r[col["description"]], Link: r[col["article_link"]],
			Published: pub,
		})
	}
	b, err := os.ReadFile(filepath.Join(newsDir, cybernewsFile))
	if err != nil {
		return nil, err
	}
	var cn []struct{ ID, Date, Title, Summary, SourceURL string }
	if err := json.Unmarshal(b, &cn); err != nil {
		return nil, err
	}
	for _, x := range cn {
		pub, _ := time.Parse("2006-01-02", x.Date)
		out = append(out, newsItem{
			Key:   cybernewsFile + "/" + x.ID,
			Title: x.Title, Text: x.Summary, Link: x.SourceURL,
			Published: pub.Add(12 * time.Hour),
		})
	}
	return out, nil
}

var (
	classifierOnce sync.Once
	classifier     *classify.Classifier
	classifierErr  error
)

// tagsOf tags an item the way the monitor does before it assigns the
// item an incident.
func tagsOf(t testing.TB, title, text string, published time.Time) accordwatch.Tags {
	t.Helper()
	classifierOnce.Do(func() { classifier, classifierErr = classify.New(classify.Options{}) })
	if classifierErr != nil {
		t.Fatalf("classifier: %v", classifierErr)
	}
	return classifier.Classify(title, text, published)
}

// labelledItem is one side of a labelled pair: a real item named by its
// file and row id under shared/data/news.
type labelledItem struct {
	File      string    `json:"file"`
	ID        string    `json:"id"`
	Published time.Time `json:"published"`
	Source    string    `json:"source"`
	Title     string    `json:"title"`
}

// labelledPair says whether two items report the same event: "same",
// "different", or "related" (a follow-up, a consequence, or a roundup that
// lists the other's story), which may go either way.
type labelledPair struct {
	Pair  string       `json:"pair"`
	Label string       `json:"label"`
	Note  string       `json:"note"`
	A     labelledItem `json:"a"`
	B     labelledItem `json:"b"`
	// Set is "ours" (testdata/pairs.json) or "story" (story-pairs.jsonl).
	Set string `json:"-"`
}

// hard reports whether a different-event pair is a hard one: the note
// says the two share an entity or a name. Pairs of testdata/pairs.json
// have no such notes; hardByTags decides for them.
func (p labelledPair) hardByNote() bool {
	return strings.HasPrefix(p.Note, "[shared entity") || strings.HasPrefix(p.Note, "[shared name")
}

func loadOurPairs(t testing.TB) []labelledPair {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "pairs.json"))
	if err != nil {
		t.Fatalf("read pairs: %v", err)
	}
	var ps []labelledPair
	if err := json.Unmarshal(b, &ps); err != nil {
		t.Fatalf("decode pairs: %v", err)
	}
	for i := range ps {
		ps[i].Set = "ours"
	}
	return ps
}

func loadStoryPairs(t testing.TB) []labelledPair {
	t.Helper()
	f, err := os.Open(storyPairsFile)
	if err != nil {
		t.Skipf("shared story pairs not available: %v", err)
	}
	defer f.Close()
	var ps []labelledPair
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var p labelledPair
		if err := json.Unmarshal(sc.Bytes(), &p); err != nil {
			t.Fatalf("decode %s: %v", storyPairsFile, err)
		}
		p.Set = "story"
		ps = append(ps, p)
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read %s: %v", storyPairsFile, err)
	}
	return ps
}

// item turns one side of a pair into the item the monitor would see: text
// and link from the news file, tags from the classifier. Each side is
// given its own feed, so only a real link shared by both can decide.
func (li labelledItem) item(t testing.TB, news map[string]*newsItem) accordwatch.Item {
	t.Helper()
	n := news[li.File+"/"+li.ID]
	if n == nil {
		t.Fatalf("%s/%s not found in shared news data", li.File, li.ID)
	}
	it := accordwatch.Item{
		ID:        li.File + "/" + li.ID,
		FeedURL:   "https://" + strings.ReplaceAll(strings.ToLower(li.Source), " ", "") + ".example/feed",
		Link:      n.Link,
		Title:     n.Title,
		Text:      n.Text,
		Published: li.Published,
	}
	it.Tags = tagsOf(t, it.Title, it.Text, it.Published)
	return it
}
