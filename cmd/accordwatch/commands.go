package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/accordwatch/accordwatch"
	"github.com/accordwatch/accordwatch/classify"
	"github.com/accordwatch/accordwatch/config"
	"github.com/accordwatch/accordwatch/feeds"
	"github.com/accordwatch/accordwatch/index"
	"github.com/accordwatch/accordwatch/monitor"
	"github.com/accordwatch/accordwatch/notify"
	"github.com/accordwatch/accordwatch/web"
	"github.com/spf13/cobra"
)

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

func serveCmd(e *env) *cobra.Command {
	var listen string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the daemon: poll feeds on their schedules, alert, and serve the search API",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) (err error) {
			cfg, err := e.loadConfig(cmd)
			if err != nil {
				return err
			}
			if cmd.Flags().Changed("listen") {
				cfg.Listen = listen
			}
			log := e.logger()
			e.applyMemoryLimit(cfg)
			ctx := cmd.Context()
			a, err := openApp(ctx, cfg, log, "serve", e.databaseURL())
			if err != nil {
				return err
			}
			// From here on, every return goes through the one ordered
			// teardown (see shutdown), whatever was started by then.
			sd := newShutdown(log, a)
			defer func() { err = sd.close(err) }()
			log.Info("starting", "version", version, "config", cfg.Path, "data_dir", cfg.DataDir,
				"feeds", len(cfg.FeedList()), "rules", len(cfg.RuleList()), "alerts_to", a.notifier.Mode())
			for _, w := range cfg.Warnings() {
				log.Warn(w)
			}

			ln, err := net.Listen("tcp", cfg.Listen)
			if err != nil {
				return fmt.Errorf("listen on %s: %w", cfg.Listen, err)
			}
			sd.ln = ln
			if hook, ok := ctx.Value(listenHookKey{}).(func(net.Listener)); ok {
				hook(ln)
			}
			if err := a.writeOwner(ln.Addr().String()); err != nil {
				return err
			}
			health := healthSource{cfg: cfg, st: a.store}
			token := cfg.APIToken
			mux := http.NewServeMux()
			mux.Handle("/api/silences", web.SilencesHandler(a.store, token))
			mux.Handle("/api/silences/", web.SilencesHandler(a.store, token))
			mux.Handle("GET /api/incidents", web.IncidentsHandler(a.store, token))
			mux.Handle("GET /api/incidents/{id}", web.IncidentsHandler(a.store, token))
			mux.Handle("GET /api/digest", digestHandler(cfg, a.index, health, token, log))
			mux.Handle("POST /api/digest/post", digestPostHandler(a, cfg, token, log))
			if cfg.Slack.SigningSecret.IsSet() {
				// Slack signs these requests; the bearer token does not apply.
				mux.Handle("POST /slack/commands", notify.SlashHandler(cfg.Slack.SigningSecret, a.index, log.With("component", "slash")))
				log.Info("slash command endpoint enabled", "path", "/slack/commands")
			}
			mux.Handle("/", web.Handler(web.Options{
				Searcher: a.index, Items: a.store, Incidents: a.store, Version: version, Feeds: health, Metrics: a.metrics.Handler(),
				Token: token, Logger: log.With("component", "web"),
			}))
			guard := web.Guard(web.GuardOptions{
				Listen: cfg.Listen, AllowedHosts: allowedHosts(cfg), Token: token,
				SignedPaths: []string{"/slack/commands"}, Logger: log.With("component", "web"),
			})
			srv := web.NewServer(guard(mux), web.ServerOptions{Logger: log.With("component", "http")})
			sd.serve(srv, web.LimitListener(ln, 0))
			log.Info("serving API", "addr", ln.Addr().String())

			// The jobs outlive ctx: the teardown cancels them, in its order.
			jobs, cancelJobs := context.WithCancel(context.WithoutCancel(ctx))
			sd.cancelJobs = cancelJobs
			feedList, err := allFeeds(cfg, a.store)
			if err != nil {
				return err
			}
			sched, err := monitor.NewScheduler(a.pipeline, enabled(feedList), log.With("component", "schedule"))
			if err != nil {
				return err
			}
			if err := shareFeeds(sched, a); err != nil {
				return err
			}
			digestSpec, runDigest, err := digestJob(a, cfg, log)
			if err != nil {
				return err
			}
			if err := sched.AddJob(digestSpec, "digest", runDigest); err != nil {
				return err
			}
			if err := sched.Start(jobs); err != nil {
				return err
			}
			sd.sched = sched
			follow, err := followDatabase(jobs, a, sched, log)
			if err != nil {
				return err
			}
			sd.tasks = append(sd.tasks, follow...)
			// Catch-up: a digest missed while the daemon was down goes out once now.
			sd.tasks = append(sd.tasks, goTask("catch-up digest", func() { runDigest(jobs) }))
			if cfg.Slack.AppToken.IsSet() {
				ix := a.index
				sd.socket = goTask("Socket Mode", func() {
					err := notify.RunSocketMode(jobs, cfg.Slack.AppToken, cfg.Slack.BotToken, cfg.Slack.APIURL, ix, log.With("component", "socketmode"))
					if err != nil && jobs.Err() == nil {
						log.Error("Slack Socket Mode stopped; /accord is unavailable", "err", err)
					}
				})
			}
			select {
			case <-ctx.Done():
				log.Info("shutting down", "reason", context.Cause(ctx))
				return nil
			case err := <-sd.served:
				sd.served = nil
				log.Error("API server stopped; shutting down", "err", err)
				return fmt.Errorf("API server stopped: %w", err)
			}
		},
	}
	cmd.Flags().StringVar(&listen, "listen", "", "HTTP address for the API (default from config, 127.0.0.1:8080)")
	return cmd
}

