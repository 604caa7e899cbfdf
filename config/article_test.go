package config

import (
	"strings"
	"testing"

	"github.com/accordwatch/accordwatch"
)

func TestFeedArticleSetting(t *testing.T) {
	yaml := "feeds:\n" +
		"  - url: https://a.example/feed\n" +
		"  - url: https://b.example/feed\n    article: always\n" +
		"  - url: archive/\n" +
		"  - url: https://c.example/feed\n    article: never\n"
	cfg, err := Parse([]byte(yaml), "c.yaml", t.TempDir(), Options{Getenv: noEnv})
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Fetch.ArticleThreshold; got != DefaultArticleThreshold {
		t.Errorf("article_threshold: got %d, want %d", got, DefaultArticleThreshold)
	}
	want := []string{accordwatch.ArticleAuto, accordwatch.ArticleAlways, accordwatch.ArticleNever, accordwatch.ArticleNever}
	for i, f := range cfg.FeedList() {
		if got := f.ArticleMode(); got != want[i] {
			t.Errorf("feeds[%d] %s: got article %q, want %q", i, f.URL, got, want[i])
		}
	}
}

func TestFeedArticleSettingErrors(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"unknown mode", "feeds:\n  - url: https://a.example/feed\n    article: sometimes\n",
			`c.yaml:3: feeds[0].article: must be auto, always or never, got "sometimes"`},
		{"negative threshold", "fetch:\n  article_threshold: -5\n",
			"c.yaml:2: fetch.article_threshold: must be between 1 and 100000 characters, got -5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml), "c.yaml", t.TempDir(), Options{Getenv: noEnv})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want %q", err, tt.want)
			}
		})
	}
}
