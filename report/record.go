package report

import (
	"context"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/lianxin/lianxin"
)

// DeputyRecord is a deputy's record of a year (履职档案), generated from the
// timeline: what they did is what they recorded doing, in chat or in the
// console, with no second bookkeeping.
type DeputyRecord struct {
	Deputy      lianxin.Deputy
	StationName string
	Year        int
	From, To    time.Time
	At          time.Time // judged as things stood then: the year's end, or now
	// Taken: cases they took up, answered, forwarded or resolved.
	Taken int
	// OnTheSpot: cases they resolved without forwarding them (当场解答).
	OnTheSpot int
	// Answered: cases they answered the resident on (答复).
	Answered int
	// Forwarded: cases they forwarded (转办), and to whom.
	Forwarded     int
	ForwardedTo   []Count
	Resolved      int
	ResolvedRate  Rate // resolved on time among those they resolved
	ResponseRate  Rate // taken up within the accept deadline among those taken
	Ratings       []Count
	Rated         int
	SatisfiedRate Rate // 满意 or 基本满意 among the rated
	// ReceptionDays are the days the directory has them on reception duty
	// (接待日), up to At: the schedule, not a sign-in sheet.
	ReceptionDays []time.Time
	// Opinions are the consultation opinions (立法征询意见) they gathered:
	// sent from their WeChat, or recorded by staff as theirs.
	Opinions int
	ByMonth  []Count // cases taken, per month
	Cases    []RecordCase
}

// Count is a labelled number.
type Count struct {
	Label string
	N     int
}

// RecordCase is a case in a deputy's record.
type RecordCase struct {
	lianxin.DeputyCaseFacts
	CategoryName, StationName string
	Departments               []string
	RatingLabel               string
	CreatedLocal              time.Time
}

