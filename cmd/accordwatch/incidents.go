package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/accordwatch/accordwatch"
	"github.com/accordwatch/accordwatch/config"
	"github.com/accordwatch/accordwatch/store"
	"github.com/accordwatch/accordwatch/web"
	"github.com/spf13/cobra"
)

// incidentSource is what the incidents commands read: the running
// daemon's API, or the store when no daemon owns it.
type incidentSource interface {
	recent(ctx context.Context, limit int) ([]accordwatch.Incident, error)
	// show returns one incident with its reports; errNotFound when there
	// is neither an incident nor an item with that ID.
	show(ctx context.Context, id string) (accordwatch.IncidentDetail, error)
}

func incidentsCmd(e *env) *cobra.Command {
	var asJSON bool
	var limit int
	cmd := &cobra.Command{
		Use:   "incidents",
		Short: "List recent incidents that merged several reports (show ID says why each joined)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if limit < 1 {
				return errors.New("--limit must be at least 1")
			}
			var l []accordwatch.Incident
			err := withIncidents(cmd, e, func(src incidentSource) error {
				var err error
				l, err = src.recent(cmd.Context(), limit)
				return err
			})
			if err != nil {
				return err
			}
			if asJSON {
				if l == nil {
					l = []accordwatch.Incident{}
				}
				return writeIndentedJSON(e.stdout, map[string]any{"incidents": l})
			}
			return printIncidents(e.stdout, l)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.Flags().IntVar(&limit, "limit", 20, "incidents to list, most recently seen first")
	var showJSON bool
	show := &cobra.Command{
		Use:   "show ID",
		Short: "Show an incident's reports and why each joined: shared specifics, score and threshold",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var d accordwatch.IncidentDetail
			err := withIncidents(cmd, e, func(src incidentSource) error {
				var err error
				d, err = src.show(cmd.Context(), args[0])
				return err
			})
			if errors.Is(err, errNotFound) {
				return fmt.Errorf("no incident or item %q (see accordwatch incidents)", args[0])
			}
			if err != nil {
				return err
			}
			if showJSON {
				return writeIndentedJSON(e.stdout, d)
			}
			return printIncident(e.stdout, d)
		},
	}
	show.Flags().BoolVar(&showJSON, "json", false, "print JSON")
	cmd.AddCommand(show)
	return cmd
}

func writeIndentedJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// withIncidents runs fn against the running daemon when there is one (it
// owns the store), else against PostgreSQL or the bbolt file, read-only.
func withIncidents(cmd *cobra.Command, e *env, fn func(incidentSource) error) error {
	cfg, err := e.loadConfig(cmd)
	if err != nil {
		return err
	}
	if c, ok := runningServe(cfg.DataDir, e.getenv); ok {
		return fn(apiIncidents{c})
	}
	st, err := openIncidentStore(cmd.Context(), e, cfg)
	if err != nil {
		return err
	}
	if st == nil {
		return fn(storeIncidents{})
	}
	defer st.Close()
	return fn(storeIncidents{st})
}

// incidentStore is web.IncidentStore with Close.
type incidentStore interface {
	web.IncidentStore
	Close() error
}

// openIncidentStore opens the store for reading; nil when the bbolt file
// does not exist yet (nothing was ever stored).
func openIncidentStore(ctx context.Context, e *env, cfg *config.Config) (incidentStore, error) {
	if dbURL := e.databaseURL(); dbURL.IsSet() {
		return openDatabase(ctx, dbURL)
	}
	path := filepath.Join(cfg.DataDir, storeFile)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	st, err := store.Open(path, store.Options{ReadOnly: true, Timeout: 2 * time.Second})
	if err != nil {
		if errors.Is(err, store.ErrLocked) {
			return nil, lockedError(cfg.DataDir, err)
		}
		return nil, err
	}
	return st, nil
}

// storeIncidents reads the store; a nil store holds nothing.
type storeIncidents struct{ st web.IncidentStore }

func (s storeIncidents) recent(_ context.Context, limit int) ([]accordwatch.Incident, error) {
	if s.st == nil {
		return nil, nil
	}
	return s.st.RecentIncidents(limit)
}

func (s storeIncidents) show(_ context.Context, id string) (accordwatch.IncidentDetail, error) {
	if s.st == nil {
		return accordwatch.IncidentDetail{}, errNotFound
	}
	d, ok, err := web.Incident(s.st, id)
	if err == nil && !ok {
		err = errNotFound
	}
	return d, err
}

// apiIncidents asks serve's /api/incidents.
type apiIncidents struct{ c *apiClient }

