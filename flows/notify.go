package flows

import (
	"fmt"
	"strings"

	"github.com/lianxin/lianxin"
)

// NotifyConfig is how notifications reach people outside the 48-hour
// customer-service window: a template message with fields filled from the
// notification (configs/lianxin.yaml, notify:).
type NotifyConfig struct {
	TemplateID  string
	TemplateURL string
	// Fields maps template fields to patterns over {title} {number}
	// {category} {station} {deputy} {time} {text}.
	Fields map[string]string
	// CaseURL, when set, is the console page of a case as a deputy opens it
	// from WeChat: deputies' notices link to it (the template's url, and a
	// line at the end of the text).
	CaseURL func(number string) string
}

// notice builds an outbox row: a customer-service text with, when a template
// is configured, the template to send instead outside the 48-hour window.
func (t *turn) notice(idem, recipient, text, title string, c *lianxin.Case, deputy string) lianxin.Notice {
	return t.e.notice(idem, recipient, text, title, c, deputy, t.cats, t.dir)
}

func (e *Engine) notice(idem, recipient, text, title string, c *lianxin.Case, deputy string, cats lianxin.Categories, dir *lianxin.Directory) lianxin.Notice {
	link := ""
	if n := e.cfg.Notify; n.CaseURL != nil && c != nil && c.Number != "" && strings.HasPrefix(recipient, lianxin.DeputyRecipientPrefix) {
		link = n.CaseURL(c.Number)
		text += "\n" + e.texts.Get("notify_case_link", "url", link)
	}
	p := lianxin.NotifyPayload{Text: text}
	if n := e.cfg.Notify; n.TemplateID != "" {
		vars := []string{"title", title, "text", text, "deputy", deputy}
		if c != nil {
			cat := cats.Name(c.CategoryKey)
			station := c.StationID
			if st, ok := dir.Station(c.StationID); ok {
				station = st.Name
			}
			vars = append(vars, "number", c.Number, "category", cat, "station", station,
				"time", c.UpdatedAt.In(e.cfg.Numbering.Location).Format("2006-01-02 15:04"))
		}
		r := strings.NewReplacer(braced(vars)...)
		data := make(map[string]string, len(n.Fields))
		for field, pattern := range n.Fields {
			data[field] = clip(r.Replace(pattern), 200)
		}
		url := n.TemplateURL
		if link != "" {
			url = link
		}
		p.Template = &lianxin.TemplatePayload{TemplateID: n.TemplateID, URL: url, Data: data}
	}
	return lianxin.Notice{IdemKey: idem, Kind: lianxin.OutboxText, Recipient: recipient, Payload: p}
}

func braced(pairs []string) []string {
	out := make([]string, 0, len(pairs))
	for i := 0; i+1 < len(pairs); i += 2 {
		out = append(out, "{"+pairs[i]+"}", pairs[i+1])
	}
	return out
}

// robotNotice posts to the WeCom group robot of the case's station (or its
// parent station), when it has one.
func (t *turn) robotNotice(idem string, c *lianxin.Case, text string) (lianxin.Notice, bool) {
	unit, ok := t.dir.Station(c.StationID)
	if ok && unit.RobotWebhook == "" && unit.Kind == lianxin.PointKind {
		unit, ok = t.dir.Station(unit.Parent)
	}
	if !ok || unit.RobotWebhook == "" {
		return lianxin.Notice{}, false
	}
	return lianxin.Notice{IdemKey: idem, Kind: lianxin.OutboxRobot, Recipient: unit.RobotWebhook,
		Payload: lianxin.RobotPayload{MsgType: "text", Content: text}}, true
}

// AttachmentFailedNotices tell a resident that a photo they sent could not
// be fetched from WeChat, so they can send it again (the store queues them
// with the failure; see store.DB.OnAttachmentFailed). Voice keeps its
// recognised text, which is what counts, so only photos are told.
func (e *Engine) AttachmentFailedNotices(a lianxin.Attachment, openid, caseNumber string) []lianxin.Notice {
	if a.Kind != lianxin.KindImage || openid == "" {
		return nil
	}
	when := a.CreatedAt.In(e.cfg.Numbering.Location).Format("01-02 15:04")
	text := e.texts.Get("photo_failed_draft", "time", when)
	if caseNumber != "" {
		text = e.texts.Get("photo_failed_case", "time", when, "number", caseNumber)
	}
	return []lianxin.Notice{{IdemKey: fmt.Sprintf("attachment-failed:%d", a.ID), Kind: lianxin.OutboxText, Recipient: openid,
		Payload: lianxin.NotifyPayload{Text: text}}}
}
