package web

import (
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/lianxin/lianxin"
	"github.com/lianxin/lianxin/report"
)

// The numbers (/console/stats): the report package's figures, 三率 and
// charts for the user's scope, each figure a link to the case list that
// counts it (listURL).

type statsView struct {
	Base
	Query      url.Values
	Month      string // "" for the whole register
	Months     []string
	Stations   []lianxin.Station
	Cats       lianxin.Categories
	Deputies   []lianxin.Deputy
	Sources    []string
	Stats      *report.Stats
	Summary    template.HTML
	Breakdowns []breakdownView
	Charts     template.HTML
	Defs       template.HTML
	Trend      []trendView
	Monthly    string // the monthly report of this view, for staff
}

type breakdownView struct {
	Head string
	HTML template.HTML
}

type trendView struct {
	Month                       string
	Received, Resolved, Overdue figureView
}

type figureView struct {
	N    int
	Link string
}

// statsFilter reads the numbers' filters: month (this month by default,
// "all" for the whole register), station, category, source, deputy;
// always within the user's scope.
func (h *Handler) statsFilter(v url.Values, rc *reqCtx) (lianxin.CaseFilter, string, error) {
	scope := rc.scope
	f := lianxin.CaseFilter{Scope: &scope}
	month := v.Get("month")
	if month == "" {
		month = h.cfg.Now().In(h.cfg.Location).Format("2006-01")
	}
	if month != "all" {
		from, to, err := lianxin.MonthRange(month, h.cfg.Location)
		if err != nil {
			return f, "", lianxin.Errorf(lianxin.EINVALID, "bad month: %v", err)
		}
		f.From, f.To, month = from, to, from.Format("2006-01")
	} else {
		month = ""
	}
	if id := v.Get("station"); id != "" {
		if _, ok := rc.dir.Station(id); !ok {
			return f, "", lianxin.Errorf(lianxin.EINVALID, "unknown station %q", id)
		}
		f.Units = rc.dir.Units(id)
	}
	if c := v.Get("category"); c != "" {
		if _, ok := rc.cats.ByKey(c); !ok {
			return f, "", lianxin.Errorf(lianxin.EINVALID, "unknown category %q", c)
		}
		f.Category = c
	}
	if s := v.Get("source"); s != "" {
		if !slices.Contains(lianxin.Sources, s) {
			return f, "", lianxin.Errorf(lianxin.EINVALID, "unknown source %q", s)
		}
		f.Source = lianxin.SourceLabels[s]
	}
	if d := v.Get("deputy"); d != "" {
		if _, ok := rc.dir.Deputy(d); !ok && d != lianxin.NoDeputy {
			return f, "", lianxin.Errorf(lianxin.EINVALID, "unknown deputy %q", d)
		}
		f.Deputy = d
	}
	return f, month, nil
}

func (h *Handler) statsPage(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	v := r.URL.Query()
	f, month, err := h.statsFilter(v, rc)
	if err != nil {
		return err
	}
	rep := h.cfg.Reports.Reporter()
	s, err := rep.StatsFor(r.Context(), f, 12)
	if err != nil {
		return err
	}
	link := func(cf lianxin.CaseFilter) string { return h.listURL(rc.dir, cf) }
	p := statsView{Base: h.base(r, rc, "统计"), Query: v, Month: month, Cats: rc.cats, Sources: lianxin.Sources, Stats: s}
	now := h.cfg.Now().In(h.cfg.Location)
	for i := range 24 {
		p.Months = append(p.Months, time.Date(now.Year(), now.Month()-time.Month(i), 1, 0, 0, 0, 0, h.cfg.Location).Format("2006-01"))
	}
	p.Stations, p.Deputies = scopedDirectory(rc)
	if p.Summary, err = rep.StatsFragment("summary_table", s, nil, "", link); err != nil {
		return err
	}
	for _, b := range []struct {
		head string
		rows []report.Row
	}{{"类别", s.ByCategory}, {"联络站", s.ByStation}, {"承办代表", s.ByDeputy}, {"来源", s.BySource}} {
		html, err := rep.StatsFragment("breakdown", s, b.rows, b.head, link)
		if err != nil {
			return err
		}
		p.Breakdowns = append(p.Breakdowns, breakdownView{Head: b.head, HTML: html})
	}
	if p.Charts, err = rep.StatsFragment("charts", s, nil, "", link); err != nil {
		return err
	}
	if p.Defs, err = rep.StatsFragment("definitions", s, nil, "", nil); err != nil {
		return err
	}
	fv := func(tp report.TrendPoint, m lianxin.Measure) figureView {
		fg := tp.Figures[m]
		return figureView{N: fg.Value, Link: link(fg.Filter)}
	}
	for _, tp := range s.Trend {
		p.Trend = append(p.Trend, trendView{Month: tp.Month, Received: fv(tp, lianxin.MeasureReceived),
			Resolved: fv(tp, lianxin.MeasureResolved), Overdue: fv(tp, lianxin.MeasureOverdue)})
	}
	if rc.staffOnly() == nil && month != "" {
		p.Monthly = "/console/reports/monthly?" + withParams(url.Values{}, "month", month, "station", v.Get("station"))
	}
	return h.render(w, "stats", p)
}

// scopedDirectory are the stations and deputies a user's filters offer:
// those of their scope.
func scopedDirectory(rc *reqCtx) (stations []lianxin.Station, deputies []lianxin.Deputy) {
	for _, st := range rc.dir.Stations {
		if rc.scope.All || slices.Contains(rc.scope.Units, st.ID) {
			stations = append(stations, st)
		}
	}
	for _, d := range rc.dir.Deputies {
		if rc.scope.All || slices.Contains(rc.scope.Units, d.StationID) || d.ID == rc.scope.DeputyID {
			deputies = append(deputies, d)
		}
	}
	return stations, deputies
}
