package service_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/lianxin/lianxin"
	"github.com/lianxin/lianxin/internal/registertest"
	"github.com/lianxin/lianxin/internal/servicetest"
	"github.com/lianxin/lianxin/internal/testenv"
	"github.com/lianxin/lianxin/store"
)

// registerFixture is a running service on the October register
// (internal/registertest, the hand-computed table in report/stats_test.go)
// on 5 November 2026, with an account for each role: the admin, 平潭街's
// clerk (平潭街, 水滩, 东窑房: cases A B C E G), 郑示范 (d-st-02: A B G)
// and 褚示范 (d-dyf-02: C, whose resident asked to stay anonymous).
type registerFixture struct {
	*servicetest.Running
	cases                        map[string]*lianxin.Case
	admin, clerk, deputy, anonDp *http.Client
}

func newRegisterFixture(t *testing.T) *registerFixture {
	t.Helper()
	clock := testenv.NewClock(registertest.At(11, 5, 12, 0))
	s := startService(t, testConfig(t), clock)
	// Seeded through a second handle on the register, as another process
	// would: the script sets its handle's clock for each step, which the
	// running service's background loops must not see.
	seed, err := store.Open(context.Background(), s.Cfg.DBPath)
	if err != nil {
		t.Fatal(err)
	}
	cases, err := registertest.October(context.Background(), seed)
	seed.Close()
	if err != nil {
		t.Fatal(err)
	}
	f := &registerFixture{Running: s, cases: cases}
	s.AddUser(t, "admin", lianxin.RoleAdmin, "", "", testPassword)
	s.AddUser(t, "pt-clerk", lianxin.RoleStaff, "pingtanjie", "", testPassword)
	s.AddUser(t, "zheng", lianxin.RoleDeputy, "", "d-st-02", testPassword)
	s.AddUser(t, "chu", lianxin.RoleDeputy, "", "d-dyf-02", testPassword)
	f.admin = s.Login(t, "admin", testPassword)
	f.clerk = s.Login(t, "pt-clerk", testPassword)
	f.deputy = s.Login(t, "zheng", testPassword)
	f.anonDp = s.Login(t, "chu", testPassword)
	return f
}

func (f *registerFixture) numbers(names ...string) []string {
	var out []string
	for _, n := range names {
		out = append(out, f.cases[n].Number)
	}
	slices.Sort(out)
	return out
}

var (
	listRowRE   = regexp.MustCompile(`<td><a href="/console/cases/(KQ[0-9-]+)">`)
	listTotalRE = regexp.MustCompile(`<small>共 (\d+) 件</small>`)
)

// list is the case numbers a list page shows (in its order) and its total.
func (f *registerFixture) list(t *testing.T, b *http.Client, path string) ([]string, int) {
	t.Helper()
	code, page := f.Get(t, b, path)
	if code != 200 {
		t.Fatalf("GET %s: HTTP %d\n%s", path, code, page)
	}
	var out []string
	for _, m := range listRowRE.FindAllStringSubmatch(page, -1) {
		out = append(out, m[1])
	}
	m := listTotalRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("GET %s: no total\n%s", path, page)
	}
	n, _ := strconv.Atoi(m[1])
	return out, n
}

func (f *registerFixture) download(t *testing.T, b *http.Client, path string) (int, []byte) {
	t.Helper()
	resp, err := b.Get(f.Server.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, data
}

// sheet is an exported register's rows under the header.
func sheet(t *testing.T, data []byte) [][]string {
	t.Helper()
	x, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("not a workbook: %v", err)
	}
	defer x.Close()
	rows, err := x.GetRows(x.GetSheetName(0))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 || rows[0][0] != "编号" || rows[0][5] != "联系电话" {
		t.Fatalf("header %v", rows)
	}
	return rows[1:]
}

func column(rows [][]string, i int) []string {
	var out []string
	for _, r := range rows {
		out = append(out, r[i])
	}
	return out
}

