// Package web is the station console: the pages where station staff, the
// district office and deputies see and run cases, served by `serve` under
// /console/. It owns the console's HTTP side: sign-in and sessions, the
// case list and case page, console actions, walk-ins, queues, directory,
// outbox and audit pages, the photos and voice of a case, and deputies'
// sign-in from WeChat (web authorisation).
//
// Pages are server-rendered html/template in Simplified Chinese; templates,
// styles and the little script are embedded. One handler file per page,
// each filling a typed page struct; handlers return errors and one wrapper
// renders them with the status and Chinese text of their code. What a user
// may see is a lianxin.Scope the store applies in every query, so no page
// can forget it. The package speaks root-package types and declares the
// narrow interfaces it needs; the wiring (internal/service) provides them.
package web

import (
	"context"
	"html/template"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/lianxin/lianxin"
)

// Store is what the console reads and writes directly (store.DB), in three
// parts: accounts and sessions, the cases within a scope, and what admins
// and staff keep (audit log, outbox, templates, deputies). Case changes go
// through Casework.
type Store interface {
	Accounts
	ScopedCases
	Records
}

// Accounts are console users, their sessions and sign-in failures.
type Accounts interface {
	UserByName(ctx context.Context, username string) (lianxin.User, string, error)
	Users(ctx context.Context) ([]lianxin.User, error)
	AddUser(ctx context.Context, u lianxin.User, passwordHash string, a lianxin.AuditEntry) (lianxin.User, error)
	SetUserDisabled(ctx context.Context, username string, disabled bool, a lianxin.AuditEntry) error
	SetPassword(ctx context.Context, username, hash string, a lianxin.AuditEntry) error
	DeputyUser(ctx context.Context, deputyID string) (lianxin.User, error)
	DeputyByOpenID(ctx context.Context, openid string) (lianxin.Deputy, bool, error)
	LoginFailures(ctx context.Context, username, addr string, since time.Time) (int, int, error)
	RecordLoginFailure(ctx context.Context, username, addr string) error
	CreateSession(ctx context.Context, id string, userID int64, addr, userAgent string, a lianxin.AuditEntry) error
	Session(ctx context.Context, id string, idle time.Duration) (*lianxin.Session, error)
	DeleteSession(ctx context.Context, id string, a lianxin.AuditEntry) error
}

// ScopedCases are the reads of cases; each takes the user's scope and
// applies it in its query.
type ScopedCases interface {
	CaseList(ctx context.Context, scope lianxin.Scope, q lianxin.CaseQuery) (*lianxin.CasePage, error)
	QueueCounts(ctx context.Context, scope lianxin.Scope, now time.Time) (lianxin.QueueCounts, error)
	CaseInScope(ctx context.Context, scope lianxin.Scope, number string) (*lianxin.Case, error)
	AttachmentInScope(ctx context.Context, scope lianxin.Scope, id int64) (*lianxin.Attachment, error)
	// Conversation and CaseNotices are read for a case CaseInScope returned.
	Conversation(ctx context.Context, c *lianxin.Case, limit int) ([]lianxin.JournalEntry, error)
	CaseNotices(ctx context.Context, caseID int64) ([]lianxin.OutboxMessage, error)
	SenderBlocked(ctx context.Context, openid string) (bool, error)
}

// Records are what admins and staff keep besides cases.
type Records interface {
	Audit(ctx context.Context, a lianxin.AuditEntry) error
	AuditLog(ctx context.Context, f lianxin.AuditFilter) ([]lianxin.AuditEntry, error)
	ResponseTemplates(ctx context.Context) ([]lianxin.ResponseTemplate, error)
	SaveResponseTemplate(ctx context.Context, t lianxin.ResponseTemplate, a lianxin.AuditEntry) error
	OutboxWithStatus(ctx context.Context, status string, limit int) ([]lianxin.OutboxMessage, error)
	RetryDeadOutbox(ctx context.Context, id int64, a lianxin.AuditEntry) error
	DeputyRecords(ctx context.Context) ([]lianxin.DeputyRecord, error)
	CreateInvite(ctx context.Context, deputyID string, ttl time.Duration) (string, time.Time, error)
}

// Casework changes cases by the same rules as chat (flows.Engine).
type Casework interface {
	Act(ctx context.Context, a lianxin.CaseAction) (*lianxin.Case, error)
	Register(ctx context.Context, r lianxin.Report, actor lianxin.User, addr string) (*lianxin.Case, error)
	// Directory is the directory and categories in use now.
	Directory() (*lianxin.Directory, lianxin.Categories)
}

// Uploads keeps photos staff upload from their computer (a walk-in's), put
// through the same cleaning as residents' photos (re-encoded, EXIF gone,
// thumbnail), as attachments not yet in a case.
type Uploads interface {
	SaveUpload(ctx context.Context, data []byte) (attachmentID int64, err error)
}

// DirectoryEditor applies a changed directory through the same validation
// as the YAML import (configs), audited.
type DirectoryEditor interface {
	EditDirectory(ctx context.Context, dir *lianxin.Directory, cats lianxin.Categories, a lianxin.AuditEntry) ([]lianxin.DirectoryChange, error)
	UnbindDeputy(ctx context.Context, deputyID string, a lianxin.AuditEntry) error
	// DeactivateDeputy takes a deputy out and routes their open cases to
	// colleagues; it returns how many moved.
	DeactivateDeputy(ctx context.Context, deputyID string, actor lianxin.User, addr string) (int, error)
}

