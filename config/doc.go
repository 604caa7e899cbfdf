// Package config loads accordwatch's config.yaml: strict decoding (unknown
// keys are errors), environment overrides for every Slack setting, and
// validation that reports every problem at once with file, line and field.
// It owns the YAML parser (go.yaml.in/yaml/v3). Only cmd/accordwatch imports
// it; every other package takes its own Options struct.
package config
