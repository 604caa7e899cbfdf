package classify

import "slices"

// Cue list ids: the rules refer to cue lists by these constants, which
// index cueNames. The lists themselves are data: the "cues" section of
// dict/cues.json.
const (
	cueStateExplicit = iota
	cueGenericBefore
	cueNegation
	cueAttribLinked
	cueAttribAttributed
	cueAttribSuspected
	cueNatState
	cueNatIntrusion
	cueNatLink
	cueCriminal
	cueIndividual
	cueLeakVictim
	cueReportVerb
	cueAccordingTo
	cueRoleResponder
	cueRoleVendor
	cueRoleVictim
	cueRoleReporter
	cueCriticalInfra
	cueExploited
	cueScale
	cueCapacity
	cueCollective
	cueBusiness
	cueNotAttack
	cueAttackGeneric
	cueVictimImpact
	cueSpyware
	cueCapacityResearch
	cuePublicVictim
	cuePrivateVictim
	cueOutletBefore
	cueCivilAction
	cueHowTo
	cueNegWord
	cueProtectVerb
	cueDefenceNoun
	cueTermHead
	cueLawAgent
	cueAgentAction
	cueEndOfSupport
	numCues
)

// cueNames are the cue lists the rules rely on, in cue id order; New fails
// if one is missing.
var cueNames = [numCues]string{
	"state-explicit", "generic-before", "negation", "attrib-linked", "attrib-attributed",
	"attrib-suspected", "nat-state", "nat-intrusion", "nat-link", "criminal", "individual",
	"leak-victim", "report-verb", "according-to", "role-responder", "role-vendor",
	"role-victim", "role-reporter", "critical-infra", "exploited", "scale", "capacity",
	"collective", "business", "not-attack", "attack-generic", "victim-impact", "spyware", "capacity-research", "public-victim", "private-victim", "outlet-before", "civil-action", "how-to", "negation-word", "protect-verb", "defence-noun", "term-head",
	"law-agent", "agent-action", "end-of-support",
}

// The look-ups below find cue hits near a token. Hits of one cue list never
// overlap and are ordered by start, so their ends are ordered too: every
// look-up is a binary search or a probe of the cueStart/cueEnd bitmaps.

// searchHits returns the index of the first hit of hs (ordered by start,
// and so by end when they do not overlap) that starts — or, with byEnd,
// ends — at or after token k. A plain loop: the rules call it often, and
// slices.BinarySearchFunc's comparison closure is not inlined.
func searchHits(hs []hit, k int, byEnd bool) int {
	lo, hi := 0, len(hs)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		v := hs[mid].start
		if byEnd {
			v = hs[mid].end
		}
		if v < k {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo
}

// hitStarting returns the hit of cue starting at token k (which must exist).
func (f *field) hitStarting(cue, k int) hit {
	hs := f.cues[cue]
	i := searchHits(hs, k, false)
	return hs[i]
}

// hitEnding returns the hit of cue ending at token end (exclusive; it must exist).
func (f *field) hitEnding(cue, end int) hit {
	hs := f.cues[cue]
	i := searchHits(hs, end, true)
	return hs[i]
}

// cueBefore finds the nearest cue hit ending at most gap tokens before
// pos, in the same sentence.
func (f *field) cueBefore(cue, pos, gap int) (hit, bool) {
	if pos >= len(f.toks) || pos < 0 {
		return hit{}, false
	}
	bit := uint64(1) << cue
	for k := pos - 1; k >= 0 && k >= pos-1-gap; k-- {
		if f.cueEnd[k]&bit != 0 {
			h := f.hitEnding(cue, k+1)
			return h, f.toks[h.start].sent == f.toks[pos].sent
		}
	}
	return hit{}, false
}

// cueAfter finds the nearest cue hit starting at most gap tokens after pos
// (pos is the first token after the subject), in sentence sent.
func (f *field) cueAfter(cue, pos, gap int, sent int32) (hit, bool) {
	bit := uint64(1) << cue
	for k := max(pos, 0); k < len(f.toks) && k <= pos+gap; k++ {
		if f.cueStart[k]&bit != 0 {
			return f.hitStarting(cue, k), f.toks[k].sent == sent
		}
	}
	return hit{}, false
}

// cueWithin finds a cue hit within dist tokens of [start, end) in sentence sent.
func (f *field) cueWithin(cue, start, end, dist int, sent int32) (hit, bool) {
	bit := uint64(1) << cue
	for k := start - 1; k >= 0 && k >= start-1-dist; k-- {
		if f.cueEnd[k]&bit != 0 {
			h := f.hitEnding(cue, k+1)
			if f.toks[h.start].sent == sent {
				return h, true
			}
			break
		}
	}
	return f.cueAfter(cue, end, dist, sent)
}

// cueInSentence finds the first cue hit in sentence sent.
func (f *field) cueInSentence(cue int, sent int32) (hit, bool) {
	hs := f.cues[cue]
	i, _ := slices.BinarySearchFunc(hs, sent, func(h hit, s int32) int { return int(f.toks[h.start].sent - s) })
	if i < len(hs) && f.toks[hs[i].start].sent == sent {
		return hs[i], true
	}
	return hit{}, false
}

func (f *field) negated(sent int32) bool {
	_, ok := f.cueInSentence(cueNegation, sent)
	return ok
}

func firstCue(f *field, cue int) (hit, bool) {
	if hs := f.cues[cue]; len(hs) > 0 {
		return hs[0], true
	}
	return hit{}, false
}

func (d *doc) anyCue(cue int) (*field, hit, bool) {
	for _, f := range d.fields {
		if c, ok := firstCue(f, cue); ok {
			return f, c, true
		}
	}
	return nil, hit{}, false
}
