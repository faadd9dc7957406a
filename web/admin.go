package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/lianxin/lianxin"
)

// The admin pages: the outbox (what is waiting or was given up, and a
// retry), the audit log and response templates.

type outboxPage struct {
	Base
	Status string
	Rows   []lianxin.OutboxMessage
}

func (h *Handler) outboxPage(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	if err := rc.adminOnly(); err != nil {
		return err
	}
	status := r.URL.Query().Get("status")
	switch status {
	case "":
		status = lianxin.OutboxDead
	case lianxin.OutboxDead, lianxin.OutboxPending, lianxin.OutboxSent:
	default:
		return lianxin.Errorf(lianxin.EINVALID, "unknown outbox status %q", status)
	}
	rows, err := h.cfg.Store.OutboxWithStatus(r.Context(), status, 200)
	if err != nil {
		return err
	}
	for i := range rows {
		rows[i].Recipient = lianxin.MaskOpenID(rows[i].Recipient)
	}
	return h.render(w, "outbox", outboxPage{Base: h.base(r, rc, "通知发送"), Status: status, Rows: rows})
}

func (h *Handler) outboxRetry(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	if err := rc.adminOnly(); err != nil {
		return err
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return lianxin.Errorf(lianxin.ENOTFOUND, "bad outbox id")
	}
	if err := h.cfg.Store.RetryDeadOutbox(r.Context(), id, rc.audit(r, lianxin.AuditOutboxRetry, "outbox:"+r.PathValue("id"), "")); err != nil {
		return err
	}
	http.Redirect(w, r, "/console/outbox?status=pending&done=retried", http.StatusSeeOther)
	return nil
}

type auditPage struct {
	Base
	Rows           []lianxin.AuditEntry
	Actor, Subject string
	Older          int64
}

func (h *Handler) auditPage(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	if err := rc.adminOnly(); err != nil {
		return err
	}
	q := r.URL.Query()
	before, _ := strconv.ParseInt(q.Get("before"), 10, 64)
	f := lianxin.AuditFilter{Actor: q.Get("actor"), Subject: strings.ToUpper(q.Get("subject")), Before: before, Limit: 100}
	if strings.HasPrefix(q.Get("subject"), "user:") || strings.HasPrefix(q.Get("subject"), "outbox:") {
		f.Subject = q.Get("subject")
	}
	rows, err := h.cfg.Store.AuditLog(r.Context(), f)
	if err != nil {
		return err
	}
	p := auditPage{Base: h.base(r, rc, "操作日志"), Rows: rows, Actor: f.Actor, Subject: q.Get("subject")}
	if len(rows) == f.Limit {
		p.Older = rows[len(rows)-1].ID
	}
	return h.render(w, "audit", p)
}

type templatesPage struct {
	Base
	Rows   []lianxin.ResponseTemplate
	Cats   lianxin.Categories
	Form   lianxin.ResponseTemplate
	Errors map[string]string
}

func (h *Handler) templatesPage(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	if err := rc.staffOnly(); err != nil {
		return err
	}
	rows, err := h.cfg.Store.ResponseTemplates(r.Context())
	if err != nil {
		return err
	}
	p := templatesPage{Base: h.base(r, rc, "答复模板"), Rows: rows, Cats: rc.cats, Errors: map[string]string{}}
	if id, _ := strconv.ParseInt(r.URL.Query().Get("edit"), 10, 64); id > 0 {
		for _, t := range rows {
			if t.ID == id {
				p.Form = t
			}
		}
	}
	return h.render(w, "templates", p)
}

func (h *Handler) saveTemplate(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	if err := rc.staffOnly(); err != nil {
		return err
	}
	id, _ := strconv.ParseInt(r.PostFormValue("id"), 10, 64)
	t := lianxin.ResponseTemplate{ID: id, Category: r.PostFormValue("category"), Title: strings.TrimSpace(r.PostFormValue("title")),
		Body: strings.TrimSpace(r.PostFormValue("body"))}
	del := r.PostFormValue("delete") == "1"
	errs := map[string]string{}
	if del {
		t.Body = ""
	} else {
		if t.Title == "" {
			errs["title"] = "title_required"
		}
		if t.Body == "" {
			errs["body"] = "text_required"
		} else if len([]rune(t.Body)) > maxText {
			errs["body"] = "text_too_long"
		}
		if _, ok := rc.cats.ByKey(t.Category); t.Category != "" && !ok {
			errs["category"] = "category_required"
		}
	}
	if len(errs) > 0 {
		rows, err := h.cfg.Store.ResponseTemplates(r.Context())
		if err != nil {
			return err
		}
		return h.render(w, "templates", templatesPage{Base: h.base(r, rc, "答复模板"), Rows: rows, Cats: rc.cats, Form: t, Errors: errs}, http.StatusBadRequest)
	}
	if err := h.cfg.Store.SaveResponseTemplate(r.Context(), t, rc.audit(r, lianxin.AuditTemplate, "template:"+strconv.FormatInt(id, 10), t.Title)); err != nil {
		return err
	}
	http.Redirect(w, r, "/console/templates?done=saved", http.StatusSeeOther)
	return nil
}
