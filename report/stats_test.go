package report_test

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/lianxin/lianxin"
	"github.com/lianxin/lianxin/report"
)

// The October register (internal/registertest.October), by hand. Times are
// Beijing time; "due" is the round's deadline.
//
//	case station      deputy    what happened                                   counts in October
//	A    shuitan      d-st-02   reg 30 Sep 20:00 heating (4 h / 2 d); taken     carried, handled, judged late,
//	                            1 Oct 01:00 (due 00:00); resolved 3 Oct 10:00   accepted, resolved (late), overdue,
//	                            (due 2 Oct 20:00); 满意 3 Oct                    rated 满意, rated since resolved
//	B    shuitan      d-st-02   reg 5 Oct 09:00; answered 10:00; resolved 15:00 received … resolved on time, 基本满意
//	C    dongyaofang  d-dyf-02  reg 10 Oct sanitation (24 h / 3 d); taken on     received, reopened, judged on time
//	                            time; forwarded; resolved 20 Oct (due 13 Oct);  (both rounds), resolved on time (round
//	                            不满意 → 重办 20 Oct 10:00; taken 11:00;         2), overdue (round 1), last rating
//	                            resolved 22 Oct 09:00 (due 23 Oct); 满意 23 Oct  满意, rated since resolved
//	D    saiyu        d-sy-02   reg 28 Oct property (24 h); taken 2 Nov          received, judged late, open, overdue
//	E    pingtanjie   d-pt-02   reg 31 Oct 22:00 heating; taken 1 Nov 01:00     received, open (not yet judged)
//	F    saiyu        d-sy-02   reg 1 Nov 07:00 (31 Oct 23:00 UTC)              nothing: November in Beijing
//	G    shuitan      d-st-02   all in September                                nothing
//	H    guishigou    d-gsg-02  resolved 25 Sep; 基本满意 2 Oct                 rated 基本满意 only
//	I    (district)   nobody    reg 15 Oct other (48 h), never taken up         received, judged late, open, overdue
//	J    saiyu        d-sy-03   reg 12 Oct roads; cancelled 12:00 (due 13 Oct)  received, handled only
//	K    saiyu        d-sy-03   reg 8 Oct roads; taken 15:00; resolved 9 Oct    received, judged on time, resolved on
//	                                                                            time, not rated
var octoberTotal = map[lianxin.Measure]int{
	lianxin.MeasureReceived:       7, // B C D E I J K
	lianxin.MeasureHandled:        8, // + A
	lianxin.MeasureCarried:        1, // A
	lianxin.MeasureReopened:       1, // C
	lianxin.MeasureAccepted:       4, // A B C K
	lianxin.MeasureAcceptJudged:   6, // A B C D I K
	lianxin.MeasureAcceptedOnTime: 3, // B C K
	lianxin.MeasureResolved:       4, // A B C K
	lianxin.MeasureResolvedOnTime: 3, // B C K
	lianxin.MeasureOpen:           3, // D E I
	lianxin.MeasureOverdue:        4, // A C D I
	lianxin.MeasureRated:          4, // A B C H
	lianxin.MeasureSatisfied:      2, // A C
	lianxin.MeasureFairly:         2, // B H
	lianxin.MeasureUnsatisfied:    0, // C's 不满意 was superseded by its 满意
	lianxin.MeasureRatedResolved:  3, // A B C
}

