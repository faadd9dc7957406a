package report_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/lianxin/lianxin"
	"github.com/lianxin/lianxin/internal/registertest"
	"github.com/lianxin/lianxin/report"
)

var header = []string{"编号", "登记时间", "来源", "类别", "反映人", "联系电话", "地点", "内容", "联络站/联络点", "承办代表",
	"转办部门", "受理时间", "办结时间", "办理结果", "满意度", "是否超期"}

// The sheet has exactly the cases the list shows for the same filter, with
// masked phones, and reads as a register in Excel.
func TestExportXLSXEqualsTheFilteredList(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	filters := map[string]lianxin.CaseFilter{
		"October at 平潭街 with its points": {From: october().From, To: october().To, Units: f.dir.Units("pingtanjie")},
		"everything":                     {},
		"open at the end of October":     {From: october().From, To: october().To, Measure: lianxin.MeasureOpen},
		"heating, resolved":              {Category: "heating", Status: []lianxin.Status{lianxin.StatusResolved}},
	}
	for name, filter := range filters {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			n, err := f.rep.WriteXLSX(ctx, &buf, filter, report.ExportOptions{})
			if err != nil {
				t.Fatal(err)
			}
			list, err := f.db.Cases(ctx, filter)
			if err != nil {
				t.Fatal(err)
			}
			x, err := excelize.OpenReader(&buf)
			if err != nil {
				t.Fatal(err)
			}
			defer x.Close()
			rows, err := x.GetRows("登记簿")
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(rows[0], header) {
				t.Fatalf("header = %q", rows[0])
			}
			var sheet, want []string
			for _, r := range rows[1:] {
				sheet = append(sheet, r[0])
			}
			for _, c := range list {
				want = append(want, c.Number)
			}
			slices.Sort(sheet)
			slices.Sort(want)
			if n != len(list) || !slices.Equal(sheet, want) {
				t.Fatalf("sheet has %d rows %v, the list %v", n, sheet, want)
			}
			if len(list) == 0 {
				t.Fatal("the filter selects nothing: a vacuous check")
			}
			byNumber := map[string]lianxin.Case{}
			for _, c := range list {
				byNumber[c.Number] = c
			}
			for i, r := range rows[1:] {
				c := byNumber[r[0]]
				phone := r[5]
				switch {
				case c.Anonymous:
					if phone != "匿名" || r[4] != "匿名" {
						t.Errorf("%s is anonymous, shown as %q %q", c.Number, r[4], phone)
					}
				case phone != lianxin.MaskPhone(c.Phone) || strings.Contains(phone, c.Phone[3:7]):
					t.Errorf("%s phone %q, want masked %q", c.Number, phone, lianxin.MaskPhone(c.Phone))
				}
				// Dates are dates: a number with a date format, in Beijing time.
				cell, _ := excelize.CoordinatesToCellName(2, i+2)
				typ, _ := x.GetCellType("登记簿", cell)
				raw, _ := x.GetCellValue("登记簿", cell, excelize.Options{RawCellValue: true})
				if typ == excelize.CellTypeSharedString || typ == excelize.CellTypeInlineString || strings.Contains(raw, "-") {
					t.Errorf("%s 登记时间 is text %q", cell, raw)
				}
				if want := c.CreatedAt.In(registertest.CST).Format("2006-01-02 15:04"); r[1] != want {
					t.Errorf("%s 登记时间 shows %q, want %q", c.Number, r[1], want)
				}
			}
			panes, err := x.GetPanes("登记簿")
			if err != nil || !panes.Freeze || panes.YSplit != 1 {
				t.Errorf("header row not frozen: %+v %v", panes, err)
			}
			if w, _ := x.GetColWidth("登记簿", "H"); w < 30 {
				t.Errorf("内容 is %v wide", w)
			}
		})
	}
}

