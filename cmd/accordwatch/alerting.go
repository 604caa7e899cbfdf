package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/accordwatch/accordwatch"
	"github.com/accordwatch/accordwatch/config"
	"github.com/accordwatch/accordwatch/index"
	"github.com/spf13/cobra"
)

func silenceCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "silence",
		Short: "Mute alerts that match a query for a while",
	}
	var dur time.Duration
	var reason string
	add := &cobra.Command{
		Use:   "add QUERY --for 24h --reason TEXT",
		Short: "Mute alerts whose item matches QUERY until the silence expires",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			q := strings.Join(args, " ")
			if _, err := index.Parse(q); err != nil {
				return fmt.Errorf("query %q: %w", q, err)
			}
			if dur <= 0 {
				return errors.New("--for must be a positive duration such as 24h")
			}
			if strings.TrimSpace(reason) == "" {
				return errors.New("--reason is required: say why, so the next person knows")
			}
			now := time.Now().UTC()
			sl := accordwatch.Silence{ID: newID(), Query: q, Reason: reason, Created: now, Expires: now.Add(dur)}
			err := withSilences(cmd, e, func(s silenceStore) error { return s.AddSilence(sl) })
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "silence %s: %q muted until %s (%s)\n", sl.ID, sl.Query, sl.Expires.Format(time.RFC3339), sl.Reason)
			return nil
		},
	}
	add.Flags().DurationVar(&dur, "for", 24*time.Hour, "how long the silence lasts")
	add.Flags().StringVar(&reason, "reason", "", "why (required)")
	var all bool
	list := &cobra.Command{
		Use:   "list",
		Short: "List active silences (--all for expired ones too)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var l []accordwatch.Silence
			err := withSilences(cmd, e, func(s silenceStore) error {
				var err error
				l, err = s.Silences()
				return err
			})
			if err != nil {
				return err
			}
			now := time.Now()
			tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tSTATE\tEXPIRES\tQUERY\tREASON")
			shown := 0
			for _, sl := range l {
				state := "active"
				if !sl.Active(now) {
					if !all {
						continue
					}
					state = "expired"
				}
				shown++
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", sl.ID, state, sl.Expires.Local().Format("2006-01-02 15:04"), sl.Query, sl.Reason)
			}
			tw.Flush()
			if shown == 0 {
				fmt.Fprintln(e.stdout, "no active silences")
			}
			return nil
		},
	}
	list.Flags().BoolVar(&all, "all", false, "include expired silences")
	expire := &cobra.Command{
		Use:   "expire ID",
		Short: "End a silence now",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var sl accordwatch.Silence
			var ok bool
			err := withSilences(cmd, e, func(s silenceStore) error {
				var err error
				sl, ok, err = s.ExpireSilence(args[0], time.Now().UTC())
				return err
			})
			if err != nil {
				return err
			}
			if !ok {
				return fmt.Errorf("no silence %q (see accordwatch silence list --all)", args[0])
			}
			fmt.Fprintf(e.stdout, "silence %s expired: %q\n", sl.ID, sl.Query)
			return nil
		},
	}
	cmd.AddCommand(add, list, expire)
	return cmd
}

func newID() string {
	b := make([]byte, 4)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// silenceStore is what the silence commands need, from the store or from
// a running serve's API.
type silenceStore interface {
	AddSilence(accordwatch.Silence) error
	Silences() ([]accordwatch.Silence, error)
	ExpireSilence(id string, now time.Time) (accordwatch.Silence, bool, error)
}

// withSilences runs fn against the running daemon when there is one (it
// owns the store), else against the store directly.
func withSilences(cmd *cobra.Command, e *env, fn func(silenceStore) error) error {
	cfg, err := e.loadConfig(cmd)
	if err != nil {
		return err
	}
	if c, ok := runningServe(cfg.DataDir, e.getenv); ok {
		return fn(apiSilences{c: c, ctx: cmd.Context()})
	}
	st, err := openStoreRW(cmd.Context(), e, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	return fn(st)
}

// apiSilences speaks serve's /api/silences.
type apiSilences struct {
	c   *apiClient
	ctx context.Context
}

func (a apiSilences) AddSilence(sl accordwatch.Silence) error {
	return a.c.do(a.ctx, http.MethodPost, "/api/silences", sl, "add silence", nil)
}

func (a apiSilences) Silences() ([]accordwatch.Silence, error) {
	var body struct {
		Silences []accordwatch.Silence `json:"silences"`
	}
	err := a.c.do(a.ctx, http.MethodGet, "/api/silences", nil, "list silences", &body)
	return body.Silences, err
}

func (a apiSilences) ExpireSilence(id string, _ time.Time) (accordwatch.Silence, bool, error) {
	var sl accordwatch.Silence
	err := a.c.do(a.ctx, http.MethodPost, "/api/silences/"+url.PathEscape(id)+"/expire", nil, "expire silence", &sl)
	if errors.Is(err, errNotFound) {
		return sl, false, nil
	}
	return sl, err == nil, err
}

func rulesCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rules",
		Short: "List and back-test alert rules",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := e.loadConfig(cmd)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "RULE\tCHANNEL\tMIN SEV\tRATE CAP\tQUERY")
			for _, r := range cfg.RuleList() {
				fmt.Fprintf(tw, "%s\t%s\t%d\t%d/h\t%s\n", r.Name, orDefault(r.Channel, orDefault(cfg.Slack.Channel, "(default)")), r.MinSeverity, r.RateCap, r.Query)
			}
			return tw.Flush()
		},
	}
	var since string
	var limit int
	test := &cobra.Command{
		Use:   "test NAME --since 7d",
		Short: "Back-test a rule over the index: what would it have sent?",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := e.loadConfig(cmd)
			if err != nil {
				return err
			}
			rule, err := findRule(cfg, args[0])
			if err != nil {
				return err
			}
			q := fmt.Sprintf("(%s) AND since:%s", rule.Query, since)
			if rule.MinSeverity > 0 {
				q += fmt.Sprintf(" AND severity:>=%d", rule.MinSeverity)
			}
			res, err := doSearch(cmd.Context(), e, cfg, accordwatch.SearchRequest{Query: q, Size: limit, Sort: accordwatch.SortNewest, Facets: strings.Join(printedFacets(), ",")})
			if err != nil {
				return err
			}
			channel := orDefault(rule.Channel, orDefault(cfg.Slack.Channel, "(default channel)"))
			fmt.Fprintf(e.stdout, "rule %q over the last %s: %d matching items would have alerted %s\nquery: %s\n\n", rule.Name, since, res.Total, channel, q)
			if res.Total > 0 {
				printResults(e, res)
			}
			if rule.RateCap > 0 && res.Total > 0 {
				fmt.Fprintf(e.stdout, "\nrate cap %d/hour: bursts above it would have been summarised in one message\n", rule.RateCap)
			}
			return nil
		},
	}
	test.Flags().StringVar(&since, "since", "7d", "how far back (e.g. 24h, 7d, 4w)")
	test.Flags().IntVar(&limit, "limit", 50, "items to list")
	cmd.AddCommand(test)
	return cmd
}

func findRule(cfg *config.Config, name string) (accordwatch.Rule, error) {
	var names []string
	for _, r := range cfg.RuleList() {
		if r.Name == name {
			return r, nil
		}
		names = append(names, r.Name)
	}
	return accordwatch.Rule{}, fmt.Errorf("no rule %q; rules are: %s", name, strings.Join(names, ", "))
}