// OAuth is WeChat web authorisation (snsapi_base): where to send a
// deputy's browser, and the openid a returned code stands for.
type OAuth interface {
	AuthorizeURL(redirectURI, state string) string
	Exchange(ctx context.Context, code string) (openid string, err error)
}

// Config is what the console needs.
type Config struct {
	Store     Store
	Casework  Casework
	Uploads   Uploads         // nil: walk-ins without photos
	Directory DirectoryEditor // nil: the directory is read-only
	OAuth     OAuth           // nil: no sign-in from WeChat
	// Texts are the Chinese texts of configs/messages.yaml (error pages).
	Texts func(key string, pairs ...string) string
	// DataDir is where stored photos and voice are (LIANXIN_DATA_DIR).
	DataDir string
	// Location is the stations' time zone (times are shown in it).
	Location *time.Location
	// RemindAt is the share of a deadline's window after which a case is 临期.
	RemindAt float64
	// IdleTimeout signs a session out after this long without a request.
	IdleTimeout time.Duration
	// PublicURL is the console's address as users reach it (https://host),
	// for WeChat's redirect and for secure cookies; "" trusts the request.
	PublicURL string
	Now       func() time.Time
	Log       *slog.Logger

	// Issue 14's practices; nil: their pages are not found.
	Consultations ConsultationDesk
	Grids         GridDesk
	Suggestions   SuggestionDesk
	QRCodes       QRDesk
	Open311       Open311Keys

	// Issue 13's register pages (exports, numbers, monthly report,
	// deputies' records, erasure); nil: they are not found.
	Reports   ReportDesk
	Reception ReceptionDesk
}

// Handler serves /console/.
type Handler struct {
	cfg   Config
	mux   *http.ServeMux
	pages map[string]*template.Template
	cop   *http.CrossOriginProtection
}

// Prefix is where the console is mounted.
const Prefix = "/console/"

// New builds the console.
func New(cfg Config) (*Handler, error) {
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 2 * time.Hour
	}
	if cfg.RemindAt <= 0 || cfg.RemindAt >= 1 {
		cfg.RemindAt = 0.75
	}
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	h := &Handler{cfg: cfg, mux: http.NewServeMux(), cop: http.NewCrossOriginProtection()}
	var err error
	if h.pages, err = parsePages(h.funcs()); err != nil {
		return nil, err
	}
	h.routes()
	return h, nil
}

func (h *Handler) routes() {
	m := h.mux
	m.HandleFunc("GET /console/static/{hash}/{name}", h.serveStatic)
	m.Handle("GET /console/login", h.public(h.loginPage))
	m.Handle("POST /console/login", h.public(h.login))
	m.Handle("GET /console/wx", h.public(h.wxStart))
	m.Handle("GET /console/wx/callback", h.public(h.wxCallback))
	m.Handle("POST /console/logout", h.auth(h.logout))
	m.Handle("GET /console/{$}", h.auth(func(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
		http.Redirect(w, r, "/console/cases", http.StatusSeeOther)
		return nil
	}))
	m.Handle("GET /console/cases", h.auth(h.caseList))
	m.Handle("POST /console/cases/assign", h.auth(h.bulkAssign))
	m.Handle("GET /console/cases/{number}", h.auth(h.casePage))
	m.Handle("POST /console/cases/{number}/phone", h.auth(h.revealPhone))
	m.Handle("POST /console/cases/{number}/{verb}", h.auth(h.caseAction))
	m.Handle("GET /console/media/{id}", h.auth(h.media))
	m.Handle("GET /console/media/{id}/thumb", h.auth(h.media))
	m.Handle("GET /console/new", h.auth(h.walkInPage))
	m.Handle("POST /console/new", h.auth(h.walkIn))
	m.Handle("GET /console/outbox", h.auth(h.outboxPage))
	m.Handle("POST /console/outbox/{id}/retry", h.auth(h.outboxRetry))
	m.Handle("GET /console/audit", h.auth(h.auditPage))
	m.Handle("GET /console/users", h.auth(h.usersPage))
	m.Handle("POST /console/users", h.auth(h.addUser))
	m.Handle("POST /console/users/{name}/{op}", h.auth(h.userOp))
	m.Handle("GET /console/templates", h.auth(h.templatesPage))
	m.Handle("POST /console/templates", h.auth(h.saveTemplate))
	m.Handle("GET /console/directory", h.auth(h.directoryPage))
	m.Handle("POST /console/directory/deputies/{id}/{op}", h.auth(h.deputyOp))
	m.Handle("POST /console/directory/edit/{kind}/{id}", h.auth(h.directoryEdit))
	h.practiceRoutes()
	h.registerRoutes()
	h.receptionRoutes()
	m.Handle("/console/", h.auth(func(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
		return lianxin.Errorf(lianxin.ENOTFOUND, "no console page %s", r.URL.Path)
	}))
}

// ServeHTTP serves the console with its security headers; every request
// that changes something must come from the console's own pages
// (cross-origin protection by Sec-Fetch-Site and Origin).
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", csp)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "same-origin")
	hd.Set("Cache-Control", "no-store")
	if err := h.cop.Check(r); err != nil {
		h.renderError(w, r, nil, lianxin.Errorf(lianxin.EFORBIDDEN, "cross-origin request refused: %v", err))
		return
	}
	h.mux.ServeHTTP(w, r)
}

// csp allows nothing but the console's own files: no inline script or
// style, no frames, forms only to itself.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self'; connect-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