func TestExportRowSaysWhatHappened(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	var buf bytes.Buffer
	filter := lianxin.CaseFilter{From: october().From, To: october().To, Units: []string{"dongyaofang"}}
	if _, err := f.rep.WriteCSV(ctx, &buf, filter, report.ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(buf.Bytes(), []byte("\xEF\xBB\xBF")) {
		t.Fatal("CSV without a UTF-8 byte-order mark: Excel would read the Chinese as mojibake")
	}
	recs, err := csv.NewReader(bytes.NewReader(buf.Bytes()[3:])).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || !slices.Equal(recs[0], header) {
		t.Fatalf("CSV = %q", recs)
	}
	c := recs[1] // C: forwarded, resolved late, reopened, resolved again, 满意; anonymous
	want := map[int]string{0: f.cases["C"].Number, 1: "2026-10-10 09:00", 2: "微信", 3: "环境卫生", 4: "匿名", 5: "匿名",
		8: "东窑房社区人大代表联络点", 9: "褚示范", 10: "环境卫生服务中心", 11: "2026-10-20 11:00", 12: "2026-10-22 09:00",
		13: "已清运并增设垃圾箱，环卫每日清运", 14: "满意", 15: "是"}
	for i, v := range want {
		if c[i] != v {
			t.Errorf("%s = %q, want %q", header[i], c[i], v)
		}
	}
}

func TestFullExportIsAuditedAndStillMasksTheAnonymous(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	filter := lianxin.CaseFilter{From: october().From, To: october().To, Units: f.dir.Units("pingtanjie")}
	if _, err := f.rep.WriteCSV(ctx, &bytes.Buffer{}, filter, report.ExportOptions{Unmasked: true}); err == nil {
		t.Fatal("an unaudited full export was written")
	}
	var entries []lianxin.AuditEntry
	refuse := errors.New("audit log unavailable")
	_, err := f.rep.WriteCSV(ctx, &bytes.Buffer{}, filter, report.ExportOptions{Unmasked: true, Actor: "cli:clerk",
		Audit: func(context.Context, lianxin.AuditEntry) error { return refuse }})
	if !errors.Is(err, refuse) {
		t.Fatalf("export went ahead without its audit entry: %v", err)
	}
	var buf bytes.Buffer
	_, err = f.rep.WriteCSV(ctx, &buf, filter, report.ExportOptions{Unmasked: true, Actor: "cli:clerk",
		Audit: func(ctx context.Context, e lianxin.AuditEntry) error {
			entries = append(entries, e)
			return f.db.Audit(ctx, e)
		}})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Action != lianxin.AuditExportUnmasked || entries[0].Actor != "cli:clerk" || !strings.Contains(entries[0].Subject, "pingtanjie") {
		t.Fatalf("audit = %+v", entries)
	}
	log, err := f.db.AuditLog(ctx, lianxin.AuditFilter{Limit: 500})
	if err != nil || len(log) != 1 {
		t.Fatalf("stored audit = %+v, %v", log, err)
	}
	out := buf.String()
	if !strings.Contains(out, f.cases["B"].Phone) || strings.Contains(out, f.cases["C"].Phone) {
		t.Errorf("full export: B's phone should show, anonymous C's must not:\n%s", out)
	}
}

func TestErasedContactStaysErasedInTheRegister(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	b := f.cases["B"]
	if _, err := f.db.EraseContact(ctx, b.Number, lianxin.AuditEntry{Actor: "cli:clerk", Detail: "resident asked"}); err != nil {
		t.Fatal(err)
	}
	c, err := f.db.Case(ctx, b.Number)
	if err != nil {
		t.Fatal(err)
	}
	if c.Phone != "" || c.OpenID != "" || c.ErasedAt == nil || c.Events[len(c.Events)-1].Type != lianxin.EventErased {
		t.Fatalf("after erasure: phone %q openid %q erased %v last event %+v", c.Phone, c.OpenID, c.ErasedAt, c.Events[len(c.Events)-1])
	}
	var buf bytes.Buffer
	if _, err := f.rep.WriteCSV(ctx, &buf, lianxin.CaseFilter{Category: "heating"}, report.ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(buf.String(), "\n") {
		if strings.HasPrefix(line, b.Number) && !strings.Contains(line, "已删除,已删除") {
			t.Errorf("erased case exported as %q", line)
		}
	}
	// The numbers do not change.
	s, err := f.rep.StatsFor(ctx, october(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if s.Total.N(lianxin.MeasureHandled) != 8 || s.Total.N(lianxin.MeasureRated) != 4 {
		t.Errorf("erasure changed the figures: %+v", s.Total.Figures)
	}
}

// A resident's text that starts like a formula stays text when the CSV is
// opened in a spreadsheet.
func TestCSVKeepsFormulasAsText(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	cat, _ := lianxin.Categories{{Key: "other", Name: "其他", AcceptHours: 48, ResolveDays: 15}}.ByKey("other")
	c, _, err := f.db.CreateCase(ctx, lianxin.CaseNumbering{Prefix: "KQ", Location: registertest.CST},
		lianxin.Report{OpenID: "oFormula", Category: cat, Description: "=HYPERLINK(\"http://x\",\"点我\")", StationID: "saiyu"}, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := f.rep.WriteCSV(ctx, &buf, lianxin.CaseFilter{Units: []string{"saiyu"}, Category: "other"}, report.ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(buf.Bytes()[3:])).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range recs[1:] {
		if r[0] == c.Number {
			found = true
			if r[7] != "'"+c.Description {
				t.Errorf("内容 = %q", r[7])
			}
		}
	}
	if !found {
		t.Fatalf("%s not exported: %q", c.Number, recs)
	}
}
