package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/accordwatch/accordwatch"
	"github.com/accordwatch/accordwatch/article"
	"github.com/accordwatch/accordwatch/classify"
	"github.com/accordwatch/accordwatch/config"
	"github.com/accordwatch/accordwatch/feeds"
	"github.com/accordwatch/accordwatch/incident"
	"github.com/accordwatch/accordwatch/index"
	"github.com/accordwatch/accordwatch/metrics"
	"github.com/accordwatch/accordwatch/monitor"
	"github.com/accordwatch/accordwatch/notify"
	"github.com/accordwatch/accordwatch/pgstore"
)

// Files under data_dir.
const (
	storeFile  = "accordwatch.db"
	indexDir   = "index"
	alertsFile = "alerts.jsonl"
	ownerFile  = "accordwatch.pid"
)

// owner is written to data_dir while a process owns it, so others can say
// who holds the lock and find serve's API.
type owner struct {
	PID     int       `json:"pid"`
	Command string    `json:"command"`
	Listen  string    `json:"listen,omitempty"`
	Started time.Time `json:"started"`
}

func readOwner(dataDir string) (owner, bool) {
	raw, err := os.ReadFile(filepath.Join(dataDir, ownerFile))
	if err != nil {
		return owner{}, false
	}
	var o owner
	if json.Unmarshal(raw, &o) != nil || o.PID <= 0 {
		return owner{}, false
	}
	// Signal 0 checks the process exists without touching it.
	if p, err := os.FindProcess(o.PID); err != nil || p.Signal(syscall.Signal(0)) != nil {
		return owner{}, false
	}
	return o, true
}

// lockedError explains who holds the data dir.
func lockedError(dataDir string, err error) error {
	if o, ok := readOwner(dataDir); ok {
		return fmt.Errorf("data dir %s is in use by pid %d (accordwatch %s, since %s); stop it or use another --data-dir", dataDir, o.PID, o.Command, o.Started.Format(time.RFC3339))
	}
	return fmt.Errorf("data dir %s is in use by another process: %w", dataDir, err)
}

// app is everything a pass needs, opened on one data dir.
type app struct {
	cfg        *config.Config
	log        *slog.Logger
	store      appStore
	index      *index.Index
	classifier *classify.Classifier
	notifier   *notify.Notifier
	pipeline   *monitor.Pipeline
	metrics    *metrics.Registry
	command    string
	// leases is this process's feed leases and host slots on PostgreSQL,
	// under one name so its host slots never count its own leases twice;
	// nil on bbolt.
	leases *pgstore.Leases
}

// ensureWritable makes the data dir and proves it can be written, so the
// failure is one clear line before anything else is opened.
func ensureWritable(dir string) error {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("data dir %s: cannot create: %w", dir, err)
	}
	f, err := os.CreateTemp(dir, ".write-test-*")
	if err != nil {
		return fmt.Errorf("data dir %s: not writable: %w", dir, err)
	}
	f.Close()
	return os.Remove(f.Name())
}

