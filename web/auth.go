package web

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/crypto/argon2"

	"github.com/lianxin/lianxin"
)

// Passwords are hashed with argon2id (memory-hard, RFC 9106) at OWASP's
// recommended cost (19 MiB, 2 passes, 1 lane) and kept in the PHC string
// format, so the cost can rise later without invalidating stored hashes.
const (
	argonMemory  = 19 * 1024
	argonTime    = 2
	argonThreads = 1
	argonKeyLen  = 32
)

// HashPassword returns the argon2id hash of a password in PHC form.
func HashPassword(password string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// CheckPassword reports whether password matches a HashPassword hash.
func CheckPassword(hash, password string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var m uint32
	var t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m == 0 || t == 0 || p == 0 || m > 1<<20 {
		return false
	}
	b64 := base64.RawStdEncoding
	salt, err1 := b64.DecodeString(parts[4])
	want, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// dummyHash is checked against when the user does not exist, so a wrong
// user name costs as long as a wrong password.
var dummyHash, _ = HashPassword("lianxin-no-such-user")

const sessionCookie = "lianxin_session"

// newToken is a session token and the id it is stored under (its hash).
func newToken() (token, id string) {
	b := make([]byte, 32)
	rand.Read(b)
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, tokenID(token)
}

func tokenID(token string) string {
	sum := sha256.Sum256([]byte("lianxin-session:" + token))
	return hex.EncodeToString(sum[:])
}

// secure reports whether cookies must be Secure: served over HTTPS, or
// behind a proxy the public URL says is HTTPS.
func (h *Handler) secure(r *http.Request) bool {
	return r.TLS != nil || strings.HasPrefix(h.cfg.PublicURL, "https://")
}

func (h *Handler) setSessionCookie(w http.ResponseWriter, r *http.Request, token string) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: token, Path: Prefix, HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: h.secure(r)})
}

func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// reqCtx is a signed-in request: who, what they may see, and the
// directory as it is now.
type reqCtx struct {
	session *lianxin.Session
	user    lianxin.User
	scope   lianxin.Scope
	dir     *lianxin.Directory
	cats    lianxin.Categories
}

// base fills the layout's part of a page.
func (h *Handler) base(r *http.Request, rc *reqCtx, title string) Base {
	b := Base{Title: title, User: &rc.user, Path: r.URL.Path, Flash: labels["flash:"+r.URL.Query().Get("done")]}
	if q, err := h.cfg.Store.QueueCounts(r.Context(), rc.scope, h.cfg.Now()); err == nil {
		b.Queues = q
	} else {
		h.cfg.Log.Error("queue counts failed", "err", err)
	}
	return b
}

type pageFunc func(w http.ResponseWriter, r *http.Request, rc *reqCtx) error

// auth serves a page to a signed-in user, and sends anyone else to the
// sign-in page (and back here afterwards).
func (h *Handler) auth(f pageFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc, err := h.session(r)
		if err != nil {
			if lianxin.ErrorCode(err) != lianxin.ENOTFOUND {
				h.renderError(w, r, nil, err)
				return
			}
			next := r.URL.Path
			if r.Method == http.MethodGet && r.URL.RawQuery != "" {
				next += "?" + r.URL.RawQuery
			}
			if r.Method != http.MethodGet {
				next = Prefix + "cases"
			}
			http.Redirect(w, r, "/console/login?next="+url.QueryEscape(next), http.StatusSeeOther)
			return
		}
		if err := f(w, r, rc); err != nil {
			h.renderError(w, r, rc, err)
		}
	})
}

// public serves a page that needs no sign-in.
func (h *Handler) public(f pageFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := f(w, r, nil); err != nil {
			h.renderError(w, r, nil, err)
		}
	})
}

func (h *Handler) session(r *http.Request) (*reqCtx, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return nil, lianxin.Errorf(lianxin.ENOTFOUND, "no session cookie")
	}
	s, err := h.cfg.Store.Session(r.Context(), tokenID(c.Value), h.cfg.IdleTimeout)
	if err != nil {
		return nil, err
	}
	dir, cats := h.cfg.Casework.Directory()
	return &reqCtx{session: s, user: s.User, scope: dir.ScopeOf(s.User), dir: dir, cats: cats}, nil
}

// safeNext keeps a post-sign-in redirect inside the console.
func safeNext(next string) string {
	if !strings.HasPrefix(next, Prefix) || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return Prefix + "cases"
	}
	return next
}

func (rc *reqCtx) audit(r *http.Request, action, subject, detail string) lianxin.AuditEntry {
	return lianxin.AuditEntry{Actor: rc.user.Ref(), Action: action, Subject: subject, Detail: detail, Addr: clientAddr(r)}
}

// staffOnly refuses deputies (and anyone without a staff role).
func (rc *reqCtx) staffOnly() error {
	if rc.user.Role != lianxin.RoleAdmin && rc.user.Role != lianxin.RoleStaff {
		return lianxin.Errorf(lianxin.EFORBIDDEN, "%s may not do this", rc.user.Role)
	}
	return nil
}

func (rc *reqCtx) adminOnly() error {
	if rc.user.Role != lianxin.RoleAdmin {
		return lianxin.Errorf(lianxin.EFORBIDDEN, "%s is not an admin", rc.user.Username)
	}
	return nil
}
