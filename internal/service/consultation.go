package service

import (
	"bytes"
	"context"
	"errors"
	"io"

	"github.com/lianxin/lianxin"
	"github.com/lianxin/lianxin/report"
	"github.com/lianxin/lianxin/store"
	"github.com/lianxin/lianxin/web"
)

// Consultations on draft regulations, wired: the console's desk (the
// store, the engine that words pushes and notices, the report package for
// the written suggestions) and the WeChat side of the push.

// consultationDesk is the console's consultations.
type consultationDesk struct {
	*store.DB
	s *Service
}

func (d consultationDesk) Publish(ctx context.Context, scope lianxin.Scope, id int64, actor lianxin.User, addr string) error {
	page := ""
	if u := d.s.Config.Console.PublicURL; u != "" {
		page = web.ConsultationLink(u, id)
	}
	err := d.s.Engine.PublishConsultation(ctx, scope, id, page, d.MassQuota(), actor, addr)
	d.s.wakePractices()
	return err
}

func (d consultationDesk) Conclude(ctx context.Context, scope lianxin.Scope, id int64, actor lianxin.User, addr string) (int, error) {
	n, err := d.s.Engine.ConcludeConsultation(ctx, scope, id, actor, addr)
	d.s.wakePractices()
	return n, err
}

func (d consultationDesk) MassQuota() int { return d.s.Config.MassQuota() }

// ExportSuggestions writes the written suggestions (书面建议) of a
// consultation within the scope: xlsx, html, or pdf (Chromium).
func (d consultationDesk) ExportSuggestions(ctx context.Context, scope lianxin.Scope, id int64, format string, w io.Writer) error {
	c, err := d.Consultation(ctx, scope, id)
	if err != nil {
		return err
	}
	ops, err := d.Opinions(ctx, id)
	if err != nil {
		return err
	}
	rep := d.s.Reporter()
	ws := rep.WrittenSuggestions(c, ops)
	switch format {
	case "xlsx":
		return rep.WriteSuggestionsXLSX(w, ws, ops)
	case "html":
		return rep.WriteSuggestionsHTML(w, ws)
	case "pdf":
		var html bytes.Buffer
		if err := rep.WriteSuggestionsHTML(&html, ws); err != nil {
			return err
		}
		pdf, err := report.PDF(ctx, html.Bytes())
		if errors.Is(err, report.ErrNoChromium) {
			return lianxin.Errorf(lianxin.EUNAVAILABLE, "%v", err)
		} else if err != nil {
			return err
		}
		_, err = w.Write(pdf)
		return err
	}
	return lianxin.Errorf(lianxin.EINVALID, "no export format %q", format)
}

// Reporter is the report package over this service's register and data.
func (s *Service) Reporter() *report.Reporter {
	dir, cats := s.Engine.Directory()
	w := s.Config.Report.SatisfactionWeights
	return report.New(report.Config{Register: s.DB, Snapshots: s.DB, Texts: s.data.Texts, Directory: dir, Categories: cats,
		Location: s.Config.Location(), Weights: report.Weights{Satisfied: w.Satisfied, FairlySatisfied: w.FairlySatisfied, Unsatisfied: w.Unsatisfied},
		Now: s.opts.Clock})
}

// wakePractices wakes the workers that send what practices queue: the
// outbox (notices) and the mass push.
func (s *Service) wakePractices() {
	if s.Outbox != nil {
		s.Outbox.Notify()
	}
	if s.MassPush != nil {
		s.MassPush.Notify()
	}
}

// gridDesk is the console's grids page (the store's bindings and codes).
type gridDesk struct{ *store.DB }

// suggestionDesk is the console's similar cases and suggestions.
type suggestionDesk struct {
	*store.DB
	s *Service
}

func (d suggestionDesk) ProposeSuggestion(ctx context.Context, scope lianxin.Scope, actor lianxin.User, numbers []string, title, summary, addr string) (*lianxin.Suggestion, error) {
	return d.s.Engine.CreateSuggestion(ctx, scope, actor, numbers, title, summary, addr)
}

func (d suggestionDesk) ActOnSuggestion(ctx context.Context, scope lianxin.Scope, actor lianxin.User, id int64, verb, text, departmentID, addr string) error {
	err := d.s.Engine.ActOnSuggestion(ctx, scope, actor, id, verb, text, departmentID, addr)
	d.s.wakePractices()
	return err
}

// practicesConsole adds issue 14's desks to the console's configuration.
func (s *Service) practicesConsole(wc *web.Config) {
	wc.Consultations = consultationDesk{s.DB, s}
	wc.Grids = gridDesk{s.DB}
	wc.Suggestions = suggestionDesk{s.DB, s}
	wc.QRCodes = qrDesk{s.DB, s}
	wc.Open311 = s.DB
	wc.Reception = receptionDesk{s.DB, s}
}

// The writes of practices that queue notices wake the outbox (and the mass
// push) at once, as the conversation's other writes do.

func (w wakingStore) JoinCase(ctx context.Context, j lianxin.Join) (int, error) {
	n, err := w.DB.JoinCase(ctx, j)
	w.wakeOutbox()
	return n, err
}

func (w wakingStore) ChangeSuggestion(ctx context.Context, ch lianxin.SuggestionChange) error {
	err := w.DB.ChangeSuggestion(ctx, ch)
	w.wakeOutbox()
	return err
}

func (w wakingStore) PublishConsultation(ctx context.Context, scope lianxin.Scope, id int64, sends []lianxin.MassSend, quota int, notices []lianxin.Notice, a lianxin.AuditEntry) error {
	err := w.DB.PublishConsultation(ctx, scope, id, sends, quota, notices, a)
	w.s.wakePractices()
	return err
}

func (w wakingStore) ConcludeConsultation(ctx context.Context, scope lianxin.Scope, id int64, notices func(*lianxin.Consultation, []lianxin.Opinion) (map[int64]lianxin.Notice, error), a lianxin.AuditEntry) (int, error) {
	n, err := w.DB.ConcludeConsultation(ctx, scope, id, notices, a)
	w.wakeOutbox()
	return n, err
}
