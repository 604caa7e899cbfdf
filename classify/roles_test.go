package classify

import (
	"testing"
	"time"
)

func TestRoles(t *testing.T) {
	c := newTestClassifier(t)
	tests := []struct {
		name, text, sig, want string
	}{
		{"vendor", "Oracle released a patch for a critical bug in its database.", "Oracle", "vendor"},
		{"victim", "Tenable confirmed a data breach that exposed support tickets.", "Tenable", "victim"},
		{"reporter", "According to Symantec researchers, the loader is new.", "Symantec", "reporter"},
		{"responder", "Microsoft disrupted the botnet's servers with partners.", "Microsoft", "responder"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tags := c.Classify("", tt.text, time.Time{})
			if got := tags.Roles[tt.sig]; got != tt.want {
				t.Errorf("role of %s: got %q, want %q", tt.sig, got, tt.want)
			}
		})
	}
}
