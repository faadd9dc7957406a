package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/lianxin/lianxin"
	"github.com/lianxin/lianxin/report"
)

// The register's console side (issue 13): the list's exports
// (/console/cases.xlsx and .csv, exactly the list's view), the numbers
// (/console/stats), the monthly report and the deputies' records. The
// figures, sheets and documents are the report package's; this file and
// its neighbours only scope, serve and link them.

// ReportDesk is what the register's pages need beyond the case list.
type ReportDesk interface {
	// Reporter is the report package over the register and the
	// directory in use now.
	Reporter() *report.Reporter
	// RegisterList streams the register lines of the list's cases (the
	// scope, the query's filters, its order, all pages).
	RegisterList(ctx context.Context, scope lianxin.Scope, q lianxin.CaseQuery, fn func(*lianxin.RegisterRow) error) error
	// SetTypical marks (or unmarks) a typical case, audited.
	SetTypical(ctx context.Context, number string, typical bool, note string, a lianxin.AuditEntry) (*lianxin.Case, error)
	// EraseContact erases the resident's phone and openid from a case at
	// their request, audited.
	EraseContact(ctx context.Context, number string, a lianxin.AuditEntry) (*lianxin.Case, error)
}

func (h *Handler) registerRoutes() {
	if h.cfg.Reports == nil {
		return
	}
	m := h.mux
	m.Handle("GET /console/cases.xlsx", h.auth(h.exportCases("xlsx")))
	m.Handle("GET /console/cases.csv", h.auth(h.exportCases("csv")))
	m.Handle("GET /console/stats", h.auth(h.statsPage))
	m.Handle("GET /console/reports/monthly", h.auth(h.monthlyPage))
	m.Handle("GET /console/reports/monthly/print", h.auth(h.monthlyDocument("html")))
	m.Handle("GET /console/reports/monthly.pdf", h.auth(h.monthlyDocument("pdf")))
	m.Handle("POST /console/reports/monthly/typical", h.auth(h.setTypical))
	m.Handle("GET /console/deputies", h.auth(h.deputiesPage))
	m.Handle("GET /console/deputies/{id}/record", h.auth(h.recordPage))
	m.Handle("GET /console/deputies/{id}/record/print", h.auth(h.recordDocument("html")))
	m.Handle("GET /console/deputies/{id}/record.xlsx", h.auth(h.recordDocument("xlsx")))
	m.Handle("POST /console/cases/{number}/erase", h.auth(h.eraseContact))
}

// registerFuncs are the register pages' template functions.
func (h *Handler) registerFuncs() map[string]any {
	return map[string]any{
		"pct": func(r report.Rate) string {
			if !r.OK {
				return "—"
			}
			return fmt.Sprintf("%.1f%%", r.Value*100)
		},
		"station": func(id string) string {
			if h.cfg.Casework == nil {
				return id
			}
			dir, _ := h.cfg.Casework.Directory()
			return stationName(dir, id)
		},
	}
}

// listURL is the case list that shows exactly the cases a figure's filter
// selects: the inverse of parseCaseQuery for what the numbers' filters
// use. The filter's scope is the user's, which the list applies itself.
func (h *Handler) listURL(dir *lianxin.Directory, f lianxin.CaseFilter) string {
	v := url.Values{}
	if f.Measure != "" {
		v.Set("measure", string(f.Measure))
	}
	loc := h.cfg.Location
	from, to := f.From.In(loc), f.To.In(loc)
	midnight := func(t time.Time) bool {
		return t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 && t.Nanosecond() == 0
	}
	switch {
	case !f.From.IsZero() && from.Day() == 1 && midnight(from) && to.Equal(from.AddDate(0, 1, 0)):
		v.Set("month", from.Format("2006-01"))
	default:
		if !f.From.IsZero() {
			v.Set("from", from.Format("2006-01-02"))
		}
		if !f.To.IsZero() {
			// The numbers' periods end at midnight: "to" is the last day.
			v.Set("to", to.AddDate(0, 0, -1).Format("2006-01-02"))
		}
	}
	switch {
	case len(f.Units) == 0:
	case len(f.Units) == 1 && f.Units[0] == "":
		v.Set("station", districtParam)
	case slices.Equal(f.Units, dir.Units(f.Units[0])):
		v.Set("station", f.Units[0])
	default:
		for _, u := range f.Units {
			v.Add("unit", u)
		}
	}
	if f.Category != "" {
		v.Set("category", f.Category)
	}
	if f.Source != "" {
		v.Set("source", lianxin.SourceOfLabel(f.Source))
	}
	if f.Deputy != "" {
		v.Set("deputy", f.Deputy)
	}
	if f.Typical {
		v.Set("typical", "1")
	}
	return "/console/cases?" + v.Encode()
}

