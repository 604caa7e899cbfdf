package monitor

import (
	"context"
	"fmt"

	"github.com/accordwatch/accordwatch"
)

// ChannelLocks chooses one drainer per destination among replicas that
// share one outbox, so each alert is posted by one process and each
// channel's rate limit is paced by one notifier. It must be safe for
// concurrent use.
type ChannelLocks interface {
	// Hold takes the locks of every spelling of one destination
	// (notify.Destination.Aliases) and reports whether the caller holds
	// them all; a lock once held stays with its holder until the holder
	// exits. An error means the caller cannot tell what it holds: that
	// drain delivers nothing.
	Hold(ctx context.Context, spellings []string) (bool, error)
	// Claim reserves one open outbox entry for the caller to post; false
	// means it is no longer open or another process is posting it.
	// Recording the outcome (Store.UpdateAlert) ends the reservation; a
	// dead process's reservation expires.
	Claim(ctx context.Context, alertID string) (bool, error)
}

// holdChannels returns which destinations (by key) this process delivers.
// With an unshared outbox that is every one. With a shared one it takes
// the locks of the destinations that have open alerts, and marks for a
// summary those of its destinations with alerts held by a rate cap,
// whichever replica's writer held them back. The drain reads the outbox
// again after this, so what it delivers was read under the lock.
func (p *Pipeline) holdChannels(ctx context.Context) (mine func(key string) bool, err error) {
	if p.o.Channels == nil {
		return func(string) bool { return true }, nil
	}
	all, err := p.o.Store.OpenAlerts()
	if err != nil {
		return nil, err
	}
	held := map[string]bool{}
	for _, a := range all {
		d := p.dest(a.Channel)
		ok, decided := held[d.Key]
		if !decided {
			spellings := d.Aliases
			if len(spellings) == 0 {
				spellings = []string{d.Key}
			}
			if ok, err = p.o.Channels.Hold(ctx, spellings); err != nil {
				return nil, fmt.Errorf("outbox lock of %s: %w", d.Name, err)
			}
			held[d.Key] = ok
		}
		if ok && a.Status == accordwatch.AlertOverflow {
			p.overflow.add(a.Channel)
		}
	}
	return func(key string) bool { return held[key] }, nil
}
