package report

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/lianxin/lianxin"
)

// ExportOptions say whose export it is and what it may show.
type ExportOptions struct {
	// Unmasked shows residents' full phone numbers. The caller has checked
	// that the user may see them; the export is then audited (Audit is
	// required) before a row is written. Anonymous reports stay masked.
	Unmasked bool
	Actor    string
	Audit    func(ctx context.Context, e lianxin.AuditEntry) error
}

// registerColumns are the register's columns with their widths (in Excel's
// character units; a Chinese character is about two).
var registerColumns = []struct {
	key   string
	width float64
}{
	{"register_col_number", 18}, {"register_col_created", 17}, {"register_col_source", 8}, {"register_col_category", 11},
	{"register_col_resident", 17}, {"register_col_phone", 14}, {"register_col_place", 26}, {"register_col_description", 50},
	{"register_col_station", 28}, {"register_col_deputy", 10}, {"register_col_departments", 24}, {"register_col_accepted", 17},
	{"register_col_resolved", 17}, {"register_col_result", 40}, {"register_col_rating", 10}, {"register_col_overdue", 9},
}

// registerLine is one row of the register, each column's value: a string,
// or a time for the date columns (nil when empty).
func (r *Reporter) registerLine(row *lianxin.RegisterRow, unmasked bool) []any {
	c := &row.Case
	resident, phone := r.txt("register_resident", "id", lianxin.MaskOpenID(c.OpenID)), lianxin.MaskPhone(c.Phone)
	switch {
	case c.Anonymous:
		resident, phone = r.txt("register_anonymous"), r.txt("register_anonymous")
	case c.ErasedAt != nil:
		resident, phone = r.txt("register_erased"), r.txt("register_erased")
	case unmasked:
		phone = c.Phone
	}
	if c.OpenID == "" && !c.Anonymous && c.ErasedAt == nil {
		resident = ""
	}
	var depts []string
	for _, f := range row.Forwarded {
		if d := r.department(f); d != "" && !contains(depts, d) {
			depts = append(depts, d)
		}
	}
	result := r.txt("status_" + string(c.Status))
	if c.Status == lianxin.StatusResolved {
		result = row.Result
		if result == "" {
			result = r.txt("register_resolved_plain")
		}
	}
	rating := ""
	switch {
	case row.Rating != "":
		rating = r.txt("rating_" + row.Rating)
	case c.Status == lianxin.StatusResolved:
		rating = r.txt("register_unrated")
	}
	overdue := r.txt("register_no")
	if row.Overdue {
		overdue = r.txt("register_yes")
	}
	return []any{c.Number, r.local(c.CreatedAt), row.Source, r.cfg.Categories.Name(c.CategoryKey), resident, phone,
		c.Location.String(), c.Description, r.unitName(c.StationID), r.deputyName(c.AssigneeID), strings.Join(depts, "、"),
		r.localPtr(row.AcceptedAt), r.localPtr(c.ResolvedAt), result, rating, overdue}
}

func (r *Reporter) localPtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return r.local(*t)
}

func contains(ss []string, s string) bool {
	for _, v := range ss {
		if v == s {
			return true
		}
	}
	return false
}

// Rows streams register lines to fn: the store's RegisterRows for a
// filter, or the console's list (store.DB.RegisterList) for its query.
type Rows func(ctx context.Context, fn func(*lianxin.RegisterRow) error) error

// auditExport records an unmasked export before anything is written.
func (r *Reporter) auditExport(ctx context.Context, subject, format string, o ExportOptions) error {
	if !o.Unmasked {
		return nil
	}
	if o.Audit == nil {
		return errors.New("report: an export with full phone numbers must be audited (ExportOptions.Audit)")
	}
	return o.Audit(ctx, lianxin.AuditEntry{Actor: o.Actor, Action: lianxin.AuditExportUnmasked, Subject: subject, Detail: format})
}

func (r *Reporter) filterRows(f lianxin.CaseFilter) (Rows, string) {
	filter, _ := json.Marshal(f)
	return func(ctx context.Context, fn func(*lianxin.RegisterRow) error) error {
		return r.cfg.Register.RegisterRows(ctx, f, fn)
	}, string(filter)
}

// WriteXLSX writes the register of the cases f selects as an Excel
// workbook: Chinese headers, the header row frozen, dates as Excel dates.
// Rows are streamed from the store to the sheet (excelize's StreamWriter,
// which spills to a temporary file), so memory stays bounded whatever the
// register's size. It returns the number of cases written.
func (r *Reporter) WriteXLSX(ctx context.Context, w io.Writer, f lianxin.CaseFilter, o ExportOptions) (n int, err error) {
	rows, subject := r.filterRows(f)
	return r.WriteRowsXLSX(ctx, w, rows, subject, o)
}

