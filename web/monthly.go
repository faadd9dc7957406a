package web

import (
	"bytes"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/lianxin/lianxin"
	"github.com/lianxin/lianxin/report"
)

// The monthly report (/console/reports/monthly): the report package's
// document for a month and a station, printable as HTML and as PDF
// (headless Chromium), and the month's handled cases for staff to choose
// the typical ones (典型案例) from, each choice audited.

type monthlyView struct {
	Base
	Month       string
	StationID   string
	StationName string
	Months      []string
	Stations    []lianxin.Station
	AllStations bool // the district's report may be chosen (admins)
	Report      *report.Monthly
	Summary     template.HTML
	PrintURL    string
	PDFURL      string
	NoPDF       string // why there is no PDF on this machine
	Candidates  []caseRowView
	More        string // the full list of the month's cases, when there are more
	Back        string
}

// monthlyParams checks month (this month by default) and station (a
// staff user's own station by default; a station outside the user's
// scope is refused, and only admins have the district's report).
func (h *Handler) monthlyParams(v url.Values, rc *reqCtx) (month, station string, err error) {
	if err := rc.staffOnly(); err != nil {
		return "", "", err
	}
	month = v.Get("month")
	if month == "" {
		month = h.cfg.Now().In(h.cfg.Location).Format("2006-01")
	}
	from, _, err := lianxin.MonthRange(month, h.cfg.Location)
	if err != nil {
		return "", "", lianxin.Errorf(lianxin.EINVALID, "bad month: %v", err)
	}
	month = from.Format("2006-01")
	station = v.Get("station")
	if station == "" && !rc.scope.All {
		station = rc.user.StationID
	}
	if station != "" {
		if _, ok := rc.dir.Station(station); !ok {
			return "", "", lianxin.Errorf(lianxin.EINVALID, "unknown station %q", station)
		}
		if !rc.scope.All && !slices.Contains(rc.scope.Units, station) {
			return "", "", lianxin.Errorf(lianxin.ENOTFOUND, "station %s is outside the scope", station)
		}
	}
	return month, station, nil
}

func (h *Handler) monthlyPage(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	return h.renderMonthly(w, r, rc, "", http.StatusOK)
}

func (h *Handler) renderMonthly(w http.ResponseWriter, r *http.Request, rc *reqCtx, problem string, status int) error {
	v := r.URL.Query()
	month, station, err := h.monthlyParams(v, rc)
	if err != nil {
		return err
	}
	rep := h.cfg.Reports.Reporter()
	m, err := rep.Monthly(r.Context(), month, station, false, rc.user.Ref())
	if err != nil {
		return err
	}
	params := withParams(url.Values{}, "month", month, "station", station)
	p := monthlyView{Base: h.base(r, rc, "月度报告 "+month), Month: month, StationID: station, StationName: m.StationName,
		AllStations: rc.scope.All, Report: m, PrintURL: "/console/reports/monthly/print?" + params,
		PDFURL: "/console/reports/monthly.pdf?" + params, Back: "/console/reports/monthly?" + params}
	p.Error = problem
	if _, err := report.FindChromium(); err != nil {
		p.NoPDF = "本机未安装Chromium浏览器，暂不能生成PDF。请打开「打印版」，用浏览器的「打印」另存为PDF；或请管理员安装chromium和fonts-noto-cjk。"
	}
	now := h.cfg.Now().In(h.cfg.Location)
	for i := range 24 {
		p.Months = append(p.Months, time.Date(now.Year(), now.Month()-time.Month(i), 1, 0, 0, 0, 0, h.cfg.Location).Format("2006-01"))
	}
	p.Stations, _ = scopedDirectory(rc)
	link := func(cf lianxin.CaseFilter) string {
		cf.Units = unitsOfStation(rc.dir, station)
		return h.listURL(rc.dir, cf)
	}
	if p.Summary, err = rep.StatsFragment("summary_table", m.Stats, nil, "", link); err != nil {
		return err
	}
	// The month's handled cases to choose typical ones from; the typical
	// ones first.
	from, to, _ := lianxin.MonthRange(month, h.cfg.Location)
	q := lianxin.CaseQuery{Measure: lianxin.MeasureHandled, From: from, To: to, Units: unitsOfStation(rc.dir, station),
		Now: h.cfg.Now(), PerPage: 200, Sort: lianxin.SortNewest}
	page, err := h.cfg.Store.CaseList(r.Context(), rc.scope, q)
	if err != nil {
		return err
	}
	for _, c := range page.Cases {
		p.Candidates = append(p.Candidates, caseRowView{CaseRow: c, Station: stationName(rc.dir, c.StationID),
			Category: rc.cats.Name(c.CategoryKey), Deputy: deputyName(rc.dir, c.AssigneeID)})
	}
	slices.SortStableFunc(p.Candidates, func(a, b caseRowView) int {
		return boolOrder(a.TypicalAt != nil, b.TypicalAt != nil)
	})
	if page.Total > len(page.Cases) {
		p.More = h.listURL(rc.dir, lianxin.CaseFilter{Measure: lianxin.MeasureHandled, From: from, To: to, Units: q.Units})
	}
	return h.render(w, "monthly", p, status)
}

