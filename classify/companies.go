package classify

import (
	"slices"
	"strings"
)

// seen counts the mentions of one company or signatory (companies).
type seen struct {
	k    kind
	name string
	n    int
}

// outlet reports whether entity hit h names the publisher rather than a
// subject: a title suffix after a separator ("… - <Company>", "… |
// <Company> Blogs") or a feed trailer ("The post … appeared first on
// <Company> Blog").
func (f *field) outlet(h hit) bool {
	if _, ok := f.cueBefore(cueOutletBefore, h.start, 0); ok {
		return true
	}
	if f.name != "title" || h.start == 0 {
		return false
	}
	// The suffix runs to the end of the title (trailing words such as
	// "Blog" or "News" may follow the name).
	if len(f.toks)-h.end > 2 {
		return false
	}
	gap := f.src[f.toks[h.start-1].end:f.toks[h.start].start]
	return strings.Contains(gap, " - ") || strings.Contains(gap, " | ") || strings.Contains(gap, " – ") || strings.Contains(gap, " — ")
}

// acronymDef is an acronym the item spells out: "Azure Resource Manager
// (ARM)"; tok is the acronym's token in field f.
type acronymDef struct {
	f   *field
	tok int
}

// findAcronyms lists, once per item, every "(ACR)" preceded by words whose
// initials spell ACR.
func (d *doc) findAcronyms() []acronymDef {
	if d.defsDone {
		return d.defs
	}
	d.defsDone = true
	out := d.defs[:0]
	for _, g := range d.fields {
		// Parentheses are rare: find them, then the token inside.
		for from := 0; ; {
			p := strings.IndexByte(g.src[from:], '(')
			if p < 0 {
				break
			}
			from += p + 1
			k, found := slices.BinarySearchFunc(g.toks, from, func(t token, pos int) int { return int(t.start) - pos })
			if !found {
				continue
			}
			t := g.toks[k]
			n := int(t.end - t.start)
			if n < 2 || n > 6 || k < n || int(t.end) >= len(g.src) || g.src[t.end] != ')' || !allUpper(g.src[t.start:t.end]) {
				continue
			}
			spelled := true
			for i := range n {
				if g.src[g.toks[k-n+i].start]|0x20 != g.src[int(t.start)+i]|0x20 {
					spelled = false
					break
				}
			}
			if spelled {
				out = append(out, acronymDef{g, k})
			}
		}
	}
	d.defs = out
	return out
}

func allUpper(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

// redefined reports whether the item defines the acronym matched by h as
// something else: "Azure Resource Manager (ARM)" makes every "ARM" of
// the item that, not the company Arm — but "Hewlett Packard Enterprise
// (HPE)" defines HPE as itself.
func (d *doc) redefined(f *field, h hit) bool {
	if h.end-h.start != 1 {
		return false
	}
	acr := f.src[f.toks[h.start].start:f.toks[h.start].end]
	if len(acr) < 2 || len(acr) > 6 || !allUpper(acr) {
		return false
	}
	for _, def := range d.findAcronyms() {
		g, k := def.f, def.tok
		if g.src[g.toks[k].start:g.toks[k].end] != acr {
			continue
		}
		if !slices.ContainsFunc(g.ents, func(e hit) bool { return e.start < k && e.end > k-len(acr) && e.entry == h.entry }) {
			return true
		}
	}
	return false
}

// companies tags the signatories (from their join date on) and other
// companies an item names, except a publisher's name and an acronym the
// item defines as something else, with evidence for the first three
// mentions of each.
func (d *doc) companies() {
	// Evidence is kept for the first three mentions of each name.
	counts := d.scratch.counts[:0]
	defer func() { d.scratch.counts = counts[:0] }()
	for _, f := range d.fields {
		for _, h := range f.ents {
			if k := d.c.kinds[h.entry]; k != kSignatory && k != kCompany {
				continue
			}
			e := &d.c.entries[h.entry]
			if e.kind == kSignatory && !d.published.IsZero() && d.published.Before(e.joined) {
				continue
			}
			if f.outlet(h) || d.redefined(f, h) {
				continue
			}
			i := slices.IndexFunc(counts, func(s seen) bool { return s.k == e.kind && s.name == e.name })
			if i < 0 {
				i = len(counts)
				counts = append(counts, seen{k: e.kind, name: e.name})
				if e.kind == kSignatory {
					d.tags.Signatories = append(d.tags.Signatories, e.name)
				} else {
					d.tags.Companies = append(d.tags.Companies, e.name)
				}
			}
			if counts[i].n < 3 {
				if e.kind == kSignatory {
					d.evidence(e.tag, f, h.start, h.end, "dictionary:signatory")
				} else {
					d.evidence(e.tag, f, h.start, h.end, "dictionary:company")
				}
			}
			counts[i].n++
		}
	}
}
