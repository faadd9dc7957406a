package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/lianxin/lianxin"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// staticHash is each asset's content hash: its URL changes when it does,
// so it can be cached for good.
var staticHash = func() map[string]string {
	out := map[string]string{}
	entries, _ := fs.ReadDir(staticFS, "static")
	for _, e := range entries {
		b, _ := fs.ReadFile(staticFS, "static/"+e.Name())
		sum := sha256.Sum256(b)
		out[e.Name()] = hex.EncodeToString(sum[:5])
	}
	return out
}()

func (h *Handler) serveStatic(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if staticHash[name] == "" || staticHash[name] != r.PathValue("hash") {
		http.NotFound(w, r)
		return
	}
	b, _ := fs.ReadFile(staticFS, "static/"+name)
	switch path.Ext(name) {
	case ".css":
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
	case ".js":
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	case ".svg":
		w.Header().Set("Content-Type", "image/svg+xml")
	}
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	w.Write(b)
}

// labels are the console's words for codes (statuses, events, sources, SLA
// colours, form errors), defined in templates/labels*.html as
// {{define "kind:code"}}words{{end}} so the Chinese lives with the templates.
// They are fixed at build time: read once.
var labels = func() map[string]string {
	out := map[string]string{}
	lt := template.Must(template.New("labels").ParseFS(templateFS, "templates/labels*.html"))
	for _, t := range lt.Templates() {
		if strings.Contains(t.Name(), ":") {
			var b bytes.Buffer
			if err := lt.ExecuteTemplate(&b, t.Name(), nil); err != nil {
				panic(fmt.Sprintf("web: label %s: %v", t.Name(), err))
			}
			out[t.Name()] = strings.TrimSpace(b.String())
		}
	}
	return out
}()

// parsePages parses each page with the shared layout and partials.
func parsePages(funcs template.FuncMap) (map[string]*template.Template, error) {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	shared := []string{"templates/layout.html", "templates/labels.html", "templates/partials.html"}
	pages := map[string]*template.Template{}
	for _, n := range names {
		base := strings.TrimSuffix(path.Base(n), ".html")
		if base == "layout" || strings.HasPrefix(base, "labels") || base == "partials" {
			continue
		}
		t, err := template.New(base).Funcs(funcs).ParseFS(templateFS, append(shared, n)...)
		if err != nil {
			return nil, fmt.Errorf("web: template %s: %w", base, err)
		}
		pages[base] = t
	}
	return pages, nil
}

// label is the console's words for a code ("status", "registered" → 已登记);
// an unknown code reads as itself.
func label(kind string, code any) string {
	c := fmt.Sprint(code)
	if s, ok := labels[kind+":"+c]; ok {
		return s
	}
	return c
}

// auditDetail is an audit entry's detail as the log shows it: a
// registration's source in words (来电), anything else as written.
func auditDetail(action, detail string) string {
	if action == "register" {
		return label("source", detail)
	}
	return detail
}

// noticeReason is why a notice was not (yet) sent, as the case page says
// it: the outbox keeps the operator's English reason (lianxin outbox).
func noticeReason(reason string) string {
	switch {
	case reason == "":
		return ""
	case strings.HasPrefix(reason, "its case moved on"):
		return label("notice_reason", "moved_on")
	case strings.HasSuffix(reason, "has not bound their WeChat yet"):
		return label("notice_reason", "unbound")
	case strings.HasSuffix(reason, "is still being fetched"):
		return label("notice_reason", "fetching")
	}
	return label("notice_reason", "other") + reason
}

