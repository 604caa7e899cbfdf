package classify

import "slices"

// roleFound is the nearest role cue found for one signatory (roles).
type roleFound struct {
	role       int // index in rolePriority
	dist       int
	f          *field
	start, end int
}

// rolePriority orders the role cue lists: at equal distance the first wins.
var rolePriority = [...]struct {
	role string
	cue  int
}{{"vendor", cueRoleVendor}, {"victim", cueRoleVictim}, {"responder", cueRoleResponder}, {"reporter", cueRoleReporter}}

// roleDist is how far (in tokens) a role cue may stand from the name.
const roleDist = 6

// roles gives each signatory the role of the nearest role cue (vendor,
// victim, responder, reporter; reporter when there is none).
func (d *doc) roles() {
	d.sigLead = 0
	if len(d.tags.Signatories) == 0 {
		return
	}
	d.tags.Roles = make(map[string]string, len(d.tags.Signatories))
	found := d.scratch.found[:0]
	for range d.tags.Signatories {
		found = append(found, roleFound{role: -1, dist: roleDist + 1})
	}
	d.scratch.found = found
	tags := make([]*[len(rolePriority)]string, 0, 8)
	for range d.tags.Signatories {
		tags = append(tags, nil)
	}
	for _, f := range d.fields {
		for _, h := range f.ents {
			if d.c.kinds[h.entry] != kSignatory {
				continue
			}
			e := &d.c.entries[h.entry]
			si := slices.Index(d.tags.Signatories, e.name)
			if si < 0 {
				continue
			}
			tags[si] = e.roleTags
			if (f == d.fields[0] || h.start < d.lead) && si < 64 {
				d.sigLead |= 1 << si
			}
			sent := f.toks[h.start].sent
			for r, rp := range rolePriority {
				if c, ok := f.cueBefore(rp.cue, h.start, roleDist); ok && h.start-c.end < found[si].dist {
					found[si] = roleFound{r, h.start - c.end, f, c.start, c.end}
				}
				if c, ok := f.cueAfter(rp.cue, h.end, roleDist, sent); ok && c.start-h.end < found[si].dist {
					found[si] = roleFound{r, c.start - h.end, f, c.start, c.end}
				}
			}
		}
	}
	for i, s := range d.tags.Signatories {
		b := found[i]
		if b.f == nil {
			d.tags.Roles[s] = "reporter"
			d.derived(roleTag(tags[i], s, roleReporter), "role-default")
			continue
		}
		role := rolePriority[b.role].role
		d.tags.Roles[s] = role
		d.evidence(roleTag(tags[i], s, b.role), b.f, b.start, b.end, roleRules[b.role])
	}
}

// roleTag is "role:<signatory>:<role>", from the entry's strings when known.
func roleTag(tags *[len(rolePriority)]string, s string, r int) string {
	if tags != nil {
		return tags[r]
	}
	return "role:" + s + ":" + rolePriority[r].role
}

// roleReporter is the index of "reporter" in rolePriority.
var roleReporter = slices.IndexFunc(rolePriority[:], func(rp struct {
	role string
	cue  int
}) bool {
	return rp.role == "reporter"
})

// roleRules are the rules of role evidence, by rolePriority index.
var roleRules = func() (t [len(rolePriority)]string) {
	for i, rp := range rolePriority {
		t[i] = "role-" + rp.role
	}
	return t
}()
