package index

// BadQuery marks a parse error as the user's to fix, for callers (the
// Slack slash command) that must tell it apart from a failure of ours
// without importing this package.
func (*ParseError) BadQuery() bool { return true }
