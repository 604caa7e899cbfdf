package classify

// The actor and signatory dictionaries are generated from ../shared/data
// and the curated inputs in gen/; see gen/README.md.
//go:generate go run ./gen