// WriteRowsXLSX is WriteXLSX of the lines rows streams; subject says in
// the audit log what was exported (when unmasked).
func (r *Reporter) WriteRowsXLSX(ctx context.Context, w io.Writer, rows Rows, subject string, o ExportOptions) (n int, err error) {
	if err := r.auditExport(ctx, subject, "xlsx", o); err != nil {
		return 0, err
	}
	x := excelize.NewFile()
	defer x.Close()
	sheet := r.txt("register_sheet")
	if err := x.SetSheetName("Sheet1", sheet); err != nil {
		return 0, err
	}
	sw, err := x.NewStreamWriter(sheet)
	if err != nil {
		return 0, err
	}
	header, err := x.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true},
		Fill:      excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"E8EEF4"}},
		Alignment: &excelize.Alignment{Vertical: "center"},
		Border:    []excelize.Border{{Type: "bottom", Color: "808080", Style: 1}}})
	if err != nil {
		return 0, err
	}
	date, err := x.NewStyle(&excelize.Style{CustomNumFmt: ptr("yyyy-mm-dd hh:mm")})
	if err != nil {
		return 0, err
	}
	for i, col := range registerColumns {
		if err := sw.SetColWidth(i+1, i+1, col.width); err != nil {
			return 0, err
		}
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return 0, err
	}
	cells := make([]any, len(registerColumns))
	for i, col := range registerColumns {
		cells[i] = excelize.Cell{StyleID: header, Value: r.txt(col.key)}
	}
	if err := sw.SetRow("A1", cells, excelize.RowOpts{Height: 20}); err != nil {
		return 0, err
	}
	err = rows(ctx, func(row *lianxin.RegisterRow) error {
		line := r.registerLine(row, o.Unmasked)
		for i, v := range line {
			switch t := v.(type) {
			case time.Time:
				// Excel dates have no zone: the station's wall clock.
				cells[i] = excelize.Cell{StyleID: date, Value: time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), 0, time.UTC)}
			default:
				cells[i] = v
			}
		}
		n++
		cell, err := excelize.CoordinatesToCellName(1, n+1)
		if err != nil {
			return err
		}
		return sw.SetRow(cell, cells)
	})
	if err != nil {
		return 0, err
	}
	if err := sw.Flush(); err != nil {
		return 0, err
	}
	return n, x.Write(w)
}

func ptr[T any](v T) *T { return &v }

// WriteCSV writes the register of the cases f selects as CSV: UTF-8 with a
// byte-order mark, so Excel opens the Chinese right, dates as
// 2006-01-02 15:04 in the stations' time zone.
func (r *Reporter) WriteCSV(ctx context.Context, w io.Writer, f lianxin.CaseFilter, o ExportOptions) (n int, err error) {
	rows, subject := r.filterRows(f)
	return r.WriteRowsCSV(ctx, w, rows, subject, o)
}

// WriteRowsCSV is WriteCSV of the lines rows streams.
func (r *Reporter) WriteRowsCSV(ctx context.Context, w io.Writer, rows Rows, subject string, o ExportOptions) (n int, err error) {
	if err := r.auditExport(ctx, subject, "csv", o); err != nil {
		return 0, err
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	if _, err := bw.WriteString("\uFEFF"); err != nil {
		return 0, err
	}
	cw := csv.NewWriter(bw)
	cw.UseCRLF = true // what Excel writes and expects
	rec := make([]string, len(registerColumns))
	for i, col := range registerColumns {
		rec[i] = r.txt(col.key)
	}
	if err := cw.Write(rec); err != nil {
		return 0, err
	}
	err = rows(ctx, func(row *lianxin.RegisterRow) error {
		for i, v := range r.registerLine(row, o.Unmasked) {
			switch t := v.(type) {
			case time.Time:
				rec[i] = t.Format("2006-01-02 15:04")
			case nil:
				rec[i] = ""
			case string:
				rec[i] = csvSafe(t)
			default:
				rec[i] = fmt.Sprint(t)
			}
		}
		n++
		return cw.Write(rec)
	})
	if err != nil {
		return 0, err
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return 0, err
	}
	return n, bw.Flush()
}

// csvSafe keeps a resident's text from being read as a formula when the
// file is opened in a spreadsheet (CSV injection): a leading = + - @ gets a
// quote mark, as Excel itself does for text.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