// openApp opens the app on cfg's data dir; dbURL, when set, puts the
// store in PostgreSQL instead of data_dir (see database.go).
func openApp(ctx context.Context, cfg *config.Config, log *slog.Logger, command string, dbURL accordwatch.Secret) (*app, error) {
	if err := ensureWritable(cfg.DataDir); err != nil {
		return nil, err
	}
	st, err := openStore(ctx, cfg, dbURL)
	if err != nil {
		return nil, err
	}
	a := &app{cfg: cfg, log: log, store: st, command: command}
	if err := a.writeOwner(""); err != nil {
		a.Close()
		return nil, err
	}
	a.classifier, err = classify.New(classify.Options{ExtraDictionaries: dictionaryFiles(cfg)})
	if err != nil {
		a.Close()
		return nil, fmt.Errorf("load dictionaries: %w", err)
	}
	a.index, err = index.Open(filepath.Join(cfg.DataDir, indexDir), index.Options{Resolve: a.classifier.Resolve})
	if err != nil {
		a.Close()
		if errors.Is(err, index.ErrLocked) {
			return nil, lockedError(cfg.DataDir, err)
		}
		return nil, err
	}
	if err := a.rebuildIfNeeded(ctx); err != nil {
		a.Close()
		return nil, err
	}
	a.notifier, err = notify.New(notify.Options{
		BotToken: cfg.Slack.BotToken, WebhookURL: cfg.Slack.WebhookURL, Channel: cfg.Slack.Channel,
		APIURL: cfg.Slack.APIURL, AlertsFile: filepath.Join(cfg.DataDir, alertsFile), OpsChannel: cfg.Slack.OpsChannel,
		JSONWebhookURL: cfg.Webhook.URL, JSONWebhookSecret: cfg.Webhook.Secret,
		Logger: log,
	})
	if err != nil {
		a.Close()
		return nil, fmt.Errorf("slack: %w", err)
	}
	a.metrics = metrics.New(metrics.Options{FeedHealth: healthSource{cfg: cfg, st: st}.counts})
	var hostSlots monitor.HostLeaser
	if pg, ok := st.(*pgstore.Store); ok {
		if a.leases, err = feedLeases(pg, cfg); err != nil {
			a.Close()
			return nil, err
		}
		hostSlots = a.leases
	}
	fetcher := feeds.New(feeds.Options{
		Timeout:  cfg.Fetch.Timeout.Duration,
		MaxBytes: int64(cfg.Fetch.MaxBodyMB) << 20, UserAgent: cfg.Fetch.UserAgent,
		AllowPrivateNetworks: cfg.Fetch.AllowPrivateNetworks,
		Articles:             article.New(article.Options{}),
	})
	a.pipeline, err = monitor.New(monitor.Options{
		Fetcher: fetcher, Classifier: a.classifier, Store: st, Index: a.index, Notifier: a.notifier,
		Rules: cfg.RuleList(), Concurrency: cfg.Fetch.Concurrency, MaxRetryWait: cfg.Alerting.MaxRetryWait.Duration,
		PerHost: cfg.Polling.PerHost, DefaultSchedule: cfg.DefaultSchedule, MinInterval: cfg.Polling.MinInterval.Duration, MaxInterval: cfg.Polling.MaxInterval.Duration,
		MaxBackoff: cfg.Polling.MaxBackoff.Duration, UnhealthyAfter: cfg.Polling.UnhealthyAfter.Duration,
		Ops: a.notifier, Metrics: a.metrics, Channels: outboxLocks(st),
		Articles: fetcher, ArticleThreshold: cfg.Fetch.ArticleThreshold, ArticleWait: cfg.Fetch.ArticleWait.Duration,
		// A slot outlives the fetch it covers, timeouts included.
		HostSlots: hostSlots, HostSlotPeriod: max(2*time.Minute, 4*cfg.Fetch.Timeout.Duration),
		Incidents:      incident.New(incident.Options{Window: cfg.Alerting.IncidentWindow.Duration, Threshold: cfg.Alerting.Similarity}),
		IncidentWindow: cfg.Alerting.IncidentWindow.Duration,
		IncidentSync:   incidentSync(st),
		CapHistory:     capHistory(st),
		Logger:         log.With("component", "monitor"),
	})
	if err != nil {
		a.Close()
		return nil, err
	}
	return a, nil
}

func (a *app) writeOwner(listen string) error {
	raw, _ := json.Marshal(owner{PID: os.Getpid(), Command: a.command, Listen: listen, Started: time.Now().UTC()})
	if err := os.WriteFile(filepath.Join(a.cfg.DataDir, ownerFile), raw, 0o600); err != nil {
		return fmt.Errorf("data dir %s: %w", a.cfg.DataDir, err)
	}
	return nil
}

// rebuildIfNeeded reindexes from the store when the index was missing or
// corrupt: the store is the source of truth, the index is derived.
func (a *app) rebuildIfNeeded(ctx context.Context) error {
	n, err := a.index.Count()
	if err != nil {
		return err
	}
	stored, err := a.store.CountItems()
	if err != nil {
		return err
	}
	if !a.index.Rebuilt() && (n > 0 || stored == 0) {
		return nil
	}
	if stored == 0 {
		a.log.Debug("created a new index")
		return nil
	}
	a.log.Warn("index missing or corrupt; rebuilding it from the store", "items", stored)
	pos, shared := a.lastChange(ctx)
	done, err := reindex(ctx, a.store, a.index, func(read, written int) {
		a.log.Info("rebuilding index", "items_written", written, "items_read", read, "of", stored)
	})
	if err != nil {
		return fmt.Errorf("rebuild index: %w", err)
	}
	a.log.Info("index rebuilt", "items", done)
	if shared {
		a.saveIndexPos(pos)
	}
	return nil
}

