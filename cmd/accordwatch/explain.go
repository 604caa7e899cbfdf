package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/accordwatch/accordwatch"
	"github.com/accordwatch/accordwatch/classify"
	"github.com/spf13/cobra"
)

// writeExplanation prints an item's tags with the evidence for each, in
// the order an analyst reads them.
func writeExplanation(w io.Writer, id, title string, t accordwatch.Tags) {
	fmt.Fprintf(w, "%s  %s\n", id, oneLine(title))
	summary := []string{
		"signatories: " + listOrNone(t.Signatories),
		"companies: " + listOrNone(t.Companies),
		fmt.Sprintf("state-linked: %v %s", t.StateLinked, listOrNone(t.States)),
		"actors: " + listOrNone(t.Actors),
		"attack: " + listOrNone(t.AttackTypes),
		"principles: " + listOrNone(principleNames(t.Principles)),
		fmt.Sprintf("severity: %d", t.Severity),
	}
	for _, s := range summary {
		fmt.Fprintf(w, "  %s\n", s)
	}
	for _, a := range t.Attribution {
		by := ""
		if a.By != "" {
			by = " by " + a.By
		}
		fmt.Fprintf(w, "  attribution: %s %s%s\n", orDefault(a.State, "(unnamed state)"), a.Strength, by)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  TAG\tMATCH\tWHERE\tRULE")
	for _, e := range t.Evidence {
		where := e.Field
		if e.Offset >= 0 {
			where = fmt.Sprintf("%s@%d", e.Field, e.Offset)
		}
		match := "—"
		if e.Match != "" {
			match = fmt.Sprintf("%q", truncate(oneLine(e.Match), 48))
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", e.Tag, match, where, e.Rule)
	}
	tw.Flush()
	fmt.Fprintln(w)
}

func listOrNone(v []string) string {
	if len(v) == 0 {
		return "—"
	}
	return strings.Join(v, ", ")
}

func principleNames(ps []accordwatch.Principle) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = string(p)
	}
	return out
}

func evalCmd(e *env) *cobra.Command {
	var gold string
	var misses, asJSON bool
	cmd := &cobra.Command{
		Use:   "eval --gold FILE",
		Short: "Measure the tagger against labelled items: precision, recall and F1 per label, attack-type accuracy, misses",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if gold == "" {
				return errors.New("eval needs --gold FILE (JSON Lines in the format of shared/data/eval/dev.jsonl)")
			}
			f, err := os.Open(gold)
			if err != nil {
				return fmt.Errorf("gold file: %w", err)
			}
			defer f.Close()
			cl, err := e.newClassifier(cmd)
			if err != nil {
				return err
			}
			rep, err := classify.Evaluate(cl, f)
			if err != nil {
				return fmt.Errorf("%s: %w", gold, err)
			}
			if asJSON {
				enc := json.NewEncoder(e.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(rep)
			}
			return rep.WriteText(e.stdout, misses)
		},
	}
	cmd.Flags().StringVar(&gold, "gold", "", "labelled JSON Lines file")
	cmd.Flags().BoolVar(&misses, "misses", true, "list every disagreement")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	return cmd
}
