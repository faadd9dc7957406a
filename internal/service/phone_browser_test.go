package service_test

import (
	"testing"

	"github.com/chromedp/chromedp"
)

// TestConsoleFitsAPhone: a deputy reading their record, or a clerk the
// numbers, on a phone must not have to pan sideways across the whole page
// (the header, the buttons and the text out of view): a wide table scrolls
// inside its own box instead.
func TestConsoleFitsAPhone(t *testing.T) {
	f := newRegisterFixture(t)
	base := f.Server.URL
	for user, pages := range map[string][]string{
		"chu":      {"/console/deputies/d-dyf-02/record?year=2026", "/console/stats?month=2026-10"},
		"pt-clerk": {"/console/stats?month=2026-10", "/console/reports/monthly?month=2026-10&station=pingtanjie", "/console/directory"},
		"admin":    {"/console/outbox", "/console/audit", "/console/users"},
	} {
		ctx := newBrowser(t)
		login(t, ctx, base, user)
		run(t, ctx, "a phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(3), chromedp.EmulateMobile))
		for _, p := range pages {
			run(t, ctx, "open "+p, chromedp.Navigate(base+p), chromedp.WaitVisible(chromedp.CSS(`main`)))
			if w := value(t, ctx, "page width", chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); w > 390 {
				t.Errorf("%s as %s on a 390-px phone: the page is %d px wide", p, user, w)
			}
		}
	}
}

// On a phone the menu runs across the screen under the brand, instead of a
// narrow column beside it that pushes the page below the first screen.
func TestConsoleMenuOnAPhone(t *testing.T) {
	f := newRegisterFixture(t)
	base := f.Server.URL
	for _, user := range []string{"admin", "pt-clerk", "zheng"} {
		ctx := newBrowser(t)
		login(t, ctx, base, user)
		run(t, ctx, "a phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(3), chromedp.EmulateMobile),
			chromedp.Navigate(base+"/console/cases"), chromedp.WaitVisible(chromedp.CSS(`main`)))
		top := value(t, ctx, "where the page starts", chromedp.Evaluate[float64](`document.querySelector("main").getBoundingClientRect().top`))
		navWidth := value(t, ctx, "the menu's width", chromedp.Evaluate[float64](`document.querySelector("nav.nav").getBoundingClientRect().width`))
		if top > 844/3 || navWidth < 300 {
			t.Errorf("as %s on a 390×844 phone the page starts %.0f px down under a menu %.0f px wide", user, top, navWidth)
		}
	}
}