// reindex streams every stored item into the index through a Loader,
// which writes large batches of one month each (the store's id order is
// no order of months). progress gets the items read from the store and
// those written to the index, which lag by what the Loader holds.
func reindex(ctx context.Context, st appStore, ix *index.Index, progress func(read, written int)) (int, error) {
	l := ix.NewLoader()
	n := 0
	err := st.EachItem(func(it accordwatch.Item) error {
		if err := l.Add(ctx, it); err != nil {
			return err
		}
		if n++; n%10_000 == 0 && progress != nil {
			progress(n, l.Written())
		}
		return nil
	})
	if err == nil {
		err = l.Flush(ctx)
	}
	if err == nil && progress != nil {
		progress(n, l.Written())
	}
	return n, err
}

// Close releases the index, then the store and the owner file. Calling
// it again, or after closeIndex or closeStore, does nothing more.
func (a *app) Close() error {
	return errors.Join(a.closeIndex(), a.closeStore())
}

// closeIndex closes the index once. Whatever still holds it (a search
// that outlived a shutdown's bounds) gets errors from it, never a crash.
func (a *app) closeIndex() error {
	if a.index == nil {
		return nil
	}
	ix := a.index
	a.index = nil
	return ix.Close()
}

// closeStore removes the owner file and closes the store once, which
// releases the data dir for the next process.
func (a *app) closeStore() error {
	if a.store == nil {
		return nil
	}
	st := a.store
	a.store = nil
	os.Remove(filepath.Join(a.cfg.DataDir, ownerFile))
	return st.Close()
}

// apiClient talks to a running serve over its local HTTP API.
type apiClient struct {
	base  string
	token string
	http  *http.Client
}

// runningServe finds a live serve owning dataDir and returns its client.
func runningServe(dataDir string, getenv func(string) string) (*apiClient, bool) {
	o, ok := readOwner(dataDir)
	if !ok || o.Listen == "" {
		return nil, false
	}
	return &apiClient{base: "http://" + o.Listen, token: getenv("ACCORDWATCH_API_TOKEN"), http: &http.Client{Timeout: 30 * time.Second}}, true
}

func (c *apiClient) search(ctx context.Context, req accordwatch.SearchRequest) (accordwatch.SearchResult, error) {
	var res accordwatch.SearchResult
	u := "/api/search?q=" + urlQueryEscape(req.Query) + "&size=" + strconv.Itoa(req.Size)
	if req.Sort != "" {
		u += "&sort=" + urlQueryEscape(req.Sort)
	}
	if req.From > 0 {
		u += "&from=" + strconv.Itoa(req.From)
	}
	if req.After != "" {
		u += "&after=" + urlQueryEscape(req.After)
	}
	if req.Facets != "" {
		u += "&facets=" + urlQueryEscape(req.Facets)
	}
	err := c.getJSON(ctx, u, "search", &res)
	return res, err
}

// errNotFound is the daemon's 404, for callers that treat it as an answer.
var errNotFound = errors.New("not found")

// getJSON GETs path from the running daemon and decodes its answer.
func (c *apiClient) getJSON(ctx context.Context, path, what string, out any) error {
	return c.do(ctx, http.MethodGet, path, nil, what, out)
}

// do sends a request (body as JSON when not nil) to the running daemon and
// decodes its JSON answer into out (when not nil). A 404 wraps
// errNotFound; any other non-2xx answer becomes an error carrying the
// API's message.
func (c *apiClient) do(ctx context.Context, method, path string, body any, what string, out any) error {
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("ask the running daemon at %s: %w", c.base, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		var e struct {
			Error string `json:"error"`
		}
		json.NewDecoder(resp.Body).Decode(&e)
		msg := fmt.Errorf("%s: %s", what, orDefault(e.Error, resp.Status))
		if resp.StatusCode == http.StatusNotFound {
			return fmt.Errorf("%w: %w", errNotFound, msg)
		}
		return msg
	}
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("%s: decode answer from %s: %w", what, c.base, err)
	}
	return nil
}
