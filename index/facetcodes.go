package index

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/blevesearch/bleve/v2"
)

// Facet values are counted from one small doc value a document, the
// "facets" field: the partition-local code of each of the document's
// facet values, field by field, then its day of the month. bleve's own
// facets read one doc value field per facet (seven), and zapx keeps doc
// values in compressed chunks of 1,024 documents: the scattered hits of a
// rare query decompress nearly every chunk of every field, which was
// most of a faceted search's time (BENCHMARKS.md, issue 15). One field
// of about eight bytes a document costs one small chunk instead of seven
// large ones.
//
// The codes are numbered per partition and per facet field. Their values
// are kept in the partition's bleve internal store, in blocks written by
// the same batch as the first documents that use them, so a code on disk
// always has its value on disk too.

// numFacetFields is len(facetFields()).
const numFacetFields = 6

// facetsField is the doc-value-only field holding a document's codes.
const facetsField = "facets"

// Internal keys of the code blocks: facetBlocksKey holds how many there
// are, facetBlockKey+n the n-th (0-based).
const (
	facetBlocksKey = "accordwatch.facets.blocks"
	facetBlockKey  = "accordwatch.facets.block."
)

// Limits on a stored block: it is read at every open, and a damaged one
// must fail cleanly rather than allocate without bound.
const (
	maxFacetValueLen = 64 << 10
	maxFacetBlocks   = 1 << 20
)

// facetDict is a partition's facet values by code. Searches read vals
// under the partition's gate (shared); commit changes it under the gate
// held alone. codes is read and written only by the partition's writer,
// which Index.writeMu makes one at a time.
type facetDict struct {
	vals   [numFacetFields][]string
	codes  [numFacetFields]map[string]uint32
	blocks int
}

func newFacetDict() *facetDict {
	d := &facetDict{}
	for f := range d.codes {
		d.codes[f] = make(map[string]uint32)
	}
	return d
}

// internalGetter is the part of bleve.Index that loadFacetDict reads.
type internalGetter interface {
	GetInternal(key []byte) ([]byte, error)
}

// loadFacetDict reads a partition's code blocks.
func loadFacetDict(bi internalGetter) (*facetDict, error) {
	d := newFacetDict()
	raw, err := bi.GetInternal([]byte(facetBlocksKey))
	if err != nil {
		return nil, fmt.Errorf("read facet codes: %w", err)
	}
	if raw == nil {
		return d, nil
	}
	n, err := strconv.Atoi(string(raw))
	if err != nil || n < 0 || n > maxFacetBlocks {
		return nil, fmt.Errorf("read facet codes: bad block count %q", raw)
	}
	for i := range n {
		b, err := bi.GetInternal([]byte(facetBlockKey + strconv.Itoa(i)))
		if err == nil && b == nil {
			err = errors.New("missing")
		}
		if err == nil {
			err = d.addBlock(b)
		}
		if err != nil {
			return nil, fmt.Errorf("read facet codes block %d: %w", i, err)
		}
	}
	d.blocks = n
	return d, nil
}

// addBlock appends one stored block's values: for each facet field, the
// number of new values, then each as a length-prefixed string.
func (d *facetDict) addBlock(b []byte) error {
	next := func() (uint64, error) {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			return 0, errors.New("truncated")
		}
		b = b[n:]
		return v, nil
	}
	for f := range numFacetFields {
		count, err := next()
		if err != nil {
			return err
		}
		if count > uint64(len(b)) {
			return errors.New("count exceeds block")
		}
		for range count {
			l, err := next()
			if err != nil {
				return err
			}
			if l > maxFacetValueLen || l > uint64(len(b)) {
				return errors.New("value exceeds block")
			}
			v := string(b[:l])
			b = b[l:]
			d.codes[f][v] = uint32(len(d.vals[f]))
			d.vals[f] = append(d.vals[f], v)
		}
	}
	if len(b) != 0 {
		return errors.New("trailing bytes")
	}
	return nil
}

// facetBatch assigns codes for one batch: existing ones from the
// dictionary, new ones after them, kept aside until the batch is written.
type facetBatch struct {
	d     *facetDict
	added [numFacetFields][]string
	new   [numFacetFields]map[string]uint32
	buf   []byte
}

func (d *facetDict) begin() *facetBatch { return &facetBatch{d: d} }

func (fb *facetBatch) code(f int, v string) uint32 {
	if c, ok := fb.d.codes[f][v]; ok {
		return c
	}
	if c, ok := fb.new[f][v]; ok {
		return c
	}
	if fb.new[f] == nil {
		fb.new[f] = make(map[string]uint32)
	}
	c := uint32(len(fb.d.vals[f]) + len(fb.added[f]))
	fb.new[f][v] = c
	fb.added[f] = append(fb.added[f], v)
	return c
}