func (a apiIncidents) recent(ctx context.Context, limit int) ([]accordwatch.Incident, error) {
	var body struct {
		Incidents []accordwatch.Incident `json:"incidents"`
	}
	err := a.c.getJSON(ctx, "/api/incidents?limit="+strconv.Itoa(limit), "list incidents", &body)
	return body.Incidents, err
}

func (a apiIncidents) show(ctx context.Context, id string) (accordwatch.IncidentDetail, error) {
	var d accordwatch.IncidentDetail
	err := a.c.getJSON(ctx, "/api/incidents/"+url.PathEscape(id), "show incident", &d)
	return d, err
}

// timeFormat shows times in UTC, so that output does not depend on the
// machine's zone.
const timeFormat = "2006-01-02 15:04 UTC"

func printIncidents(w io.Writer, l []accordwatch.Incident) error {
	if len(l) == 0 {
		_, err := fmt.Fprintln(w, "no merged incidents yet (an incident is stored once a second report joins it)")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tLAST SEEN\tREPORTS\tSEVERITY\tTITLE")
	for _, inc := range l {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\n", inc.ID, inc.LastSeen.UTC().Format(timeFormat), inc.SourceCount(), inc.Severity, truncate(oneLine(inc.Title), 80))
	}
	return tw.Flush()
}

// printIncident renders `incidents show`: the incident, its reports, and
// for each report that joined by similarity the score against the
// threshold and the shared specifics behind it.
func printIncident(w io.Writer, d accordwatch.IncidentDetail) error {
	inc := d.Incident
	fmt.Fprintf(w, "incident %s: %s\n", inc.ID, oneLine(inc.Title))
	if inc.Link != "" {
		fmt.Fprintf(w, "link: %s\n", inc.Link)
	}
	fmt.Fprintf(w, "first seen %s, last seen %s; %s; severity %d\n\n",
		inc.FirstSeen.UTC().Format(timeFormat), inc.LastSeen.UTC().Format(timeFormat), plural(inc.SourceCount(), "report"), inc.Severity)
	fmt.Fprintln(w, "reports:")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, it := range d.Items {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", it.ID, it.Published.UTC().Format(timeFormat), orDefault(it.Feed, "-"), truncate(oneLine(it.Title), 90))
	}
	tw.Flush()
	if n := inc.SourceCount() - len(d.Items); n > 0 {
		fmt.Fprintf(w, "  … and %d more\n", n)
	}
	fmt.Fprintln(w)
	if len(inc.Merges) == 0 {
		fmt.Fprintln(w, "no merge records: the incident has one report, or was stored before merges were recorded")
		return nil
	}
	fmt.Fprintln(w, "why each report joined:")
	for _, m := range inc.Merges {
		fmt.Fprintf(w, "  %s %s (%s)\n", m.ItemID, truncate(oneLine(m.Title), 90), m.At.UTC().Format(timeFormat))
		if m.Link {
			fmt.Fprintln(w, "    same canonical link as an earlier report")
			continue
		}
		fmt.Fprintf(w, "    score %.3f ≥ threshold %.3f: cosine %.3f", m.Score, m.Threshold, m.Cosine)
		if m.Bonus > 0 {
			fmt.Fprintf(w, " + %.3f", m.Bonus)
		}
		if m.Penalty > 0 {
			fmt.Fprintf(w, " − %.3f", m.Penalty)
		}
		fmt.Fprintf(w, "; %d shared specifics\n", m.Specifics)
		var parts []string
		if len(m.Shared) > 0 {
			var terms []string
			for _, s := range m.Shared {
				terms = append(terms, fmt.Sprintf("%s %.3f", s.Term, s.Weight))
			}
			parts = append(parts, "terms "+strings.Join(terms, ", "))
		}
		if len(m.Numbers) > 0 {
			parts = append(parts, "numbers "+strings.Join(m.Numbers, ", "))
		}
		if m.CVE != "" {
			parts = append(parts, "CVE "+strings.ToUpper(m.CVE))
		}
		if m.Attack != "" {
			parts = append(parts, "attack "+m.Attack)
		}
		if m.Subject != "" {
			parts = append(parts, "subject "+m.Subject+" in both headlines")
		}
		if len(parts) > 0 {
			fmt.Fprintf(w, "    shared: %s\n", strings.Join(parts, "; "))
		}
		fmt.Fprintf(w, "    in full: %s\n", m.Reason)
	}
	if n := inc.SourceCount() - 1 - len(inc.Merges); n > 0 {
		fmt.Fprintf(w, "  (%s not kept: an incident keeps the first %d merge records and the latest)\n", plural(n, "more merge record"), accordwatch.MaxIncidentMerges/2)
	}
	return nil
}

// plural writes n thing, or n things.
func plural(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return strconv.Itoa(n) + " " + thing + "s"
}