// allowedHosts are the Host names serve answers besides IP literals,
// localhost and the listen host: config's allowed_hosts and the host of
// digest.base_url, which links in the digest point at.
func allowedHosts(cfg *config.Config) []string {
	hosts := slices.Clone(cfg.AllowedHosts)
	if u, err := url.Parse(cfg.Digest.BaseURL); err == nil && u.Hostname() != "" {
		hosts = append(hosts, u.Hostname())
	}
	return hosts
}

func runCmd(e *env) *cobra.Command {
	var once bool
	var feedPath string
	cmd := &cobra.Command{
		Use:   "run --once",
		Short: "Run one full pass: fetch, classify, store, index, alert",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !once {
				return errors.New("run needs --once (use serve for the daemon)")
			}
			cfg, err := e.loadConfig(cmd)
			if err != nil {
				return err
			}
			var list []accordwatch.Feed
			if feedPath != "" {
				if list, err = feeds.ExpandPath(feedPath); err != nil {
					return fmt.Errorf("--feeds %s: %w", feedPath, err)
				}
			}
			e.applyMemoryLimit(cfg)
			a, err := openApp(cmd.Context(), cfg, e.logger(), "run --once", e.databaseURL())
			if err != nil {
				return err
			}
			defer a.Close()
			if feedPath == "" {
				all, err := allFeeds(cfg, a.store)
				if err != nil {
					return err
				}
				list = enabled(all)
			}
			if len(list) == 0 {
				return errors.New("no feeds to poll: add some to config.yaml, import an OPML file (feeds import) or use --feeds PATH")
			}
			rep, err := runPass(cmd.Context(), a, list)
			printPass(e, rep)
			if err != nil {
				return fmt.Errorf("run: %w", err)
			}
			failed := 0
			for _, f := range rep.Feeds {
				if f.Err != nil {
					failed++
				}
			}
			if failed == len(rep.Feeds) {
				return exitCode{1, "every feed failed"}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&once, "once", false, "run one pass and exit")
	cmd.Flags().StringVar(&feedPath, "feeds", "", "take feeds from this file or directory instead of the config")
	return cmd
}

func printPass(e *env, rep monitor.PassReport) {
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "FEED\tSTATUS\tITEMS\tNEW\tCHANGED\tALERTS")
	var items, newItems, alerts int
	for _, f := range rep.Feeds {
		name := orDefault(f.Feed.Name, orDefault(f.Title, accordwatch.RedactURL(f.Feed.URL)))
		status := "ok"
		switch {
		case f.Err != nil:
			status = "FAILED: " + f.Err.Error()
		case f.NotModified:
			status = "not modified"
		case f.Shared:
			status = "skipped: leased or not due"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\n", truncate(name, 48), status, f.Fetched, f.New, f.Changed, f.Alerts)
		items += f.Fetched
		newItems += f.New
		alerts += f.Alerts
	}
	tw.Flush()
	fmt.Fprintf(e.stdout, "\n%d feeds, %d items (%d new), %d alerts queued; delivered %d, failed %d, deferred %d\n",
		len(rep.Feeds), items, newItems, alerts, rep.Drain.Sent, rep.Drain.Failed, rep.Drain.Deferred)
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func searchCmd(e *env) *cobra.Command {
	var asJSON bool
	var limit, size, page int
	var sort, after, facets string
	cmd := &cobra.Command{
		Use:   "search QUERY",
		Short: "Search stored items (asks the running daemon when there is one)",
		Long: `Search stored items with the query language:
  words and "phrases", AND, OR, NOT / -term, parentheses,
  field:value on signatory, company, actor, state, state_linked, attack,
  principle, feed, title, text; severity:>=70; published:[2026-01-01 TO 2026-02-01];
  since:7d.  Example: state:russia AND signatory:microsoft AND NOT attack:ddos since:30d`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := e.loadConfig(cmd)
			if err != nil {
				return err
			}
			if cmd.Flags().Changed("size") {
				limit = size
			}
			req := accordwatch.SearchRequest{Query: strings.Join(args, " "), Size: limit, Sort: sort, From: (page - 1) * limit, After: after, Facets: facets}
			if facets == "" && !asJSON {
				// Count only the facets the table prints.
				req.Facets = strings.Join(printedFacets(), ",")
			}
			if _, err := index.Parse(req.Query); err != nil {
				return fmt.Errorf("query %q: %w", req.Query, err)
			}
			res, err := doSearch(cmd.Context(), e, cfg, req)
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(e.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(res)
			}
			printResults(e, res)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the full result as JSON")
	cmd.Flags().IntVar(&limit, "limit", 20, "hits per page")
	cmd.Flags().IntVar(&size, "size", 20, "hits per page (same as --limit)")
	cmd.Flags().IntVar(&page, "page", 1, "page number")
	cmd.Flags().StringVar(&after, "after", "", "cursor printed as 'next' by the previous page, for deep paging")
	cmd.Flags().StringVar(&sort, "sort", "", "newest or relevance (default: relevance for free text, else newest)")
	cmd.Flags().StringVar(&facets, "facets", "", "facets to count: all, none, or a comma-separated list (default: those printed; all with --json)")
	return cmd
}

// printedFacets are the facets printResults shows, in its order.
func printedFacets() []string { return []string{"signatory", "state", "actor", "attack", "principle"} }

// doSearch asks a running serve when there is one (it owns the index),
// and otherwise opens the index directly.
func doSearch(ctx context.Context, e *env, cfg *config.Config, req accordwatch.SearchRequest) (accordwatch.SearchResult, error) {
	dataDir, files := cfg.DataDir, dictionaryFiles(cfg)
	if c, ok := runningServe(dataDir, e.getenv); ok {
		return c.search(ctx, req)
	}
	dir := filepath.Join(dataDir, indexDir)
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return accordwatch.SearchResult{}, fmt.Errorf("no index in %s yet; run `accordwatch run --once` or `accordwatch serve` first", dataDir)
	}
	cl, err := classify.New(classify.Options{ExtraDictionaries: files})
	if err != nil {
		return accordwatch.SearchResult{}, err
	}
	ix, err := index.Open(dir, index.Options{Resolve: cl.Resolve})
	if err != nil {
		if errors.Is(err, index.ErrLocked) {
			return accordwatch.SearchResult{}, lockedError(dataDir, err)
		}
		return accordwatch.SearchResult{}, err
	}
	defer ix.Close()
	return ix.Search(ctx, req)
}

func printResults(e *env, res accordwatch.SearchResult) {
	if len(res.Hits) == 0 {
		fmt.Fprintf(e.stdout, "no items match %q\n", res.Query)
		return
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "DATE\tSEV\tTITLE\tTAGS\tLINK")
	for _, h := range res.Hits {
		var tags []string
		tags = append(tags, h.Signatories...)
		tags = append(tags, h.States...)
		tags = append(tags, h.Actors...)
		tags = append(tags, h.AttackTypes...)
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\n", h.Published.UTC().Format("2006-01-02"), h.Severity,
			truncate(oneLine(h.Title), 70), truncate(strings.Join(tags, ", "), 50), h.Link)
	}
	tw.Flush()
	plus := ""
	if res.TotalAtLeast {
		plus = "+"
	}
	fmt.Fprintf(e.stdout, "\n%d of %d%s items (%.0f ms)\n", len(res.Hits), res.Total, plus, res.TookMS)
	if res.Next != "" {
		fmt.Fprintf(e.stdout, "next page: --after %s\n", res.Next)
	}
	for _, name := range printedFacets() {
		fc := res.Facets[name]
		if len(fc) == 0 {
			continue
		}
		parts := make([]string, 0, len(fc))
		for _, f := range fc {
			parts = append(parts, fmt.Sprintf("%s (%d)", f.Value, f.Count))
		}
		fmt.Fprintf(e.stdout, "%-10s %s\n", name+":", strings.Join(parts, ", "))
	}
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func reindexCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "reindex",
		Short: "Rebuild the search index from the store",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := e.loadConfig(cmd)
			if err != nil {
				return err
			}
			dir := filepath.Join(cfg.DataDir, indexDir)
			a, err := openApp(cmd.Context(), cfg, e.logger(), "reindex", e.databaseURL())
			if err != nil {
				return err
			}
			// Start from an empty index so deleted mappings or stale
			// documents cannot survive.
			a.index.Close()
			a.index = nil
			if err := os.RemoveAll(dir); err != nil {
				a.Close()
				return fmt.Errorf("remove old index: %w", err)
			}
			a.index, err = index.Open(dir, index.Options{Resolve: a.classifier.Resolve})
			if err != nil {
				a.Close()
				return err
			}
			defer a.Close()
			total, _ := a.store.CountItems()
			n, err := reindex(cmd.Context(), a.store, a.index, func(read, written int) {
				fmt.Fprintf(e.stderr, "\rreindexed %d/%d items (%d read)", written, total, read)
			})
			fmt.Fprintln(e.stderr)
			if err != nil {
				return fmt.Errorf("reindex: %w", err)
			}
			fmt.Fprintf(e.stdout, "reindexed %d items into %s\n", n, dir)
			return nil
		},
	}
}

