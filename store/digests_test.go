package store

import (
	"sync"
	"testing"
	"time"
)

func TestDigestSent(t *testing.T) {
	s, _ := openTemp(t)
	at := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)

	if _, ok, err := s.DigestSent("2026-W47"); err != nil || ok {
		t.Fatalf("DigestSent before any mark: got ok=%v err=%v, want false, nil", ok, err)
	}
	first, err := s.MarkDigestSent("2026-W47", at)
	if err != nil || !first {
		t.Fatalf("first MarkDigestSent: got %v, %v, want true, nil", first, err)
	}
	first, err = s.MarkDigestSent("2026-W47", at.Add(time.Hour))
	if err != nil || first {
		t.Fatalf("second MarkDigestSent: got %v, %v, want false, nil", first, err)
	}
	got, ok, err := s.DigestSent("2026-W47")
	if err != nil || !ok || !got.Equal(at) {
		t.Fatalf("DigestSent: got %v, %v, %v, want %v, true, nil (the first time kept)", got, ok, err, at)
	}
	if _, ok, _ := s.DigestSent("2026-W48"); ok {
		t.Errorf("DigestSent(2026-W48): got true, want false")
	}
	if _, err := s.MarkDigestSent("", at); err == nil {
		t.Errorf("MarkDigestSent(\"\"): got nil error, want one")
	}
}

func TestMarkDigestSentIsAtomic(t *testing.T) {
	s, _ := openTemp(t)
	const n = 16
	var wg sync.WaitGroup
	firsts := make(chan bool, n)
	for range n {
		wg.Go(func() {
			first, err := s.MarkDigestSent("2026-W47", time.Now())
			if err != nil {
				t.Error(err)
			}
			firsts <- first
		})
	}
	wg.Wait()
	close(firsts)
	got := 0
	for f := range firsts {
		if f {
			got++
		}
	}
	if got != 1 {
		t.Errorf("concurrent MarkDigestSent: got %d firsts, want 1", got)
	}
}

func TestDigestSentSurvivesReopen(t *testing.T) {
	s, path := openTemp(t)
	at := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	if _, err := s.MarkDigestSent("2026-W47", at); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if _, ok, err := s2.DigestSent("2026-W47"); err != nil || !ok {
		t.Errorf("after reopen: got ok=%v err=%v, want true, nil", ok, err)
	}
}