// Record builds a deputy's record of a year.
func (r *Reporter) Record(ctx context.Context, deputyID string, year int) (*DeputyRecord, error) {
	d, ok := r.cfg.Directory.Deputy(deputyID)
	if !ok {
		return nil, lianxin.Errorf(lianxin.ENOTFOUND, "no deputy %q", deputyID)
	}
	if year < 2000 || year > 2200 {
		return nil, lianxin.Errorf(lianxin.EINVALID, "year %d is out of range", year)
	}
	loc := r.cfg.Location
	rec := &DeputyRecord{Deputy: d, StationName: r.unitName(d.StationID), Year: year,
		From: time.Date(year, 1, 1, 0, 0, 0, 0, loc), To: time.Date(year+1, 1, 1, 0, 0, 0, 0, loc)}
	rec.At = rec.To
	if now := r.now(); now.Before(rec.At) {
		rec.At = now
	}
	fwd := map[string]int{}
	ratings := map[string]int{}
	months := make([]int, 12)
	var onTime, taken, acceptedOnTime, satisfied int
	err := r.cfg.Register.DeputyFacts(ctx, deputyID, rec.From, rec.To, func(f *lianxin.DeputyCaseFacts) error {
		rc := RecordCase{DeputyCaseFacts: *f, CategoryName: r.cfg.Categories.Name(f.Category), StationName: r.unitName(f.StationID),
			CreatedLocal: r.local(f.CreatedAt)}
		for _, e := range f.Forwarded {
			if dep := r.department(e); dep != "" && !contains(rc.Departments, dep) {
				rc.Departments = append(rc.Departments, dep)
				fwd[dep]++
			}
		}
		if f.Took {
			taken++
			if f.AcceptedOnTime {
				acceptedOnTime++
			}
		}
		if len(f.Forwarded) > 0 {
			rec.Forwarded++
		}
		if f.Answered {
			rec.Answered++
		}
		if f.Resolved {
			rec.Resolved++
			if f.ResolvedOnTime {
				onTime++
			}
			if !f.EverForwarded {
				rec.OnTheSpot++
			}
			if f.Rating != "" {
				rec.Rated++
				ratings[f.Rating]++
				if f.Rating == lianxin.Satisfied || f.Rating == lianxin.FairlySatisfied {
					satisfied++
				}
				rc.RatingLabel = r.txt("rating_" + f.Rating)
			}
		}
		months[r.local(f.CreatedAt).Month()-1]++
		rec.Cases = append(rec.Cases, rc)
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.SliceStable(rec.Cases, func(i, j int) bool { return rec.Cases[i].CreatedAt.Before(rec.Cases[j].CreatedAt) })
	rec.Taken = taken
	rec.ResolvedRate = rate(float64(onTime), rec.Resolved)
	rec.ResponseRate = rate(float64(acceptedOnTime), taken)
	rec.SatisfiedRate = rate(float64(satisfied), rec.Rated)
	for dep, n := range fwd {
		rec.ForwardedTo = append(rec.ForwardedTo, Count{dep, n})
	}
	sort.Slice(rec.ForwardedTo, func(i, j int) bool {
		a, b := rec.ForwardedTo[i], rec.ForwardedTo[j]
		return a.N > b.N || a.N == b.N && a.Label < b.Label
	})
	for _, k := range []string{lianxin.Satisfied, lianxin.FairlySatisfied, lianxin.Unsatisfied} {
		rec.Ratings = append(rec.Ratings, Count{r.txt("rating_" + k), ratings[k]})
	}
	for i, n := range months {
		if time.Date(year, time.Month(i+1), 1, 0, 0, 0, 0, loc).Before(rec.At) {
			rec.ByMonth = append(rec.ByMonth, Count{fmt.Sprintf("%d", i+1), n})
		}
	}
	rec.ReceptionDays = r.cfg.Directory.DutyDays(deputyID, rec.From, rec.At, loc)
	if oc, ok := r.cfg.Register.(OpinionCounter); ok {
		if rec.Opinions, err = oc.OpinionsGathered(ctx, deputyID, rec.From, rec.At); err != nil {
			return nil, err
		}
	}
	return rec, nil
}

// WriteRecordHTML writes the record as a printable document for 述职.
func (r *Reporter) WriteRecordHTML(w io.Writer, rec *DeputyRecord) error {
	return r.render(w, "record.html", map[string]any{"R": rec})
}

// WriteRecordXLSX writes the record as an Excel workbook: a summary sheet
// and the list of cases. Its words are in templates/record_sheet.yaml.
func (r *Reporter) WriteRecordXLSX(w io.Writer, rec *DeputyRecord) error {
	x := excelize.NewFile()
	defer x.Close()
	labels := recordSheetLabels
	if err := x.SetSheetName("Sheet1", labels.Summary); err != nil {
		return err
	}
	bold, err := x.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return err
	}
	title, err := x.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true, Size: 14}})
	if err != nil {
		return err
	}
	pct, err := x.NewStyle(&excelize.Style{NumFmt: 10})
	if err != nil {
		return err
	}
	date, err := x.NewStyle(&excelize.Style{CustomNumFmt: ptr("yyyy-mm-dd")})
	if err != nil {
		return err
	}
	s := labels.Summary
	set := func(cell string, v any, style int) error {
		if err := x.SetCellValue(s, cell, v); err != nil {
			return err
		}
		if style != 0 {
			return x.SetCellStyle(s, cell, cell, style)
		}
		return nil
	}
	if err := set("A1", fmt.Sprintf(labels.Title, rec.Deputy.Name, rec.Year), title); err != nil {
		return err
	}
	rows := [][2]any{
		{labels.Deputy, rec.Deputy.Name + "（" + rec.Deputy.Level + "）"},
		{labels.Station, rec.StationName},
		{labels.Period, fmt.Sprintf("%s — %s", rec.From.Format("2006-01-02"), rec.At.Add(-time.Second).In(r.cfg.Location).Format("2006-01-02"))},
		{labels.Taken, rec.Taken},
		{labels.OnTheSpot, rec.OnTheSpot},
		{labels.Answered, rec.Answered},
		{labels.Forwarded, rec.Forwarded},
		{labels.Resolved, rec.Resolved},
		{labels.OnTime, rateCell(rec.ResolvedRate)},
		{labels.Response, rateCell(rec.ResponseRate)},
		{labels.Rated, rec.Rated},
		{labels.Satisfied, rateCell(rec.SatisfiedRate)},
		{labels.Reception, len(rec.ReceptionDays)},
		{labels.Opinions, rec.Opinions},
	}
	for i, row := range rows {
		n := i + 3
		if err := set(fmt.Sprintf("A%d", n), row[0], bold); err != nil {
			return err
		}
		style := 0
		if _, ok := row[1].(float64); ok {
			style = pct
		}
		if err := set(fmt.Sprintf("B%d", n), row[1], style); err != nil {
			return err
		}
	}
	n := len(rows) + 4
	if err := set(fmt.Sprintf("A%d", n), labels.ForwardedTo, bold); err != nil {
		return err
	}
	for _, c := range rec.ForwardedTo {
		n++
		if err := set(fmt.Sprintf("A%d", n), c.Label, 0); err != nil {
			return err
		}
		if err := set(fmt.Sprintf("B%d", n), c.N, 0); err != nil {
			return err
		}
	}
	n += 2
	if err := set(fmt.Sprintf("A%d", n), labels.Ratings, bold); err != nil {
		return err
	}
	for _, c := range rec.Ratings {
		n++
		if err := set(fmt.Sprintf("A%d", n), c.Label, 0); err != nil {
			return err
		}
		if err := set(fmt.Sprintf("B%d", n), c.N, 0); err != nil {
			return err
		}
	}
	if err := x.SetColWidth(s, "A", "A", 30); err != nil {
		return err
	}
	if err := x.SetColWidth(s, "B", "B", 36); err != nil {
		return err
	}
	// The cases.
	cs := labels.Cases
	if _, err := x.NewSheet(cs); err != nil {
		return err
	}
	for i, h := range labels.CaseCols {
		cell, _ := excelize.CoordinatesToCellName(i+1, 1)
		if err := x.SetCellValue(cs, cell, h); err != nil {
			return err
		}
	}
	if err := x.SetRowStyle(cs, 1, 1, bold); err != nil {
		return err
	}
	yes := func(b bool) string {
		if b {
			return labels.Yes
		}
		return ""
	}
	for i, c := range rec.Cases {
		row := i + 2
		t := c.CreatedLocal
		vals := []any{c.Number, time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC), c.CategoryName, c.StationName,
			yes(c.Took), yes(c.Answered), joinZh(c.Departments), yes(c.Resolved), yes(c.Resolved && c.ResolvedOnTime), c.RatingLabel}
		for j, v := range vals {
			cell, _ := excelize.CoordinatesToCellName(j+1, row)
			if err := x.SetCellValue(cs, cell, v); err != nil {
				return err
			}
		}
		if err := x.SetCellStyle(cs, fmt.Sprintf("B%d", row), fmt.Sprintf("B%d", row), date); err != nil {
			return err
		}
	}
	for i, wdt := range []float64{18, 12, 12, 28, 8, 8, 28, 8, 10, 10} {
		col, _ := excelize.ColumnNumberToName(i + 1)
		if err := x.SetColWidth(cs, col, col, wdt); err != nil {
			return err
		}
	}
	if err := x.SetPanes(cs, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	return x.Write(w)
}

func rateCell(r Rate) any {
	if !r.OK {
		return "—"
	}
	return r.Value
}

func joinZh(ss []string) string {
	out := ""
	for i, s := range ss {
		if i > 0 {
			out += "、"
		}
		out += s
	}
	return out
}