// TestConsoleExportIsTheList is the must-show: the console's
// export of a filtered list has exactly the list's cases, in its order,
// phones masked (anonymous reports say 匿名); the CSV is the same; full
// phones are for staff and audited; a deputy's and a clerk's exports stay
// within their scope whatever the filters ask.
func TestConsoleExportIsTheList(t *testing.T) {
	f := newRegisterFixture(t)
	for _, tc := range []struct {
		who   string
		b     *http.Client
		query string
		want  []string
	}{
		{"clerk", f.clerk, "month=2026-10", f.numbers("B", "C", "E")},
		{"clerk", f.clerk, "", f.numbers("A", "B", "C", "E", "G")},
		{"admin", f.admin, "month=2026-10&category=roads", f.numbers("J", "K")},
		{"admin", f.admin, "measure=overdue&month=2026-10", f.numbers("A", "C", "D", "I")},
		{"admin", f.admin, "station=saiyu&status=resolved", f.numbers("K")},
		{"deputy", f.deputy, "", f.numbers("A", "B", "G")},
		// Outside the scope: nothing, not an error.
		{"deputy", f.deputy, "station=saiyu", nil},
		{"clerk", f.clerk, "station=saiyu", nil},
	} {
		numbers, total := f.list(t, tc.b, "/console/cases?"+tc.query)
		got := slices.Sorted(slices.Values(numbers))
		if !slices.Equal(got, tc.want) || total != len(tc.want) {
			t.Errorf("%s list ?%s = %v (total %d), want %v", tc.who, tc.query, got, total, tc.want)
		}
		code, data := f.download(t, tc.b, "/console/cases.xlsx?"+tc.query)
		if code != 200 {
			t.Fatalf("%s export ?%s: HTTP %d %s", tc.who, tc.query, code, data)
		}
		rows := sheet(t, data)
		if sheetNumbers := column(rows, 0); !slices.Equal(sheetNumbers, numbers) {
			t.Errorf("%s ?%s: the sheet has %v, the list %v", tc.who, tc.query, sheetNumbers, numbers)
		}
		for _, r := range rows {
			if phone := r[5]; phone != "匿名" && !regexp.MustCompile(`^1\d\d\*{4}\d{4}$`).MatchString(phone) {
				t.Errorf("%s ?%s: %s's phone reads %q, want masked", tc.who, tc.query, r[0], phone)
			}
			if r[0] == f.cases["C"].Number && (r[4] != "匿名" || r[5] != "匿名") {
				t.Errorf("anonymous C exported as %q %q", r[4], r[5])
			}
		}
		code, data = f.download(t, tc.b, "/console/cases.csv?"+tc.query)
		recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte("\uFEFF")))).ReadAll()
		if code != 200 || err != nil {
			t.Fatalf("%s CSV ?%s: HTTP %d %v", tc.who, tc.query, code, err)
		}
		if csvNumbers := column(recs[1:], 0); !slices.Equal(csvNumbers, numbers) {
			t.Errorf("%s ?%s: the CSV has %v, the list %v", tc.who, tc.query, csvNumbers, numbers)
		}
	}

	// The list links its exports with its filters.
	_, page := f.Get(t, f.clerk, "/console/cases?month=2026-10&category=sanitation")
	mustContain(t, html.UnescapeString(page), `/console/cases.xlsx?category=sanitation&month=2026-10">导出Excel`,
		`/console/cases.csv?category=sanitation&month=2026-10">导出CSV`)

	// Full phones: staff only, and audited before the file is written.
	if code, _ := f.download(t, f.deputy, "/console/cases.xlsx?phones=full"); code != http.StatusForbidden {
		t.Errorf("a deputy's full-phone export: HTTP %d, want 403", code)
	}
	code, data := f.download(t, f.clerk, "/console/cases.xlsx?month=2026-10&phones=full")
	if code != 200 {
		t.Fatalf("full export: HTTP %d", code)
	}
	rows := sheet(t, data)
	for _, r := range rows {
		if want := f.cases["B"].Phone; r[0] == f.cases["B"].Number && r[5] != want {
			t.Errorf("full export: B's phone %q, want %q", r[5], want)
		}
		if r[0] == f.cases["C"].Number && r[5] != "匿名" {
			t.Errorf("full export shows anonymous C's phone %q", r[5])
		}
	}
	entries, err := f.DB.AuditLog(context.Background(), lianxin.AuditFilter{Action: lianxin.AuditExportUnmasked})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Actor != "user:pt-clerk" || !strings.Contains(entries[0].Subject, "month=2026-10") {
		t.Errorf("audit of the full export: %+v", entries)
	}
	if code, _ := f.download(t, f.clerk, "/console/cases.xlsx?measure=nonsense"); code != http.StatusBadRequest {
		t.Errorf("an unknown measure: HTTP %d, want 400", code)
	}
	// Signed out: the sign-in page, for every register page.
	for _, path := range []string{"/console/cases.xlsx", "/console/cases.csv", "/console/stats", "/console/reports/monthly",
		"/console/reports/monthly.pdf", "/console/deputies", "/console/deputies/d-st-02/record", "/console/deputies/d-st-02/record.xlsx"} {
		code, _ := f.Get(t, f.Browser(t), path)
		if code != http.StatusSeeOther {
			t.Errorf("GET %s signed out: HTTP %d, want 303 to the sign-in page", path, code)
		}
	}
}

