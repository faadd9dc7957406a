package web

import (
	"bytes"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/lianxin/lianxin"
	"github.com/lianxin/lianxin/report"
)

// Deputies' records (履职档案, /console/deputies/{id}/record?year=): the
// report package's record of a year as a page, a printable document and
// an Excel workbook. A deputy sees their own; staff their station's
// deputies; admins everyone's.

type recordView struct {
	Base
	Record   *report.DeputyRecord
	Year     int
	Years    []int
	PrintURL string
	XLSXURL  string
}

type deputiesView struct {
	Base
	Deputies []lianxin.Deputy
	Year     int
}

// recordDeputy is the deputy of the path when the user may read their
// record; anyone else's is not found, like an unknown deputy.
func (h *Handler) recordDeputy(r *http.Request, rc *reqCtx) (lianxin.Deputy, int, error) {
	id := r.PathValue("id")
	d, ok := rc.dir.Deputy(id)
	mayRead := ok && (rc.scope.All || (rc.user.Role == lianxin.RoleDeputy && rc.user.DeputyID == id) ||
		(rc.user.Role == lianxin.RoleStaff && slices.Contains(rc.scope.Units, d.StationID)))
	if !mayRead {
		return d, 0, lianxin.Errorf(lianxin.ENOTFOUND, "no deputy %q in scope", id)
	}
	year := h.cfg.Now().In(h.cfg.Location).Year()
	if s := r.URL.Query().Get("year"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 2000 || n > 2200 {
			return d, 0, lianxin.Errorf(lianxin.EINVALID, "bad year %q", s)
		}
		year = n
	}
	return d, year, nil
}

func (h *Handler) recordPage(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	d, year, err := h.recordDeputy(r, rc)
	if err != nil {
		return err
	}
	rec, err := h.cfg.Reports.Reporter().Record(r.Context(), d.ID, year)
	if err != nil {
		return err
	}
	base := "/console/deputies/" + url.PathEscape(d.ID) + "/record"
	y := "?year=" + strconv.Itoa(year)
	p := recordView{Base: h.base(r, rc, d.Name+"代表"+strconv.Itoa(year)+"年度履职档案"), Record: rec, Year: year,
		PrintURL: base + "/print" + y, XLSXURL: base + ".xlsx" + y}
	for n := h.cfg.Now().In(h.cfg.Location).Year(); n >= h.cfg.Now().In(h.cfg.Location).Year()-4; n-- {
		p.Years = append(p.Years, n)
	}
	return h.render(w, "record", p)
}

func (h *Handler) recordDocument(format string) pageFunc {
	return func(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
		d, year, err := h.recordDeputy(r, rc)
		if err != nil {
			return err
		}
		rep := h.cfg.Reports.Reporter()
		rec, err := rep.Record(r.Context(), d.ID, year)
		if err != nil {
			return err
		}
		var doc bytes.Buffer
		if format == "xlsx" {
			if err := rep.WriteRecordXLSX(&doc, rec); err != nil {
				return err
			}
			w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
			w.Header().Set("Content-Disposition", "attachment; filename*=UTF-8''"+url.PathEscape(d.Name+"-履职档案-"+strconv.Itoa(year)+".xlsx"))
			_, err = doc.WriteTo(w)
			return err
		}
		if err := rep.WriteRecordHTML(&doc, rec); err != nil {
			return err
		}
		return h.serveDocument(w, r, rc, "html", "", doc.Bytes(), nil)
	}
}

// deputiesPage lists the deputies whose records the user may read.
func (h *Handler) deputiesPage(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	if rc.user.Role == lianxin.RoleDeputy {
		http.Redirect(w, r, "/console/deputies/"+url.PathEscape(rc.user.DeputyID)+"/record", http.StatusSeeOther)
		return nil
	}
	if err := rc.staffOnly(); err != nil {
		return err
	}
	p := deputiesView{Base: h.base(r, rc, "代表履职档案"), Year: h.cfg.Now().In(h.cfg.Location).Year()}
	for _, d := range rc.dir.Deputies {
		if rc.scope.All || slices.Contains(rc.scope.Units, d.StationID) {
			p.Deputies = append(p.Deputies, d)
		}
	}
	return h.render(w, "deputies", p)
}