func (h *Handler) funcs() template.FuncMap {
	loc := func() *time.Location { return h.cfg.Location }
	fm := template.FuncMap{
		"label":        label,
		"auditDetail":  auditDetail,
		"noticeReason": noticeReason,
		"static": func(name string) string {
			return "/console/static/" + staticHash[name] + "/" + name
		},
		"time": func(t any) string {
			switch v := t.(type) {
			case time.Time:
				if v.IsZero() {
					return ""
				}
				return v.In(loc()).Format("2006-01-02 15:04")
			case *time.Time:
				if v == nil {
					return ""
				}
				return v.In(loc()).Format("2006-01-02 15:04")
			}
			return ""
		},
		"date": func(t time.Time) string { return t.In(loc()).Format("2006-01-02") },
		"mask": lianxin.MaskPhone,
		"short": func(s string, n int) string {
			r := []rune(s)
			if len(r) <= n {
				return s
			}
			return string(r[:n]) + "…"
		},
		"add":   func(a, b int) int { return a + b },
		"query": func(v url.Values, kv ...string) string { return withParams(v, kv...) },
		"has": func(list []string, s string) bool {
			for _, x := range list {
				if x == s {
					return true
				}
			}
			return false
		},
		"lines":      func(s string) []string { return strings.Split(s, "\n") },
		"join":       strings.Join,
		"unix":       func(t time.Time) int64 { return t.UnixNano() },
		"queueNames": func() []string { return lianxin.Queues },
		"slaNames": func() []lianxin.SLAState {
			return []lianxin.SLAState{lianxin.SLAGreen, lianxin.SLAYellow, lianxin.SLARed}
		},
		"sortNames": func() []string {
			return []string{lianxin.SortNewest, lianxin.SortOldest, lianxin.SortDue, lianxin.SortUpdated}
		},
		"outboxNames": func() []string { return []string{lianxin.OutboxDead, lianxin.OutboxPending, lianxin.OutboxSent} },
		"randToken":   newFormToken,
		"payloadText": payloadText,
	}
	for k, v := range h.practiceFuncs() {
		fm[k] = v
	}
	for k, v := range h.registerFuncs() {
		fm[k] = v
	}
	return fm
}

// withParams is the query with the pairs set ("" deletes), encoded.
func withParams(v url.Values, kv ...string) string {
	q := url.Values{}
	for k, vs := range v {
		q[k] = append([]string(nil), vs...)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			q.Del(kv[i])
		} else {
			q.Set(kv[i], kv[i+1])
		}
	}
	return q.Encode()
}

// Base is what every page's layout shows: who is signed in, the queue
// counts in the navigation, a flash message.
type Base struct {
	Title  string
	User   *lianxin.User
	Queues lianxin.QueueCounts
	Flash  string
	Error  string
	Path   string
}

// render writes a page with status 200 (or status, when given).
func (h *Handler) render(w http.ResponseWriter, page string, data any, status ...int) error {
	t, ok := h.pages[page]
	if !ok {
		return fmt.Errorf("web: no page template %q", page)
	}
	var b bytes.Buffer
	if err := t.ExecuteTemplate(&b, "layout", data); err != nil {
		return fmt.Errorf("web: render %s: %w", page, err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if len(status) > 0 {
		w.WriteHeader(status[0])
	}
	_, err := w.Write(b.Bytes())
	return err
}

type errorPage struct {
	Base
	Status int
	Text   string
}

// renderError shows an error with its status and the Chinese text of its
// code; internal errors are logged and shown only as the generic text.
func (h *Handler) renderError(w http.ResponseWriter, r *http.Request, rc *reqCtx, err error) {
	status := lianxin.ErrorStatus(err)
	if status >= 500 {
		h.cfg.Log.Error("console request failed", "path", r.URL.Path, "err", err)
	} else {
		h.cfg.Log.Debug("console request refused", "path", r.URL.Path, "status", status, "err", lianxin.ErrorMessage(err))
	}
	text := lianxin.ErrorTextKey(err)
	if h.cfg.Texts != nil {
		text = h.cfg.Texts(text)
	}
	p := errorPage{Base: Base{Title: "出错了"}, Status: status, Text: text}
	if rc != nil {
		p.Base.User = &rc.user
	}
	if rerr := h.render(w, "error", p, status); rerr != nil {
		h.cfg.Log.Error("rendering the error page failed", "err", rerr)
		http.Error(w, text, status)
	}
}

// payloadText is what a notice says, from its outbox payload.
func payloadText(payload string) string {
	var p struct {
		Text    string `json:"text"`
		Content string `json:"content"`
	}
	if json.Unmarshal([]byte(payload), &p) != nil {
		return payload
	}
	return p.Text + p.Content
}
