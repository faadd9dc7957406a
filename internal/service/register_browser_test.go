package service_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestConsoleStatsInBrowser: in a real browser the numbers page shows its
// tables and four charts, and clicking a figure opens the case list of
// exactly that many cases, whose export link carries the figure's filter.
func TestConsoleStatsInBrowser(t *testing.T) {
	f := newRegisterFixture(t)
	ctx := newBrowser(t)
	base := f.Server.URL
	login(t, ctx, base, "admin")
	run(t, ctx, "open the numbers of October",
		chromedp.Navigate(base+"/console/stats?month=2026-10"),
		chromedp.WaitVisible(chromedp.CSS(`#summary table`)))
	if n := value(t, ctx, "count charts", chromedp.Evaluate[int](`document.querySelectorAll(".charts svg").length`)); n != 4 {
		t.Errorf("%d charts on the page, want 4", n)
	}
	screenshot(t, ctx, "console-stats")
	for _, measure := range []string{"resolved", "overdue", "received"} {
		sel := `#summary a[href*="measure=` + measure + `"]`
		figure := textOf(t, ctx, sel)
		run(t, ctx, "click the "+measure+" figure",
			chromedp.Click(chromedp.CSS(sel)),
			chromedp.WaitVisible(chromedp.CSS(`table.cases`)))
		rows := value(t, ctx, "count rows", chromedp.Evaluate[int](`document.querySelectorAll("table.cases tbody tr td input[name=case]").length`))
		if strconv.Itoa(rows) != figure || textOf(t, ctx, "h1 small") != "共 "+figure+" 件" {
			t.Errorf("%s figure %s opened a list of %d rows (%q)", measure, figure, rows, textOf(t, ctx, "h1 small"))
		}
		href := value(t, ctx, "export link", chromedp.Evaluate[string](`document.querySelector(".exports a").getAttribute("href")`))
		if want := "/console/cases.xlsx?measure=" + measure + "&month=2026-10"; href != want {
			t.Errorf("export link %q, want %q", href, want)
		}
		run(t, ctx, "back to the numbers", chromedp.Navigate(base+"/console/stats?month=2026-10"), chromedp.WaitVisible(chromedp.CSS(`#summary table`)))
	}

	// The monthly report's page: staff choose a typical case there.
	run(t, ctx, "open the monthly report",
		chromedp.Navigate(base+"/console/reports/monthly?month=2026-10&station=pingtanjie"),
		chromedp.WaitVisible(chromedp.CSS(`#typical form.typical-form`)),
		chromedp.SendKeys(chromedp.CSS(`#typical form.typical-form input[name=note]`), "群众不满意后重新办理直至满意。"),
		chromedp.Click(chromedp.CSS(`#typical form.typical-form button`)),
		chromedp.WaitVisible(chromedp.CSS(`p.flash`)))
	if got := textOf(t, ctx, "#typical"); !strings.Contains(got, "已选定") || !strings.Contains(got, "群众不满意后重新办理直至满意。") {
		t.Errorf("typical cases after choosing one: %s", got)
	}
	screenshot(t, ctx, "console-monthly")
	run(t, ctx, "open a deputy's record",
		chromedp.Navigate(base+"/console/deputies/d-dyf-02/record?year=2026"),
		chromedp.WaitVisible(chromedp.CSS(`.exports`)))
	if got := textOf(t, ctx, "h1"); !strings.Contains(got, "褚示范代表履职档案") {
		t.Errorf("record heading %q", got)
	}
}
