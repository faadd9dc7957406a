package web

import (
	"context"
	"net/http"
	"strings"

	"github.com/lianxin/lianxin"
)

// Open311 clients (/console/open311, admins only): the systems that file
// into the register through the GeoReport v2 endpoint (/open311/v2/), each
// with an API key shown once when it is made (only its hash is kept), and
// revoking a key. As `lianxin open311 key` does.

// Open311Keys is what the page reads and does (store.DB).
type Open311Keys interface {
	Open311Keys(ctx context.Context) ([]lianxin.Open311Client, error)
	CreateOpen311Key(ctx context.Context, name string, a lianxin.AuditEntry) (string, lianxin.Open311Client, error)
	RevokeOpen311Key(ctx context.Context, idOrName string, a lianxin.AuditEntry) (lianxin.Open311Client, error)
}

func (h *Handler) open311Routes() {
	m := h.mux
	m.Handle("GET /console/open311", h.auth(h.open311Page))
	m.Handle("POST /console/open311", h.auth(h.open311Add))
	m.Handle("POST /console/open311/{id}/revoke", h.auth(h.open311Revoke))
}

type open311Page struct {
	Base
	Clients  []lianxin.Open311Client
	Endpoint string
	// Key is a key just made, shown this once, for Client.
	Key, Client string
}

func (h *Handler) open311Keys(rc *reqCtx) (Open311Keys, error) {
	if h.cfg.Open311 == nil {
		return nil, lianxin.Errorf(lianxin.ENOTFOUND, "Open311 is not wired")
	}
	return h.cfg.Open311, rc.adminOnly()
}

func (h *Handler) open311Data(r *http.Request, rc *reqCtx, k Open311Keys) (*open311Page, error) {
	list, err := k.Open311Keys(r.Context())
	if err != nil {
		return nil, err
	}
	base := h.cfg.PublicURL
	if base == "" {
		base = "http://" + r.Host
	}
	return &open311Page{Base: h.base(r, rc, "开放接口"), Clients: list, Endpoint: base + "/open311/v2/discovery.json"}, nil
}

func (h *Handler) open311Page(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	k, err := h.open311Keys(rc)
	if err != nil {
		return err
	}
	p, err := h.open311Data(r, rc, k)
	if err != nil {
		return err
	}
	return h.render(w, "open311", p)
}

func (h *Handler) open311Add(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	k, err := h.open311Keys(rc)
	if err != nil {
		return err
	}
	name := strings.TrimSpace(r.PostFormValue("name"))
	key, c, addErr := k.CreateOpen311Key(r.Context(), name, rc.audit(r, lianxin.AuditOpen311KeyAdd, "", ""))
	if addErr != nil && lianxin.ErrorCode(addErr) != lianxin.EINVALID {
		return addErr
	}
	p, err := h.open311Data(r, rc, k)
	if err != nil {
		return err
	}
	if addErr != nil {
		p.Error = labels["open311:bad_name"]
		return h.render(w, "open311", p, http.StatusBadRequest)
	}
	p.Key, p.Client = key, c.Name
	return h.render(w, "open311", p)
}

func (h *Handler) open311Revoke(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	k, err := h.open311Keys(rc)
	if err != nil {
		return err
	}
	if _, err := k.RevokeOpen311Key(r.Context(), r.PathValue("id"), rc.audit(r, lianxin.AuditOpen311KeyRevoke, "", "")); err != nil {
		return err
	}
	http.Redirect(w, r, "/console/open311?done=open311_revoked", http.StatusSeeOther)
	return nil
}
