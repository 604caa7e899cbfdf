package index

import (
	"context"
	"encoding/json"

	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	index "github.com/blevesearch/bleve_index_api"
)

// phraseQuery is a phrase in one field: bleve's MatchPhraseQuery, with a
// searcher of its own for unscored searches (counts, facets, newest-first
// pages). bleve's phrase searcher copies every candidate's term locations
// into maps to check their positions; counting the hits of a common
// phrase spent two thirds of its time there and in the garbage it left.
// This one checks the positions on the term readers' reused buffers.
// Scored searches (relevance) and anything else that wants locations or
// explanations get bleve's searcher, whose scores they need.
type phraseQuery struct {
	*query.MatchPhraseQuery
}

func newPhraseQuery(text, field string) *phraseQuery {
	q := query.NewMatchPhraseQuery(text)
	q.SetField(field)
	return &phraseQuery{q}
}

// MarshalJSON writes it as the bleve query it stands for.
func (q *phraseQuery) MarshalJSON() ([]byte, error) { return json.Marshal(q.MatchPhraseQuery) }

func (q *phraseQuery) Searcher(ctx context.Context, r index.IndexReader, m mapping.IndexMapping, o search.SearcherOptions) (search.Searcher, error) {
	if o.Score != "none" || o.Explain || o.IncludeTermVectors {
		return q.MatchPhraseQuery.Searcher(ctx, r, m, o)
	}
	field := q.FieldVal
	if field == "" {
		field = m.DefaultSearchField()
	}
	analyzerName := q.Analyzer
	if analyzerName == "" {
		analyzerName = m.AnalyzerNameForPath(field)
	}
	analyzer := m.AnalyzerNamed(analyzerName)
	if analyzer == nil {
		return q.MatchPhraseQuery.Searcher(ctx, r, m, o)
	}
	tokens := analyzer.Analyze([]byte(q.MatchPhrase))
	if len(tokens) == 0 {
		return query.NewMatchNoneQuery().Searcher(ctx, r, m, o)
	}
	// The words' places relative to the first, as bleve's phrase has them:
	// a word the analyzer removed (a stop word) leaves a gap that any word
	// fills.
	first := tokens[0].Position
	for _, t := range tokens {
		first = min(first, t.Position)
	}
	s := &phraseSearcher{}
	seen := make(map[int]bool, len(tokens))
	for _, t := range tokens {
		off := t.Position - first
		if seen[off] {
			// Two words in one place (no analyzer of ours makes them):
			// bleve's searcher knows how to match either.
			_ = s.Close()
			return q.MatchPhraseQuery.Searcher(ctx, r, m, o)
		}
		seen[off] = true
		tfr, err := r.TermFieldReader(ctx, t.Term, field, false, false, true)
		if err != nil {
			_ = s.Close()
			return nil, err
		}
		s.readers = append(s.readers, tfr)
		s.offsets = append(s.offsets, off)
	}
	s.docs = make([]index.TermFieldDoc, len(s.readers))
	s.cur = make([]*index.TermFieldDoc, len(s.readers))
	return s, nil
}

// phraseSearcher finds the documents where each of its words occurs at
// its offset from one place: it walks the words' postings in step
// (leapfrogging to the furthest document) and checks the positions of
// the documents they share.
type phraseSearcher struct {
	readers []index.TermFieldReader
	offsets []int // of each reader's word from the phrase's first word (offsets[0] == 0)
	docs    []index.TermFieldDoc
	cur     []*index.TermFieldDoc // each reader's current document; nil once it ran out
	started bool
	done    bool
}

func (s *phraseSearcher) Next(ctx *search.SearchContext) (*search.DocumentMatch, error) {
	if s.done {
		return nil, nil
	}
	if !s.started {
		s.started = true
		for i, r := range s.readers {
			d, err := r.Next(&s.docs[i])
			if err != nil {
				return nil, err
			}
			if d == nil {
				s.done = true
				return nil, nil
			}
			s.cur[i] = d
		}
	} else if err := s.step(0); err != nil || s.done {
		return nil, err
	}
	return s.match(ctx)
}