var figureLinkRE = regexp.MustCompile(`<a href="(/console/cases\?[^"]+)">(\d+)</a>`)

// TestConsoleStatsFiguresListTheirCases: on the numbers page every figure
// is a link to the case list it counts, for each role's scope, and the
// list has exactly that many cases; the October totals are the hand table's.
func TestConsoleStatsFiguresListTheirCases(t *testing.T) {
	f := newRegisterFixture(t)
	for _, tc := range []struct {
		who   string
		b     *http.Client
		query string
		want  map[string]int // some figures by their link's measure, in the summary
	}{
		{"admin", f.admin, "month=2026-10", map[string]int{"received": 7, "handled": 8, "resolved": 4, "overdue": 4, "open": 3}},
		{"clerk", f.clerk, "month=2026-10", map[string]int{"received": 3, "handled": 4, "resolved": 3}},
		{"deputy", f.deputy, "month=2026-10", map[string]int{"handled": 2, "resolved": 2}},
		{"admin", f.admin, "month=2026-10&station=saiyu&source=wechat", map[string]int{"received": 3}},
		{"admin", f.admin, "month=all", nil},
	} {
		code, page := f.Get(t, tc.b, "/console/stats?"+tc.query)
		if code != 200 {
			t.Fatalf("%s stats ?%s: HTTP %d\n%s", tc.who, tc.query, code, page)
		}
		mustContain(t, page, "响应率", "按时受理件数 ÷ 应受理件数", "满意率", "<svg", "月度趋势", "反映分布")
		links := figureLinkRE.FindAllStringSubmatch(page, -1)
		if len(links) < 20 {
			t.Fatalf("%s ?%s: only %d figure links", tc.who, tc.query, len(links))
		}
		summary := page[strings.Index(page, `id="summary"`):]
		for m, n := range tc.want {
			re := regexp.MustCompile(`<a href="/console/cases\?[^"]*measure=` + m + `[^"]*">(\d+)</a>`)
			if got := re.FindStringSubmatch(summary); got == nil || got[1] != strconv.Itoa(n) {
				t.Errorf("%s ?%s: %s figure %v, want %d", tc.who, tc.query, m, got, n)
			}
		}
		seen := map[string]bool{}
		for _, l := range links {
			link := html.UnescapeString(l[1])
			if seen[link] {
				continue
			}
			seen[link] = true
			want, _ := strconv.Atoi(l[2])
			numbers, total := f.list(t, tc.b, link)
			if total != want || len(numbers) != min(want, 50) {
				t.Errorf("%s ?%s: figure %d links to %s, which lists %d (%d rows)", tc.who, tc.query, want, link, total, len(numbers))
			}
		}
	}
	// The resolved figure of October is exactly A B C K.
	_, page := f.Get(t, f.admin, "/console/stats?month=2026-10")
	m := regexp.MustCompile(`<a href="(/console/cases\?[^"]*measure=resolved[^"]*)">4</a>`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no resolved figure of 4")
	}
	numbers, _ := f.list(t, f.admin, html.UnescapeString(m[1]))
	if got := slices.Sorted(slices.Values(numbers)); !slices.Equal(got, f.numbers("A", "B", "C", "K")) {
		t.Errorf("resolved in October lists %v", got)
	}
}

