package web

import (
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/lianxin/lianxin"
)

// media serves a case's photo (or its thumbnail) or voice message to a
// signed-in user whose scope allows the case, and to nobody else: there is
// no public URL for anything a resident sent. A hidden photo is served
// only to admins, and their looking is audited.
func (h *Handler) media(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return lianxin.Errorf(lianxin.ENOTFOUND, "bad media id %q", r.PathValue("id"))
	}
	a, err := h.cfg.Store.AttachmentInScope(r.Context(), rc.scope, id)
	if err != nil {
		return err
	}
	if a.Status != lianxin.AttachmentStored {
		return lianxin.Errorf(lianxin.ENOTFOUND, "attachment %d is %s", id, a.Status)
	}
	if a.Hidden {
		if rc.user.Role != lianxin.RoleAdmin {
			return lianxin.Errorf(lianxin.ENOTFOUND, "attachment %d is hidden", id)
		}
		if err := h.cfg.Store.Audit(r.Context(), rc.audit(r, lianxin.AuditViewHidden, "attachment:"+strconv.FormatInt(id, 10), "")); err != nil {
			return err
		}
	}
	rel, mime := a.Path, a.Mime
	if strings.HasSuffix(r.URL.Path, "/thumb") && a.ThumbPath != "" {
		rel, mime = a.ThumbPath, "image/jpeg"
	}
	f, err := os.Open(filepath.Join(h.cfg.DataDir, filepath.Clean("/"+rel)))
	if err != nil {
		return lianxin.Errorf(lianxin.ENOTFOUND, "attachment %d file: %v", id, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if mime == "" {
		mime = "application/octet-stream"
	}
	w.Header().Set("Content-Type", mime)
	w.Header().Set("Cache-Control", "private, max-age=300")
	w.Header().Set("Content-Disposition", "inline")
	http.ServeContent(w, r, "", st.ModTime(), f)
	return nil
}