func TestOctoberFiguresMatchTheHandComputedTable(t *testing.T) {
	f := newFixture(t)
	s, err := f.rep.StatsFor(context.Background(), october(), 12)
	if err != nil {
		t.Fatal(err)
	}
	for m, want := range octoberTotal {
		if got := s.Total.N(m); got != want {
			t.Errorf("%s = %d, want %d", m, got, want)
		}
	}
	rates := []struct {
		name string
		got  report.Rate
		want float64
	}{
		{"响应率 3/6", s.Total.Rates.Response, 0.5},
		{"解决率 4/8", s.Total.Rates.Resolve, 0.5},
		{"按期解决率 3/8", s.Total.Rates.ResolveOnTime, 0.375},
		{"满意率 2/4", s.Total.Rates.Satisfied, 0.5},
		{"满意及基本满意率 4/4", s.Total.Rates.SatisfiedOrFairly, 1},
		{"综合满意率 (2 + 0.9×2)/4", s.Total.Rates.Weighted, 0.95},
		{"参评率 3/4", s.Total.Rates.Participation, 0.75},
	}
	for _, r := range rates {
		if !r.got.OK || math.Abs(r.got.Value-r.want) > 1e-9 {
			t.Errorf("%s = %+v, want %v", r.name, r.got, r.want)
		}
	}
	// Taken up: A 5 h, B 1 h, C 1 h (its second round), K 6 h.
	// Resolved: A 62 h, B 6 h, C 47 h (second round), K 24 h.
	if a := s.Total.Accept; a.N != 4 || a.Avg != 3.3 || a.P90 != 6 {
		t.Errorf("time to accept = %+v, want 4 cases, mean 3.3 h, p90 6 h", a)
	}
	if r := s.Total.Resolve; r.N != 4 || r.Avg != 34.8 || r.P90 != 62 {
		t.Errorf("time to resolve = %+v, want 4 cases, mean 34.8 h, p90 62 h", r)
	}
	// Stations with their points rolled up; the district queue; a station
	// whose only October figure is a rating.
	byStation := map[string]map[lianxin.Measure]int{
		"pingtanjie": {lianxin.MeasureHandled: 4, lianxin.MeasureReceived: 3, lianxin.MeasureResolved: 3, lianxin.MeasureOpen: 1, lianxin.MeasureOverdue: 2},
		"saiyu":      {lianxin.MeasureHandled: 3, lianxin.MeasureReceived: 3, lianxin.MeasureResolved: 1, lianxin.MeasureOpen: 1, lianxin.MeasureOverdue: 1},
		"":           {lianxin.MeasureHandled: 1, lianxin.MeasureOpen: 1, lianxin.MeasureOverdue: 1},
		"guishigou":  {lianxin.MeasureHandled: 0, lianxin.MeasureRated: 1, lianxin.MeasureFairly: 1},
	}
	checkRows(t, "station", s.ByStation, byStation)
	byDeputy := map[string]map[lianxin.Measure]int{
		"d-st-02":  {lianxin.MeasureHandled: 2, lianxin.MeasureResolved: 2},
		"d-dyf-02": {lianxin.MeasureHandled: 1, lianxin.MeasureReopened: 1, lianxin.MeasureSatisfied: 1},
		"d-sy-03":  {lianxin.MeasureHandled: 2, lianxin.MeasureResolved: 1},
		"":         {lianxin.MeasureHandled: 1, lianxin.MeasureOpen: 1}, // 未分派
	}
	checkRows(t, "deputy", s.ByDeputy, byDeputy)
	byCategory := map[string]map[lianxin.Measure]int{
		"heating":    {lianxin.MeasureHandled: 3, lianxin.MeasureReceived: 2},
		"sanitation": {lianxin.MeasureHandled: 1, lianxin.MeasureOverdue: 1},
		"elderly":    {lianxin.MeasureHandled: 0, lianxin.MeasureRated: 1},
	}
	checkRows(t, "category", s.ByCategory, byCategory)
	if len(s.BySource) != 1 || s.BySource[0].Name != "微信" || s.BySource[0].N(lianxin.MeasureHandled) != 8 {
		t.Errorf("by source = %+v", s.BySource)
	}
	// The trend's October is the same month counted the same way; its
	// November has F and not A.
	var oct, nov report.TrendPoint
	for _, p := range s.Trend {
		switch p.Month {
		case "2026-10":
			oct = p
		case "2026-11":
			nov = p
		}
	}
	if oct.Figures[lianxin.MeasureReceived].Value != 7 || oct.Figures[lianxin.MeasureResolved].Value != 4 || oct.Figures[lianxin.MeasureHandled].Value != 8 {
		t.Errorf("trend October = %+v", oct.Figures)
	}
	if len(s.Trend) != 12 || s.Trend[11].Month != "2026-10" || nov.Month != "" {
		t.Errorf("the trend should be the 12 months to October 2026, got %d ending %s", len(s.Trend), s.Trend[len(s.Trend)-1].Month)
	}
}

