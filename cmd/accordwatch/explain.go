package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/accordwatch/accordwatch"
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