// districtParam is the station filter for the cases of no station (the
// district office's).
const districtParam = "-"

// exportCases is the list as a register file: the same query, the same
// scope, every page. Phones are masked; staff may ask for full numbers
// (phones=full), which is audited before a line is written. Anonymous
// reports stay anonymous either way.
func (h *Handler) exportCases(format string) pageFunc {
	return func(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
		v := r.URL.Query()
		q, err := h.parseCaseQuery(v, rc)
		if err != nil {
			return err
		}
		unmasked := false
		switch v.Get("phones") {
		case "":
		case "full":
			if err := rc.staffOnly(); err != nil {
				return err
			}
			unmasked = true
		default:
			return lianxin.Errorf(lianxin.EINVALID, "unknown phones=%q", v.Get("phones"))
		}
		rows := func(ctx context.Context, fn func(*lianxin.RegisterRow) error) error {
			return h.cfg.Reports.RegisterList(ctx, rc.scope, q, fn)
		}
		subject := "/console/cases?" + withParams(v, "page", "", "phones", "")
		o := report.ExportOptions{Unmasked: unmasked, Actor: rc.user.Ref(), Audit: func(ctx context.Context, e lianxin.AuditEntry) error {
			e.Addr = clientAddr(r)
			return h.cfg.Store.Audit(ctx, e)
		}}
		name := fmt.Sprintf("登记簿-%s.%s", h.cfg.Now().In(h.cfg.Location).Format("20060102-1504"), format)
		hd := w.Header()
		hd.Set("Content-Disposition", "attachment; filename*=UTF-8''"+url.PathEscape(name))
		rep := h.cfg.Reports.Reporter()
		if format == "xlsx" {
			hd.Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
			_, err = rep.WriteRowsXLSX(r.Context(), w, rows, subject, o)
		} else {
			hd.Set("Content-Type", "text/csv; charset=utf-8")
			_, err = rep.WriteRowsCSV(r.Context(), w, rows, subject, o)
		}
		if err != nil {
			hd.Del("Content-Disposition") // the error page is shown, not saved
		}
		return err
	}
}

// exportLinks are the list's export links, carrying its filters: Excel,
// CSV, and Excel with full phone numbers.
func exportLinks(v url.Values) (xlsx, csv, full string) {
	q := withParams(v, "page", "", "done", "")
	if q != "" {
		q = "?" + q
	}
	sep := "?"
	if q != "" {
		sep = "&"
	}
	return "/console/cases.xlsx" + q, "/console/cases.csv" + q, "/console/cases.xlsx" + q + sep + "phones=full"
}

// unitsParam checks the list's exact units (unit=ID, repeated).
func unitsParam(v url.Values, dir *lianxin.Directory) ([]string, error) {
	var out []string
	for _, u := range v["unit"] {
		u = strings.TrimSpace(u)
		if u == districtParam {
			u = ""
		} else if _, ok := dir.Station(u); !ok {
			return nil, lianxin.Errorf(lianxin.EINVALID, "unknown unit %q", u)
		}
		out = append(out, u)
	}
	return out, nil
}

// periodText is a list's period as the hint above it says it.
func periodText(q lianxin.CaseQuery, loc *time.Location) string {
	switch {
	case q.From.IsZero() && q.To.IsZero():
		return "全部"
	case q.To.IsZero():
		return q.From.In(loc).Format("2006-01-02") + "起"
	case q.From.IsZero():
		return "至" + q.To.In(loc).AddDate(0, 0, -1).Format("2006-01-02")
	}
	return q.From.In(loc).Format("2006-01-02") + "至" + q.To.In(loc).AddDate(0, 0, -1).Format("2006-01-02")
}
