package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/accordwatch/accordwatch"
)

// apiSearcher asks a running daemon's GET /api/search, as a user's client
// does, so the figures include HTTP, JSON and the daemon's own memory.
type apiSearcher struct {
	base   *url.URL
	token  string
	client *http.Client
}

func newAPISearcher(base, token string) (*apiSearcher, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("-api %q: want the daemon's base URL, such as http://127.0.0.1:8080", base)
	}
	// One kept-alive connection: a client that reconnects for every query
	// would time TCP set-up, not search.
	tr := &http.Transport{MaxIdleConnsPerHost: 1}
	return &apiSearcher{base: u, token: token, client: &http.Client{Transport: tr, Timeout: time.Minute}}, nil
}

// Search sends req as the search page's query parameters.
func (a *apiSearcher) Search(ctx context.Context, req accordwatch.SearchRequest) (accordwatch.SearchResult, error) {
	var res accordwatch.SearchResult
	v := url.Values{}
	v.Set("q", req.Query)
	if req.Sort != "" {
		v.Set("sort", req.Sort)
	}
	if req.Size > 0 {
		v.Set("size", strconv.Itoa(req.Size))
	}
	if req.From > 0 {
		v.Set("from", strconv.Itoa(req.From))
	}
	if req.After != "" {
		v.Set("after", req.After)
	}
	if req.Facets != "" {
		v.Set("facets", req.Facets)
	}
	u := a.base.JoinPath("api", "search")
	u.RawQuery = v.Encode()
	hr, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return res, err
	}
	if a.token != "" {
		hr.Header.Set("Authorization", "Bearer "+a.token)
	}
	resp, err := a.client.Do(hr)
	if err != nil {
		return res, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return res, err
	}
	if resp.StatusCode != http.StatusOK {
		return res, fmt.Errorf("GET /api/search: %s: %.200s", resp.Status, body)
	}
	if err := json.Unmarshal(body, &res); err != nil {
		return res, fmt.Errorf("GET /api/search: %w", err)
	}
	return res, nil
}

// absoluteDates rewrites since:30d as the published range it means at
// end: the daemon's clock is today's, and the generated items end at end.
func absoluteDates(sets []querySet, end time.Time) []querySet {
	lo := end.AddDate(0, 0, -30).Format(time.DateOnly)
	hi := end.Format(time.DateOnly)
	out := make([]querySet, len(sets))
	for i, set := range sets {
		set.reqs = append([]accordwatch.SearchRequest(nil), set.reqs...)
		for j := range set.reqs {
			set.reqs[j].Query = strings.ReplaceAll(set.reqs[j].Query, "since:30d", "published:["+lo+" TO "+hi+"]")
		}
		out[i] = set
	}
	return out
}

// apiBench times the query sets against a daemon already serving an index
// of generated items, then reads the daemon's memory from /proc/PID.
func apiBench(ctx context.Context, w io.Writer, base, token string, pid, runs int, end time.Time, capped bool, only string, verbose bool) error {
	s, err := newAPISearcher(base, token)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "benchgen -api: %s (pid %d), load %s\n", base, pid, loadavg())
	if pid > 0 {
		fmt.Fprintf(w, "daemon before: %s\n", procMemory(strconv.Itoa(pid)))
	}
	timingHeader(w, "accordwatch daemon, GET /api/search (newest first, 20 hits)")
	sets := absoluteDates(querySets(end), end)
	if capped {
		sets = upTo(sets, end)
	}
	if _, err := timeSets(ctx, w, s.Search, sets, runs, only, verbose); err != nil {
		return err
	}
	if pid > 0 {
		fmt.Fprintf(w, "\ndaemon after: %s; load %s\n", procMemory(strconv.Itoa(pid)), loadavg())
	}
	return nil
}
