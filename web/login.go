package web

import (
	"net/http"
	"strings"
	"time"

	"github.com/lianxin/lianxin"
)

// Sign-in limits: guesses are counted per user name and per address, in
// the database, so they hold across serve processes.
const (
	loginWindow     = 15 * time.Minute
	loginPerUser    = 5
	loginPerAddress = 20
)

type loginPage struct {
	Base
	Username string
	Next     string
	WeChat   bool
}

func (h *Handler) loginPage(w http.ResponseWriter, r *http.Request, _ *reqCtx) error {
	if rc, err := h.session(r); err == nil && rc != nil {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return nil
	}
	return h.render(w, "login", loginPage{Base: Base{Title: "登录"}, Next: safeNext(r.URL.Query().Get("next")), WeChat: h.cfg.OAuth != nil})
}

func (h *Handler) login(w http.ResponseWriter, r *http.Request, _ *reqCtx) error {
	ctx := r.Context()
	username := strings.TrimSpace(r.PostFormValue("username"))
	password := r.PostFormValue("password")
	next := safeNext(r.PostFormValue("next"))
	addr := clientAddr(r)
	page := loginPage{Base: Base{Title: "登录"}, Username: username, Next: next, WeChat: h.cfg.OAuth != nil}
	if username == "" || password == "" {
		page.Error = label("err", "login_empty")
		return h.render(w, "login", page, http.StatusBadRequest)
	}
	byUser, byAddr, err := h.cfg.Store.LoginFailures(ctx, username, addr, h.cfg.Now().Add(-loginWindow))
	if err != nil {
		return err
	}
	if byUser >= loginPerUser || byAddr >= loginPerAddress {
		page.Error = label("err", "login_locked")
		return h.render(w, "login", page, http.StatusTooManyRequests)
	}
	u, hash, err := h.cfg.Store.UserByName(ctx, username)
	if err != nil && lianxin.ErrorCode(err) != lianxin.ENOTFOUND {
		return err
	}
	ok := false
	if err == nil && hash != "" {
		ok = CheckPassword(hash, password)
	} else {
		CheckPassword(dummyHash, password)
	}
	if !ok || u.Disabled {
		if err := h.cfg.Store.RecordLoginFailure(ctx, username, addr); err != nil {
			return err
		}
		page.Error = label("err", "login_bad")
		return h.render(w, "login", page, http.StatusUnauthorized)
	}
	return h.startSession(w, r, u, lianxin.AuditLogin, next)
}

func (h *Handler) startSession(w http.ResponseWriter, r *http.Request, u lianxin.User, how, next string) error {
	token, id := newToken()
	a := lianxin.AuditEntry{Actor: u.Ref(), Action: how, Subject: u.Ref(), Addr: clientAddr(r)}
	if err := h.cfg.Store.CreateSession(r.Context(), id, u.ID, clientAddr(r), r.UserAgent(), a); err != nil {
		return err
	}
	h.setSessionCookie(w, r, token)
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}

func (h *Handler) logout(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	if err := h.cfg.Store.DeleteSession(r.Context(), rc.session.ID, rc.audit(r, lianxin.AuditLogout, rc.user.Ref(), "")); err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: Prefix, MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: h.secure(r)})
	http.Redirect(w, r, "/console/login", http.StatusSeeOther)
	return nil
}
