package web

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"net/url"

	"github.com/lianxin/lianxin"
)

// Deputies open a case from the link in their WeChat notice. Inside
// WeChat, web authorisation (snsapi_base, silent) tells the console which
// WeChat user it is; the deputy bound to that user is signed in without a
// password. Links look like /console/wx?case=KQ20261127-0007.

const wxStateCookie = "lianxin_wx_state"

// CaseLink is the link a deputy's notice carries for a case.
func CaseLink(publicURL, number string) string {
	return publicURL + "/console/wx?case=" + url.QueryEscape(number)
}

func (h *Handler) wxStart(w http.ResponseWriter, r *http.Request, _ *reqCtx) error {
	next := Prefix + "cases"
	if n := r.URL.Query().Get("case"); n != "" {
		next = Prefix + "cases/" + url.PathEscape(n)
	}
	if rc, err := h.session(r); err == nil && rc != nil {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return nil
	}
	if h.cfg.OAuth == nil {
		http.Redirect(w, r, "/console/login?next="+url.QueryEscape(next), http.StatusSeeOther)
		return nil
	}
	b := make([]byte, 12)
	rand.Read(b)
	state := base64.RawURLEncoding.EncodeToString(b)
	// The state ties WeChat's answer to this browser, and carries where to go.
	http.SetCookie(w, &http.Cookie{Name: wxStateCookie, Value: state + "|" + next, Path: "/console/wx", MaxAge: 600,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: h.secure(r)})
	http.Redirect(w, r, h.cfg.OAuth.AuthorizeURL(h.publicBase(r)+"/console/wx/callback", state), http.StatusFound)
	return nil
}

// publicBase is the console's scheme and host as the user reaches it.
func (h *Handler) publicBase(r *http.Request) string {
	if h.cfg.PublicURL != "" {
		return h.cfg.PublicURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func (h *Handler) wxCallback(w http.ResponseWriter, r *http.Request, _ *reqCtx) error {
	c, err := r.Cookie(wxStateCookie)
	if err != nil {
		return lianxin.Errorf(lianxin.EUNAUTHORIZED, "web authorisation without its state cookie")
	}
	state, next, _ := cutPipe(c.Value)
	q := r.URL.Query()
	if q.Get("state") != state || q.Get("code") == "" {
		return lianxin.Errorf(lianxin.EUNAUTHORIZED, "web authorisation state mismatch or no code")
	}
	http.SetCookie(w, &http.Cookie{Name: wxStateCookie, Value: "", Path: "/console/wx", MaxAge: -1})
	openid, err := h.cfg.OAuth.Exchange(r.Context(), q.Get("code"))
	if err != nil {
		return lianxin.Errorf(lianxin.EUNAUTHORIZED, "web authorisation: %v", err)
	}
	d, ok, err := h.cfg.Store.DeputyByOpenID(r.Context(), openid)
	if err != nil {
		return err
	} else if !ok {
		return lianxin.Errorf(lianxin.EFORBIDDEN, "WeChat user %s is not a bound deputy", lianxin.MaskOpenID(openid))
	}
	u, err := h.cfg.Store.DeputyUser(r.Context(), d.ID)
	if err != nil {
		return err
	}
	if u.Disabled {
		return lianxin.Errorf(lianxin.EFORBIDDEN, "deputy account %s is disabled", u.Username)
	}
	return h.startSession(w, r, u, lianxin.AuditLoginWeChat, safeNext(next))
}

func cutPipe(s string) (a, b string, ok bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == '|' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}
