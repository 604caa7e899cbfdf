// Package dictimport turns public threat-actor datasets into entries of
// the tagger's dictionary format (classify.Entry): the MISP galaxy
// threat-actor cluster, MITRE ATT&CK intrusion sets and Microsoft's
// threat-actor naming map. The generator in classify/gen uses it to build
// the embedded actors file, and `accordwatch dict import` to layer a newer
// dataset release over the embedded dictionaries without a rebuild.
//
// The readers take an io.Reader and do no other I/O. Every alias passes a
// filter first (classifyAlias): the entries are matched against free news
// text, so an alias that is also an English word ("Equation", "Shadow")
// would tag half the news; phrases of common words ("Fancy Bear") match
// only as written. It has no third-party dependency.
package dictimport
