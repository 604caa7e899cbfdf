package accordwatch

import _ "embed"

// DefaultConfig is the shipped config.yaml, embedded so that the daemon
// runs on its defaults even where the file is absent.
//
//go:embed config.yaml
var DefaultConfig []byte
