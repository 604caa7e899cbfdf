package monitor

import (
	"context"
	"fmt"
	"time"

	"github.com/accordwatch/accordwatch"
	"github.com/accordwatch/accordwatch/incident"
	"github.com/accordwatch/accordwatch/store"
)

// IncidentSync makes replicas that share one database decide incidents
// as one process would (pgstore.Store implements it). Each replica's
// clusterer lives in its memory; before assigning a commit's items it
// takes the database-wide lock, learns what the other replicas committed
// since it last looked, and it releases the lock only after its commit.
// So two replicas that each fetch one report of a story make one
// incident, and its channel is told once. Safe for concurrent use.
type IncidentSync interface {
	// LockIncidents waits for the lock; unlock gives it back. An error
	// means the lock was not taken: the commit fails, and its feeds are
	// fetched again.
	LockIncidents(ctx context.Context) (unlock func(), err error)
	// LastChange is the number of the latest item change.
	LastChange(ctx context.Context) (int64, error)
	// IncidentChangesSince returns up to limit items changed after the
	// change numbered after, in change order, each with its incident, and
	// the number of the last one (after when none).
	IncidentChangesSince(ctx context.Context, after int64, limit int) ([]store.ItemIncident, int64, error)
}

// AlertHistory is the outbox as shared by replicas (pgstore.Store
// implements it). Read under the incident lock (IncidentSync), it lets
// a rule's hourly rate cap count the new-incident messages every replica
// queued, not only this one's. Safe for concurrent use.
type AlertHistory interface {
	// AlertsSince returns the outbox entries created at or after since.
	AlertsSince(ctx context.Context, since time.Time) ([]accordwatch.Alert, error)
}

// syncPage is how many item changes one catch-up query reads.
const syncPage = 500

// syncStartTimeout bounds reading the change position at New, which has
// no context of its own.
const syncStartTimeout = 30 * time.Second

// startSync records where the clusterer's catch-up starts: the database's
// latest change, read before the clusterer is rebuilt from the store, so
// that a commit landing in between is seen twice (harmless: adding a
// member again only refreshes it) rather than never.
func (p *Pipeline) startSync() error {
	if p.o.IncidentSync == nil || p.o.Incidents == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), syncStartTimeout)
	defer cancel()
	n, err := p.o.IncidentSync.LastChange(ctx)
	if err != nil {
		return fmt.Errorf("incident sync position: %w", err)
	}
	p.syncPos = n
	return nil
}

// lockIncidents takes the shared incident lock and brings the clusterer
// up to date with every item committed since the last catch-up, by any
// replica (its own commits come back too and are added again, which
// changes nothing). With no IncidentSync it does nothing: one process
// decides alone, under commitMu. Call with commitMu held; call unlock
// after the commit.
func (p *Pipeline) lockIncidents(ctx context.Context) (unlock func(), err error) {
	if p.o.IncidentSync == nil {
		return func() {}, nil
	}
	unlock, err = p.o.IncidentSync.LockIncidents(ctx)
	if err != nil {
		return nil, fmt.Errorf("incident lock: %w", err)
	}
	now := p.o.Now().UTC()
	if err := p.catchUp(ctx, p.o.Incidents, now); err != nil {
		unlock()
		return nil, err
	}
	if err := p.recount(ctx, now); err != nil {
		unlock()
		return nil, err
	}
	return unlock, nil
}

// recount replaces the rate caps' memory of the last hour with what the
// shared outbox holds (AlertHistory), counted as restore counts it. It
// runs under the incident lock, so no replica queues a new-incident
// message between this count and this commit.
func (p *Pipeline) recount(ctx context.Context, now time.Time) error {
	if p.o.CapHistory == nil {
		return nil
	}
	recent, err := p.o.CapHistory.AlertsSince(ctx, now.Add(-capWindow))
	if err != nil {
		return fmt.Errorf("rate caps: %w", err)
	}
	clear(p.capLog)
	for _, a := range recent {
		if isIncidentKind(a.Kind) && counts(a) && now.Sub(a.Created) < capWindow {
			p.capLog[a.Channel] = append(p.capLog[a.Channel], a.Created)
		}
	}
	return nil
}

// catchUp adds to c the items changed since syncPos, each in its incident;
// those older than the incident window could join nothing and are
// skipped. The clusterer is in the state a restart would rebuild.
func (p *Pipeline) catchUp(ctx context.Context, c *incident.Clusterer, now time.Time) error {
	if c == nil {
		return nil
	}
	for {
		changes, last, err := p.o.IncidentSync.IncidentChangesSince(ctx, p.syncPos, syncPage)
		if err != nil {
			return fmt.Errorf("incident sync: %w", err)
		}
		for _, ch := range changes {
			sig := incident.SignatureOf(ch.Item)
			if now.Sub(sig.Time) > p.o.IncidentWindow {
				continue
			}
			c.Add(ch.IncidentID, sig)
		}
		p.syncPos = last
		if len(changes) < syncPage {
			return nil
		}
	}
}