func (s *phraseSearcher) Advance(ctx *search.SearchContext, id index.IndexInternalID) (*search.DocumentMatch, error) {
	if !s.started {
		// Start every reader, then move those behind id forward.
		dm, err := s.Next(ctx)
		if err != nil || dm == nil || dm.IndexInternalID.Compare(id) >= 0 {
			return dm, err
		}
		ctx.DocumentMatchPool.Put(dm)
	}
	if s.done {
		return nil, nil
	}
	for i := range s.readers {
		if s.cur[i].ID.Compare(id) < 0 {
			if err := s.advance(i, id); err != nil || s.done {
				return nil, err
			}
		}
	}
	return s.match(ctx)
}

// step moves reader i to its next document.
func (s *phraseSearcher) step(i int) error {
	d, err := s.readers[i].Next(&s.docs[i])
	if err != nil {
		return err
	}
	s.cur[i] = d
	s.done = d == nil
	return nil
}

// advance moves reader i to the first document at or after id. Only ever
// forward: scorch's reader restarts from the beginning when asked for a
// document at or before its current one.
func (s *phraseSearcher) advance(i int, id index.IndexInternalID) error {
	d, err := s.readers[i].Advance(id, &s.docs[i])
	if err != nil {
		return err
	}
	s.cur[i] = d
	s.done = d == nil
	return nil
}

// match returns the first document from the readers' current ones on
// that holds the phrase.
func (s *phraseSearcher) match(ctx *search.SearchContext) (*search.DocumentMatch, error) {
	for !s.done {
		// Bring every reader to the furthest current document.
		far := s.cur[0].ID
		for _, d := range s.cur[1:] {
			if d.ID.Compare(far) > 0 {
				far = d.ID
			}
		}
		aligned := true
		for i, d := range s.cur {
			if d.ID.Compare(far) < 0 {
				if err := s.advance(i, far); err != nil || s.done {
					return nil, err
				}
				if s.cur[i].ID.Compare(far) > 0 {
					aligned = false
					break
				}
			}
		}
		if !aligned {
			continue
		}
		if s.inPlace() {
			dm := ctx.DocumentMatchPool.Get()
			dm.IndexInternalID = append(dm.IndexInternalID[:0], s.cur[0].ID...)
			return dm, nil
		}
		if err := s.step(0); err != nil {
			return nil, err
		}
	}
	return nil, nil
}

// inPlace reports whether the current document, which holds every word,
// holds them at their offsets from one place.
func (s *phraseSearcher) inPlace() bool {
next:
	for _, v := range s.cur[0].Vectors {
		for i := 1; i < len(s.cur); i++ {
			if !hasPos(s.cur[i].Vectors, v.Pos+uint64(s.offsets[i])) {
				continue next
			}
		}
		return true
	}
	return false
}

func hasPos(vs []*index.TermFieldVector, pos uint64) bool {
	for _, v := range vs {
		if v.Pos == pos {
			return true
		}
	}
	return false
}

func (s *phraseSearcher) Close() error {
	var first error
	for _, r := range s.readers {
		if err := r.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

func (s *phraseSearcher) Weight() float64            { return 1 }
func (s *phraseSearcher) SetQueryNorm(float64)       {}
func (s *phraseSearcher) Min() int                   { return 0 }
func (s *phraseSearcher) DocumentMatchPoolSize() int { return 1 }

// Count estimates the hits by the rarest word's documents.
func (s *phraseSearcher) Count() uint64 {
	var n uint64
	for i, r := range s.readers {
		if c := r.Count(); i == 0 || c < n {
			n = c
		}
	}
	return n
}

func (s *phraseSearcher) Size() int {
	n := 64
	for _, r := range s.readers {
		n += r.Size()
	}
	return n
}