func boolOrder(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return -1
	}
	return 1
}

func unitsOfStation(dir *lianxin.Directory, station string) []string {
	if station == "" {
		return nil
	}
	return dir.Units(station)
}

// printCSP lets a printable document's own <style> apply: it has no
// script, loads nothing, and submits nothing.
const printCSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

// monthlyDocument serves the report as the printable HTML document, or
// as a PDF printed by headless Chromium.
func (h *Handler) monthlyDocument(format string) pageFunc {
	return func(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
		month, station, err := h.monthlyParams(r.URL.Query(), rc)
		if err != nil {
			return err
		}
		rep := h.cfg.Reports.Reporter()
		m, err := rep.Monthly(r.Context(), month, station, false, rc.user.Ref())
		if err != nil {
			return err
		}
		var doc bytes.Buffer
		if err := rep.WriteMonthlyHTML(&doc, m); err != nil {
			return err
		}
		name := "月度报告-" + month
		if m.StationName != "" {
			name += "-" + m.StationName
		}
		return h.serveDocument(w, r, rc, format, name, doc.Bytes(), func(problem string) error {
			return h.renderMonthly(w, r, rc, problem, http.StatusServiceUnavailable)
		})
	}
}

// serveDocument writes a report document as HTML (its own styles allowed)
// or prints it to PDF; without Chromium, unavailable says so on a page.
func (h *Handler) serveDocument(w http.ResponseWriter, r *http.Request, rc *reqCtx, format, name string, doc []byte, unavailable func(problem string) error) error {
	if format == "html" {
		w.Header().Set("Content-Security-Policy", printCSP)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, err := w.Write(doc)
		return err
	}
	pdf, err := report.PDF(r.Context(), doc)
	if errors.Is(err, report.ErrNoChromium) {
		return unavailable("PDF暂不可用：本机未安装Chromium浏览器。请打开「打印版」，用浏览器打印或另存为PDF。")
	} else if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", "attachment; filename*=UTF-8''"+url.PathEscape(name+".pdf"))
	_, err = w.Write(pdf)
	return err
}

// setTypical chooses a case as a typical case of its month (or no
// longer), with a note; audited with its timeline entry.
func (h *Handler) setTypical(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	if err := rc.staffOnly(); err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return lianxin.Errorf(lianxin.EINVALID, "bad form: %v", err)
	}
	number := strings.TrimSpace(r.PostFormValue("case"))
	c, err := h.cfg.Store.CaseInScope(r.Context(), rc.scope, number)
	if err != nil {
		return err
	}
	on := r.PostFormValue("on") == "1"
	note := strings.TrimSpace(r.PostFormValue("note"))
	if len([]rune(note)) > maxText {
		return lianxin.Errorf(lianxin.EINVALID, "note too long")
	}
	detail := "off"
	if on {
		detail = "on " + note
	}
	if _, err := h.cfg.Reports.SetTypical(r.Context(), c.Number, on, note, rc.audit(r, lianxin.AuditTypical, c.Number, detail)); err != nil {
		return err
	}
	back := safeNext(r.PostFormValue("back"))
	sep := "?"
	if strings.Contains(back, "?") {
		sep = "&"
	}
	done := "typical_off"
	if on {
		done = "typical_on"
	}
	http.Redirect(w, r, back+sep+"done="+done+"#typical", http.StatusSeeOther)
	return nil
}