// encode returns d's codes: a header of three bytes — each facet
// field's number of values, two bits a field and three fields a byte (3
// meaning "three or more, the number follows as a code"), then the day of
// the month (0 when undated) — and then each field's codes in turn. The
// header keeps the common case (a handful of tags) at about eight bytes a
// document: every counted hit of a sparse query decompresses the chunk
// of 1,024 documents around it, so the column's size is the facets' cost.
func (fb *facetBatch) encode(d *doc) string {
	fields := [numFacetFields][]string{
		d.DisplaySignatory, d.DisplayState, d.DisplayActor, d.DisplayAttack, d.DisplayPrinciple, nil,
	}
	if d.DisplayFeed != "" {
		fields[numFacetFields-1] = []string{d.DisplayFeed}
	}
	var head [3]byte
	for f, vals := range fields {
		head[f/3] |= byte(min(len(vals), 3)) << (2 * (f % 3))
	}
	if d.PublishedKey != "" {
		head[2] = byte(d.Published.Day())
	}
	b := append(fb.buf[:0], head[:]...)
	for f, vals := range fields {
		if len(vals) >= 3 {
			b = appendCode(b, uint32(len(vals)))
		}
		for _, v := range vals {
			b = appendCode(b, fb.code(f, v))
		}
	}
	fb.buf = b
	return string(b)
}

// decodeFacets calls visit with each code in an encoded term, the day as
// field numFacetFields; it reports false for a term it cannot read.
func decodeFacets(term []byte, visit func(f int, code uint32)) bool {
	if len(term) < 3 {
		return false
	}
	rest := term[3:]
	for f := range numFacetFields {
		n := uint32(term[f/3]>>(2*(f%3))) & 3
		ok := true
		if n == 3 {
			if n, rest, ok = readCode(rest); !ok {
				return false
			}
		}
		for range n {
			var c uint32
			if c, rest, ok = readCode(rest); !ok {
				return false
			}
			visit(f, c)
		}
	}
	if day := term[2]; day > 0 {
		visit(numFacetFields, uint32(day))
	}
	return len(rest) == 0
}

// store adds the batch's new values to b as the partition's next block.
func (fb *facetBatch) store(b *bleve.Batch) {
	if fb.empty() {
		return
	}
	var blk []byte
	for f := range numFacetFields {
		blk = binary.AppendUvarint(blk, uint64(len(fb.added[f])))
		for _, v := range fb.added[f] {
			blk = binary.AppendUvarint(blk, uint64(len(v)))
			blk = append(blk, v...)
		}
	}
	b.SetInternal([]byte(facetBlockKey+strconv.Itoa(fb.d.blocks)), blk)
	b.SetInternal([]byte(facetBlocksKey), []byte(strconv.Itoa(fb.d.blocks+1)))
}

func (fb *facetBatch) empty() bool {
	for f := range numFacetFields {
		if len(fb.added[f]) > 0 {
			return false
		}
	}
	return true
}

// commit makes the written batch's values visible; the caller holds the
// partition's gate alone.
func (fb *facetBatch) commit() {
	if fb.empty() {
		return
	}
	for f := range numFacetFields {
		for _, v := range fb.added[f] {
			fb.d.codes[f][v] = uint32(len(fb.d.vals[f]))
			fb.d.vals[f] = append(fb.d.vals[f], v)
		}
	}
	fb.d.blocks++
}

// A code is written in base 127, least significant digit first: 0x80
// plus the digit for each but the last, the last as a byte below 0x80.
// bleve separates doc-value terms with 0xff, so no byte may be that.
func appendCode(b []byte, c uint32) []byte {
	for c >= 0x80 {
		b = append(b, 0x80+byte(c%127))
		c /= 127
	}
	return append(b, byte(c))
}

// readCode decodes the code at the start of b and returns the rest; ok is
// false when b does not start with a whole code that fits 32 bits.
func readCode(b []byte) (c uint32, rest []byte, ok bool) {
	var v, mult uint64 = 0, 1
	for i, x := range b {
		if i > 5 || x == 0xff {
			return 0, nil, false
		}
		if x < 0x80 {
			v += uint64(x) * mult
			if v > math.MaxUint32 {
				return 0, nil, false
			}
			return uint32(v), b[i+1:], true
		}
		v += uint64(x-0x80) * mult
		mult *= 127
	}
	return 0, nil, false
}

// dayName is the day facet's value for day of p's month.
func dayName(p *partition, day uint32) string {
	if p.start.IsZero() || day == 0 || day > 31 {
		return ""
	}
	return p.start.AddDate(0, 0, int(day)-1).Format(time.DateOnly)
}
