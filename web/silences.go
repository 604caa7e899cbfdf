package web

import (
	"encoding/json"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/accordwatch/accordwatch"
	"github.com/accordwatch/accordwatch/index"
)

// SilenceStore keeps silences.
type SilenceStore interface {
	AddSilence(accordwatch.Silence) error
	Silences() ([]accordwatch.Silence, error)
	ExpireSilence(id string, now time.Time) (accordwatch.Silence, bool, error)
}

// SilencesHandler serves /api/silences for `accordwatch silence` while the
// daemon owns the store: GET lists, POST adds (the query is checked),
// POST /api/silences/{id}/expire ends one. token, when set, is required
// as a bearer token. A silence mutes alerts, so the add takes only
// Content-Type application/json; mount it behind Guard, which refuses
// cross-site requests to all of them.
func SilencesHandler(st SilenceStore, token accordwatch.Secret) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/silences", func(w http.ResponseWriter, r *http.Request) {
		l, err := st.Silences()
		if err != nil {
			writeError(w, http.StatusInternalServerError, "could not read silences")
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"silences": l})
	})
	mux.HandleFunc("POST /api/silences", func(w http.ResponseWriter, r *http.Request) {
		// Only JSON, checked here as well as in Guard: a page on another
		// site can post text/plain or a form here without a preflight, and
		// json.Decoder would happily read a JSON body smuggled in either.
		if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
			writeError(w, http.StatusUnsupportedMediaType, "send the silence as JSON with Content-Type: application/json")
			return
		}
		var sl accordwatch.Silence
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&sl); err != nil {
			writeError(w, http.StatusBadRequest, "body: "+err.Error())
			return
		}
		if _, err := index.Parse(sl.Query); err != nil || strings.TrimSpace(sl.Query) == "" {
			msg := "query is required"
			if err != nil {
				msg = "query: " + err.Error()
			}
			writeError(w, http.StatusBadRequest, msg)
			return
		}
		if sl.ID == "" || !sl.Expires.After(sl.Created) {
			writeError(w, http.StatusBadRequest, "a silence needs an id and an expiry after its creation")
			return
		}
		if err := st.AddSilence(sl); err != nil {
			writeError(w, http.StatusInternalServerError, "could not store the silence")
			return
		}
		writeJSON(w, http.StatusCreated, sl)
	})
	mux.HandleFunc("POST /api/silences/{id}/expire", func(w http.ResponseWriter, r *http.Request) {
		sl, ok, err := st.ExpireSilence(r.PathValue("id"), time.Now().UTC())
		switch {
		case err != nil:
			writeError(w, http.StatusInternalServerError, "could not expire the silence")
		case !ok:
			writeError(w, http.StatusNotFound, "no silence with that id")
		default:
			writeJSON(w, http.StatusOK, sl)
		}
	})
	return requireBearer(token, mux)
}
