package dictimport

import (
	"slices"

	"github.com/accordwatch/accordwatch/classify"
)

// ImportStats says what ImportActors did.
type ImportStats struct {
	// Read is the number of actors in the dataset.
	Read int
	// New actors are unknown to the base dictionary; Extended ones are
	// known and gain aliases; the rest were already complete.
	New, Extended, Unchanged int
	AliasesAdded             int
	// AliasesDropped were unusable in news text, named a state, company or
	// naming family, or were cluster IDs.
	AliasesDropped int
}

// ImportActors layers actors read from a newer release of a dataset
// (ActorsFromMISP, ActorsFromATTACK, ActorsFromMicrosoft) over base,
// normally classify.Embedded(). It returns a user dictionary holding only what
// changes: actors base does not know, and for actors it does know, base's
// whole entry plus the new aliases. Whole entries, because a user
// dictionary replaces entries by name: curated rules (case, neighbours,
// country) must survive the update.
func ImportActors(base classify.Dictionary, fresh []classify.Entry) (classify.Dictionary, ImportStats) {
	st := ImportStats{Read: len(fresh)}
	reserved := map[string]bool{}
	for _, sec := range [][]classify.Entry{base.Signatories, base.Companies, base.Orgs, base.States, base.Families} {
		for _, e := range sec {
			for _, l := range [][]string{{e.Name}, e.Match, e.CaseSensitive, e.Demonyms, e.Capitals, e.Agencies} {
				for _, p := range l {
					reserved[aliasKey(p)] = true
				}
			}
		}
	}
	knownState := map[string]bool{}
	for _, s := range base.States {
		knownState[s.Name] = true
	}
	clean := make([]classify.Entry, 0, len(fresh))
	for _, e := range fresh {
		drop := func(a string) bool {
			if reserved[aliasKey(a)] || (classify.IsClusterID(a) && aliasKey(a) != aliasKey(e.Name)) {
				st.AliasesDropped++
				return true
			}
			return false
		}
		e.Match = slices.DeleteFunc(slices.Clone(e.Match), drop)
		e.CaseSensitive = slices.DeleteFunc(slices.Clone(e.CaseSensitive), drop)
		if e.Country != "" && !knownState[e.Country] {
			e.Country = "" // the tagger can only attribute to states it knows
		}
		if len(e.Match)+len(e.CaseSensitive) > 0 {
			clean = append(clean, e)
		}
	}

	byName := map[string]classify.Entry{}
	for _, e := range base.Actors {
		byName[aliasKey(e.Name)] = e
	}
	var out classify.Dictionary
	// Base first: its names are canonical and its fields win.
	for _, m := range MergeActors(base.Actors, clean) {
		old, known := byName[aliasKey(m.Name)]
		if !known && classify.IsClusterID(m.Name) {
			// The shape rule tags it already, under its own name.
			st.AliasesDropped += len(m.Match) + len(m.CaseSensitive)
			continue
		}
		if !known {
			st.New++
			st.AliasesAdded += len(m.Match) + len(m.CaseSensitive)
			out.Actors = append(out.Actors, m)
			continue
		}
		have := map[string]bool{}
		for _, a := range slices.Concat([]string{old.Name}, old.Match, old.CaseSensitive) {
			have[aliasKey(a)] = true
		}
		ext := old
		ext.Match, ext.CaseSensitive = slices.Clone(old.Match), slices.Clone(old.CaseSensitive)
		added := 0
		for _, a := range m.Match {
			if !have[aliasKey(a)] && !classify.IsClusterID(a) {
				ext.Match = append(ext.Match, a)
				have[aliasKey(a)] = true
				added++
			}
		}
		for _, a := range m.CaseSensitive {
			if !have[aliasKey(a)] && !classify.IsClusterID(a) {
				ext.CaseSensitive = append(ext.CaseSensitive, a)
				have[aliasKey(a)] = true
				added++
			}
		}
		if added == 0 {
			st.Unchanged++
			continue
		}
		st.Extended++
		st.AliasesAdded += added
		sortAliases(ext.Match)
		sortAliases(ext.CaseSensitive)
		out.Actors = append(out.Actors, ext)
	}
	return out, st
}
