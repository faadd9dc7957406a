package web

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/lianxin/lianxin"
)

// Grid workers (/console/grids): the grids of the user's station (all of
// them for admins) with their workers, whether each has bound their WeChat,
// a one-time binding code for one who has not (as `lianxin grid invite`
// makes), and unbinding a lost phone. Staff and admins only.

// GridDesk is what the grids page reads and does (store.DB).
type GridDesk interface {
	GridBindings(ctx context.Context) (map[string]time.Time, error)
	CreateGridInvite(ctx context.Context, workerID string, ttl time.Duration, a lianxin.AuditEntry) (string, time.Time, error)
	UnbindGridWorker(ctx context.Context, workerID string, a lianxin.AuditEntry) (bool, error)
}

// GridInviteTTL is how long a grid worker's binding code works.
const GridInviteTTL = 24 * time.Hour

func (h *Handler) gridRoutes() {
	m := h.mux
	m.Handle("GET /console/grids", h.auth(h.gridsPage))
	m.Handle("POST /console/grids/workers/{id}/{op}", h.auth(h.gridWorkerOp))
}

type gridsPage struct {
	Base
	Grids   []gridView
	Code    string
	Expires time.Time
	Worker  string
}

type gridView struct {
	lianxin.Grid
	Station string
	Workers []gridWorkerView
}

type gridWorkerView struct {
	lianxin.GridWorker
	BoundAt *time.Time
}

func (h *Handler) gridDesk(rc *reqCtx) (GridDesk, error) {
	if h.cfg.Grids == nil {
		return nil, lianxin.Errorf(lianxin.ENOTFOUND, "grids are not wired")
	}
	return h.cfg.Grids, rc.staffOnly()
}

// gridsInScope are the grids of the units the user's scope covers.
func gridsInScope(rc *reqCtx) []lianxin.Grid {
	var out []lianxin.Grid
	for _, g := range rc.dir.Grids {
		if rc.scope.Allows(g.StationID, "") {
			out = append(out, g)
		}
	}
	return out
}

func (h *Handler) gridsPage(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	d, err := h.gridDesk(rc)
	if err != nil {
		return err
	}
	p, err := h.gridsPageData(r, rc, d)
	if err != nil {
		return err
	}
	return h.render(w, "grids", p)
}

func (h *Handler) gridsPageData(r *http.Request, rc *reqCtx, d GridDesk) (*gridsPage, error) {
	bound, err := d.GridBindings(r.Context())
	if err != nil {
		return nil, err
	}
	p := &gridsPage{Base: h.base(r, rc, "网格员")}
	for _, g := range gridsInScope(rc) {
		v := gridView{Grid: g, Station: stationName(rc.dir, g.StationID)}
		for _, wk := range g.Workers {
			wv := gridWorkerView{GridWorker: wk}
			if at, ok := bound[wk.ID]; ok {
				wv.BoundAt = &at
			}
			v.Workers = append(v.Workers, wv)
		}
		p.Grids = append(p.Grids, v)
	}
	return p, nil
}

// gridWorkerOp makes a binding code for a worker (shown once, on the page
// that answers) or unbinds their WeChat.
func (h *Handler) gridWorkerOp(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	d, err := h.gridDesk(rc)
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	wk, g, ok := rc.dir.GridWorker(id)
	if !ok || !rc.scope.Allows(g.StationID, "") {
		return lianxin.Errorf(lianxin.ENOTFOUND, "no grid worker %q", id)
	}
	switch r.PathValue("op") {
	case "invite":
		code, expires, err := d.CreateGridInvite(r.Context(), wk.ID, GridInviteTTL, rc.audit(r, "grid_invite", "", ""))
		if err != nil {
			return err
		}
		p, err := h.gridsPageData(r, rc, d)
		if err != nil {
			return err
		}
		p.Code, p.Expires, p.Worker = code, expires, wk.Name
		p.Flash = labels["flash:invited"]
		return h.render(w, "grids", p)
	case "unbind":
		if _, err := d.UnbindGridWorker(r.Context(), wk.ID, rc.audit(r, "grid_unbind", "", "")); err != nil {
			return err
		}
		http.Redirect(w, r, "/console/grids?done=unbound#w-"+url.PathEscape(wk.ID), http.StatusSeeOther)
		return nil
	}
	return lianxin.Errorf(lianxin.ENOTFOUND, "no grid action %q", r.PathValue("op"))
}