// TestConsoleMonthlyReport: staff read their station's monthly report,
// choose a typical case (audited) that the printable report then tells,
// and get a PDF, or are told plainly why not; a deputy has no monthly
// report, and a clerk no other station's.
func TestConsoleMonthlyReport(t *testing.T) {
	f := newRegisterFixture(t)
	code, page := f.Get(t, f.clerk, "/console/reports/monthly?month=2026-10")
	if code != 200 {
		t.Fatalf("monthly page: HTTP %d\n%s", code, page)
	}
	mustContain(t, page, "月度报告", "平潭街", "典型案例", f.cases["B"].Number, "选为典型案例", "超期件")
	if code, _ := f.Get(t, f.clerk, "/console/reports/monthly?month=2026-10&station=saiyu"); code != http.StatusNotFound {
		t.Errorf("a clerk's report of another station: HTTP %d, want 404", code)
	}
	if code, _ := f.Get(t, f.deputy, "/console/reports/monthly?month=2026-10"); code != http.StatusForbidden {
		t.Errorf("a deputy's monthly report: HTTP %d, want 403", code)
	}
	b := f.cases["B"].Number
	code, loc, _ := f.Post(t, f.clerk, "/console/reports/monthly/typical", url.Values{"case": {b}, "on": {"1"},
		"note": {"代表当场解答、当天办结。"}, "back": {"/console/reports/monthly?month=2026-10&station=pingtanjie"}})
	if code != http.StatusSeeOther || !strings.HasPrefix(loc, "/console/reports/monthly?") {
		t.Fatalf("choosing a typical case: HTTP %d to %q", code, loc)
	}
	if code, _, _ := f.Post(t, f.clerk, "/console/reports/monthly/typical", url.Values{"case": {f.cases["K"].Number}, "on": {"1"}}); code != http.StatusNotFound {
		t.Errorf("choosing another station's case: HTTP %d, want 404", code)
	}
	_, page = f.Get(t, f.clerk, loc)
	mustContain(t, page, "已选定", "代表当场解答、当天办结。")
	code, doc := f.Get(t, f.clerk, "/console/reports/monthly/print?month=2026-10&station=pingtanjie")
	if code != 200 {
		t.Fatalf("printable report: HTTP %d", code)
	}
	mustContain(t, doc, "2026年10月群众反映办理情况报告", "案例1", b, "代表当场解答、当天办结。")
	entries, err := f.DB.AuditLog(context.Background(), lianxin.AuditFilter{Action: lianxin.AuditTypical})
	if err != nil || len(entries) != 1 || entries[0].Subject != b || entries[0].Actor != "user:pt-clerk" {
		t.Errorf("typical audit: %+v %v", entries, err)
	}

	// Without Chromium the PDF is plainly unavailable.
	t.Setenv("LIANXIN_CHROMIUM", "")
	t.Setenv("PATH", t.TempDir())
	code, page = f.Get(t, f.clerk, "/console/reports/monthly.pdf?month=2026-10")
	if code != http.StatusServiceUnavailable || !strings.Contains(page, "PDF暂不可用：本机未安装Chromium浏览器") {
		t.Errorf("PDF without chromium: HTTP %d\n%s", code, page)
	}
}

// TestConsoleMonthlyPDF prints the monthly report through headless Chromium.
func TestConsoleMonthlyPDF(t *testing.T) {
	t.Setenv("LIANXIN_CHROMIUM", testenv.Chromium(t))
	f := newRegisterFixture(t)
	code, data := f.download(t, f.admin, "/console/reports/monthly.pdf?month=2026-10")
	if code != 200 || !bytes.HasPrefix(data, []byte("%PDF")) {
		t.Fatalf("monthly PDF: HTTP %d %q", code, data[:min(len(data), 200)])
	}
}

