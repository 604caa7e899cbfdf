package web

import (
	"fmt"
	"net/http"

	"github.com/accordwatch/accordwatch"
)

// IncidentStore reads incidents and their reports. Both stores satisfy
// it; it is safe for concurrent use.
type IncidentStore interface {
	Incident(id string) (accordwatch.Incident, bool, error)
	RecentIncidents(limit int) ([]accordwatch.Incident, error)
	Item(id string) (accordwatch.Item, bool, error)
	// IncidentOf is the incident an item joined as a later report.
	IncidentOf(itemID string) (string, bool, error)
}

// Incident returns the incident id with its reports: a stored incident,
// the incident that an item with that ID joined, or the implicit
// one-report incident of such an item (the stores keep an incident only
// once a second report joins it). ok is false when none exists.
func Incident(st IncidentStore, id string) (d accordwatch.IncidentDetail, ok bool, err error) {
	inc, ok, err := st.Incident(id)
	if err != nil {
		return d, false, fmt.Errorf("incident %s: %w", id, err)
	}
	if !ok {
		// A later report's ID leads to the incident it joined.
		if incID, joined, err := st.IncidentOf(id); err != nil {
			return d, false, fmt.Errorf("incident of item %s: %w", id, err)
		} else if joined {
			if inc, ok, err = st.Incident(incID); err != nil {
				return d, false, fmt.Errorf("incident %s: %w", incID, err)
			}
		}
	}
	if !ok {
		it, found, err := st.Item(id)
		if err != nil {
			return d, false, fmt.Errorf("item %s: %w", id, err)
		}
		if !found {
			return d, false, nil
		}
		t := it.Published
		if t.IsZero() {
			t = it.Fetched
		}
		inc = accordwatch.Incident{ID: it.ID, Title: it.Title, Link: it.Link, FirstSeen: t, LastSeen: t,
			ItemIDs: []string{it.ID}, Sources: 1, Severity: it.Tags.Severity}
	}
	d.Incident = inc
	for _, iid := range inc.ItemIDs {
		it, found, err := st.Item(iid)
		if err != nil {
			return d, false, fmt.Errorf("item %s: %w", iid, err)
		}
		if found {
			d.Items = append(d.Items, accordwatch.IncidentItem{ID: it.ID, Title: it.Title, Link: it.Link, Feed: it.FeedName, Published: it.Published})
		}
	}
	return d, true, nil
}

// IncidentsHandler serves the incidents for `accordwatch incidents` while
// the daemon owns the store: GET /api/incidents?limit=N lists the most
// recently seen merged incidents (default 20, at most 500), and GET
// /api/incidents/{id} shows one with its reports and why each joined.
// token, when set, is required as a bearer token.
func IncidentsHandler(st IncidentStore, token accordwatch.Secret) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/incidents", func(w http.ResponseWriter, r *http.Request) {
		limit, err := intParam(r.URL.Query().Get("limit"), 20, 1, 500)
		if err != nil {
			writeError(w, http.StatusBadRequest, "limit: "+err.Error())
			return
		}
		l, err := st.RecentIncidents(limit)
		if err != nil {
			writeError(w, http.StatusInternalServerError, "could not read incidents")
			return
		}
		if l == nil {
			l = []accordwatch.Incident{}
		}
		writeJSON(w, http.StatusOK, map[string]any{"incidents": l})
	})
	mux.HandleFunc("GET /api/incidents/{id}", func(w http.ResponseWriter, r *http.Request) {
		d, ok, err := Incident(st, r.PathValue("id"))
		switch {
		case err != nil:
			writeError(w, http.StatusInternalServerError, "could not read the incident")
		case !ok:
			writeError(w, http.StatusNotFound, "no incident or item with that id")
		default:
			writeJSON(w, http.StatusOK, d)
		}
	})
	return requireBearer(token, mux)
}
