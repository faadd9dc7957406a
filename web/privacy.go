package web

import (
	"net/http"
	"net/url"

	"github.com/lianxin/lianxin"
)

// Privacy on the case page: erasing a resident's contact details at their
// request (staff, audited), and anonymous reports — the resident asked to
// stay anonymous to the deputy, so a deputy's console shows neither who
// they are nor how to reach them (the register's exports say 匿名 to
// everyone).

// eraseContact erases the case's phone number and openid at the
// resident's request; the case and its numbers stay.
func (h *Handler) eraseContact(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	if err := rc.staffOnly(); err != nil {
		return err
	}
	c, err := h.cfg.Store.CaseInScope(r.Context(), rc.scope, r.PathValue("number"))
	if err != nil {
		return err
	}
	if _, err := h.cfg.Reports.EraseContact(r.Context(), c.Number, rc.audit(r, lianxin.AuditErase, c.Number, "群众要求删除")); err != nil {
		return err
	}
	http.Redirect(w, r, "/console/cases/"+url.PathEscape(c.Number)+"?done=erased#top", http.StatusSeeOther)
	return nil
}

// hidesResident: the user must not learn who reported c.
func (rc *reqCtx) hidesResident(c *lianxin.Case) bool {
	return c.Anonymous && rc.user.Role == lianxin.RoleDeputy
}
