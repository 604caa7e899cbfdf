package accordwatch

import "log/slog"

// Secret is a token or webhook URL. It never prints itself: fmt, JSON and
// slog all see "<secret>", so a secret cannot leak into a log or error.
type Secret string

const redacted = "<secret>"

// Reveal returns the secret's value; call it only where the value is sent.
func (s Secret) Reveal() string { return string(s) }

// IsSet reports whether a value is present.
func (s Secret) IsSet() bool { return s != "" }

func (s Secret) String() string   { return s.mask() }
func (s Secret) GoString() string { return s.mask() }

// LogValue implements slog.LogValuer.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.mask()) }

// MarshalText keeps secrets out of JSON and YAML dumps.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.mask()), nil }

func (s Secret) mask() string {
	if s == "" {
		return ""
	}
	return redacted
}