func checkRows(t *testing.T, what string, rows []report.Row, want map[string]map[lianxin.Measure]int) {
	t.Helper()
	got := map[string]report.Row{}
	for _, r := range rows {
		got[r.Key] = r
	}
	for key, ms := range want {
		r, ok := got[key]
		if !ok {
			t.Errorf("%s %q: no row (rows: %v)", what, key, keys(rows))
			continue
		}
		for m, n := range ms {
			if r.N(m) != n {
				t.Errorf("%s %q %s = %d, want %d", what, key, m, r.N(m), n)
			}
		}
	}
}

func keys(rows []report.Row) []string {
	var out []string
	for _, r := range rows {
		out = append(out, r.Key)
	}
	return out
}

// Every figure's filter lists exactly the cases it counts: the console links
// each number to that list.
func TestEveryFigureListsTheCasesItCounts(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for _, scope := range []lianxin.CaseFilter{october(), {Units: f.dir.Units("pingtanjie"), From: october().From, To: october().To},
		{Units: f.dir.Units("shuitan"), From: october().From, To: october().To}, {}} {
		s, err := f.rep.StatsFor(ctx, scope, 3)
		if err != nil {
			t.Fatal(err)
		}
		rows := append([]report.Row{s.Total}, s.ByCategory...)
		rows = append(rows, s.ByStation...)
		rows = append(rows, s.ByDeputy...)
		rows = append(rows, s.BySource...)
		checked := 0
		for _, r := range rows {
			for m, fig := range r.Figures {
				if fig.Filter.Measure != m {
					t.Fatalf("figure %s carries measure %q", m, fig.Filter.Measure)
				}
				cs, err := f.db.Cases(ctx, fig.Filter)
				if err != nil {
					t.Fatal(err)
				}
				if len(cs) != fig.Value {
					t.Errorf("row %q %s: figure %d, its case list %d (filter %+v)", r.Name, m, fig.Value, len(cs), fig.Filter)
				}
				checked++
			}
		}
		for _, p := range s.Trend {
			for m, fig := range p.Figures {
				cs, err := f.db.Cases(ctx, fig.Filter)
				if err != nil {
					t.Fatal(err)
				}
				if len(cs) != fig.Value {
					t.Errorf("trend %s %s: figure %d, its case list %d", p.Month, m, fig.Value, len(cs))
				}
			}
		}
		if checked < 50 {
			t.Errorf("only %d figures checked", checked)
		}
	}
}

// The numbers as a page: every figure links to its case list when the
// console gives a link, and the charts are inline SVG.
func TestStatsPageLinksEveryFigure(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	s, err := f.rep.StatsFor(ctx, october(), 12)
	if err != nil {
		t.Fatal(err)
	}
	links := 0
	link := func(cf lianxin.CaseFilter) string {
		links++
		return "/console/cases?measure=" + string(cf.Measure) + "&x=<&>"
	}
	var page strings.Builder
	if err := f.rep.StatsHTML(&page, s, link); err != nil {
		t.Fatal(err)
	}
	html := page.String()
	if links < 40 || strings.Count(html, `<a href="/console/cases?measure=`) != links {
		t.Errorf("%d links made, %d on the page", links, strings.Count(html, `<a href="/console/cases?measure=`))
	}
	if strings.Contains(html, "x=<&>") || !strings.Contains(html, `<a href="/console/cases?measure=handled&amp;x=&lt;&amp;&gt;">8</a>`) {
		t.Error("a link is not escaped, or the handled figure is not linked")
	}
	if n := strings.Count(html, "<svg"); n != 4 {
		t.Errorf("%d charts", n)
	}
	frag, err := f.rep.StatsFragment("breakdown", s, s.ByStation, "联络站", nil)
	if err != nil || !strings.Contains(string(frag), "平潭街街道人大代表联络站") || strings.Contains(string(frag), "<a ") {
		t.Errorf("breakdown fragment: %v\n%s", err, frag)
	}
}