// classifyInput is one JSON Lines record for `accordwatch classify`.
type classifyInput struct {
	ID        *string `json:"id"`
	Title     string  `json:"title"`
	Text      string  `json:"text"`
	Published string  `json:"published"`
}

// classifyOutput is the classify contract, field order included.
type classifyOutput struct {
	ID          string                    `json:"id"`
	Signatories []string                  `json:"signatories"`
	Companies   []string                  `json:"companies"`
	StateLinked bool                      `json:"state_linked"`
	States      []string                  `json:"states"`
	Actors      []string                  `json:"actors"`
	AttackTypes []string                  `json:"attack_types"`
	Principles  []accordwatch.Principle   `json:"principles"`
	Severity    int                       `json:"severity"`
	Evidence    []accordwatch.Evidence    `json:"evidence"`
	Roles       map[string]string         `json:"roles,omitempty"`
	Attribution []accordwatch.Attribution `json:"attribution,omitempty"`
}

func classifyCmd(e *env) *cobra.Command {
	var explain bool
	cmd := &cobra.Command{
		Use:   "classify",
		Short: "Tag JSON Lines items from stdin (id, title, text, published) and write one JSON object per line",
		Long: `Tag JSON Lines items from stdin. Each input line is an object with at least
"id", "title" and "text" (optional "published"); each output line has id,
signatories, companies, state_linked, states, actors, attack_types, principles,
severity and evidence. --explain prints the evidence behind every tag instead.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cl, err := e.newClassifier(cmd)
			if err != nil {
				return err
			}
			sc := bufio.NewScanner(e.stdin)
			sc.Buffer(make([]byte, 64<<10), 16<<20)
			out := bufio.NewWriter(e.stdout)
			defer out.Flush()
			enc := json.NewEncoder(out)
			bad := 0
			for line := 1; sc.Scan(); line++ {
				raw := strings.TrimSpace(sc.Text())
				if raw == "" {
					continue
				}
				var in classifyInput
				if err := json.Unmarshal([]byte(raw), &in); err != nil {
					fmt.Fprintf(e.stderr, "line %d: invalid JSON: %v\n", line, err)
					bad++
					continue
				}
				if in.ID == nil {
					fmt.Fprintf(e.stderr, "line %d: missing \"id\"\n", line)
					bad++
					continue
				}
				pub, err := parsePublished(in.Published)
				if err != nil {
					fmt.Fprintf(e.stderr, "line %d: published: %v (classified as undated)\n", line, err)
				}
				t := cl.Classify(in.Title, in.Text, pub)
				if explain {
					writeExplanation(out, *in.ID, in.Title, t)
					continue
				}
				if err := enc.Encode(classifyOutput{
					ID: *in.ID, Signatories: t.Signatories, Companies: t.Companies, StateLinked: t.StateLinked,
					States: t.States, Actors: t.Actors, AttackTypes: t.AttackTypes, Principles: t.Principles,
					Severity: t.Severity, Evidence: t.Evidence, Roles: t.Roles, Attribution: t.Attribution,
				}); err != nil {
					return err
				}
			}
			if err := sc.Err(); err != nil {
				return fmt.Errorf("read stdin: %w", err)
			}
			if bad > 0 {
				return exitCode{1, fmt.Sprintf("%d malformed line(s) skipped", bad)}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&explain, "explain", false, "print each tag with the words, place and rule behind it")
	return cmd
}

func parsePublished(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("unrecognised date %q", s)
}