// TestConsoleDeputyRecord: a deputy reads their own record (page, sheet,
// printable), staff their station's deputies', nobody anyone else's.
func TestConsoleDeputyRecord(t *testing.T) {
	f := newRegisterFixture(t)
	code, page := f.Get(t, f.deputy, "/console/deputies/d-st-02/record?year=2026")
	if code != 200 {
		t.Fatalf("own record: HTTP %d\n%s", code, page)
	}
	mustContain(t, page, "郑示范代表履职档案", f.cases["A"].Number, f.cases["B"].Number, "导出Excel", "打印版")
	if code, data := f.download(t, f.deputy, "/console/deputies/d-st-02/record.xlsx?year=2026"); code != 200 || !bytes.HasPrefix(data, []byte("PK")) {
		t.Errorf("own record as Excel: HTTP %d", code)
	}
	if code, doc := f.Get(t, f.deputy, "/console/deputies/d-st-02/record/print?year=2026"); code != 200 || !strings.Contains(doc, "郑示范代表2026年度履职档案") {
		t.Errorf("printable record: HTTP %d", code)
	}
	for _, tc := range []struct {
		who  string
		b    *http.Client
		path string
		want int
	}{
		{"deputy", f.deputy, "/console/deputies/d-sy-03/record", 404},
		{"deputy", f.deputy, "/console/deputies/d-sy-03/record.xlsx", 404},
		{"clerk", f.clerk, "/console/deputies/d-st-02/record?year=2026", 200},
		{"clerk", f.clerk, "/console/deputies/d-sy-03/record", 404},
		{"admin", f.admin, "/console/deputies/d-sy-03/record?year=2026", 200},
		{"clerk", f.clerk, "/console/deputies/d-st-02/record?year=abc", 400},
	} {
		if code, _ := f.Get(t, tc.b, tc.path); code != tc.want {
			t.Errorf("%s GET %s: HTTP %d, want %d", tc.who, tc.path, code, tc.want)
		}
	}
	_, page = f.Get(t, f.clerk, "/console/deputies")
	mustContain(t, page, "/console/deputies/d-st-02/record", "/console/deputies/d-pt-02/record")
	if strings.Contains(page, "d-sy-03") {
		t.Error("the clerk's list of records offers another station's deputy")
	}
}

// TestConsolePrivacy: a deputy's console keeps an anonymous resident
// anonymous; staff erase a resident's contact details at their request
// (audited), which a deputy may not.
func TestConsolePrivacy(t *testing.T) {
	f := newRegisterFixture(t)
	c := f.cases["C"]
	_, page := f.Get(t, f.anonDp, "/console/cases/"+c.Number)
	mustContain(t, page, "匿名（群众要求对代表匿名")
	if strings.Contains(page, lianxin.MaskPhone(c.Phone)) || strings.Contains(page, "/phone\"") {
		t.Errorf("the deputy's page of anonymous %s shows the phone", c.Number)
	}
	if code, body, _ := f.Post(t, f.anonDp, "/console/cases/"+c.Number+"/phone", nil); code == 200 && strings.Contains(body, c.Phone) {
		t.Errorf("the deputy revealed anonymous %s's phone", c.Number)
	}
	_, page = f.Get(t, f.clerk, "/console/cases/"+c.Number)
	mustContain(t, page, "对代表匿名", lianxin.MaskPhone(c.Phone), "按群众要求删除联系方式")
	// Nor does the deputy find them by their phone's last four digits.
	last4 := c.Phone[len(c.Phone)-4:]
	if found, _ := f.list(t, f.anonDp, "/console/cases?q="+last4); slices.Contains(found, c.Number) {
		t.Errorf("the deputy finds anonymous %s by its phone %s", c.Number, last4)
	}
	if found, _ := f.list(t, f.clerk, "/console/cases?q="+last4); !slices.Contains(found, c.Number) {
		t.Errorf("the clerk does not find %s by its phone %s", c.Number, last4)
	}

	b := f.cases["B"]
	if code, _, _ := f.Post(t, f.deputy, "/console/cases/"+b.Number+"/erase", nil); code != http.StatusForbidden {
		t.Errorf("a deputy's erasure: HTTP %d, want 403", code)
	}
	code, loc, _ := f.Post(t, f.clerk, "/console/cases/"+b.Number+"/erase", nil)
	if code != http.StatusSeeOther {
		t.Fatalf("erasure: HTTP %d", code)
	}
	_, page = f.Get(t, f.clerk, loc)
	mustContain(t, page, "已按群众要求删除其电话和微信标识", "删除")
	if strings.Contains(page, lianxin.MaskPhone(b.Phone)) {
		t.Error("the erased phone is still shown")
	}
	entries, err := f.DB.AuditLog(context.Background(), lianxin.AuditFilter{Action: lianxin.AuditErase})
	if err != nil || len(entries) != 1 || entries[0].Subject != b.Number {
		t.Errorf("erasure audit: %+v %v", entries, err)
	}
	if code, _, _ := f.Post(t, f.clerk, "/console/cases/"+f.cases["K"].Number+"/erase", nil); code != http.StatusNotFound {
		t.Errorf("erasing another station's case: HTTP %d, want 404", code)
	}
}
