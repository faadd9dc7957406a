package report_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/lianxin/lianxin/internal/testenv"
	"github.com/lianxin/lianxin/report"
)

// needChromium finds Chromium for the PDF tests (testenv.Chromium: skipped
// on a developer's machine without it, a failure in CI) and points the
// report package at it.
func needChromium(t *testing.T) {
	t.Helper()
	t.Setenv("LIANXIN_CHROMIUM", testenv.Chromium(t))
}

func TestMonthlyReportPrintsToPDFWithChineseFonts(t *testing.T) {
	needChromium(t)
	f := newFixture(t)
	ctx := context.Background()
	m, err := f.rep.Monthly(ctx, "2026-10", "pingtanjie", false, "cli:clerk")
	if err != nil {
		t.Fatal(err)
	}
	var html bytes.Buffer
	if err := f.rep.WriteMonthlyHTML(&html, m); err != nil {
		t.Fatal(err)
	}
	pdf, err := report.PDF(ctx, html.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) || len(pdf) < 10000 {
		t.Fatalf("not a PDF: %d bytes starting %q", len(pdf), pdf[:min(len(pdf), 16)])
	}
	// The Chinese is set in a CJK font (fonts-noto-cjk), not boxes: the
	// PDF embeds it.
	if !bytes.Contains(pdf, []byte("CJK")) {
		if os.Getenv("CI") != "" {
			t.Fatal("the PDF embeds no CJK font: install fonts-noto-cjk (.ci/run does)")
		}
		t.Log("no CJK font embedded: this machine lacks fonts-noto-cjk; the Chinese prints as boxes")
	}
}

func TestPDFWithoutChromiumSaysWhatToInstall(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	t.Setenv("LIANXIN_CHROMIUM", "")
	_, err := report.PDF(context.Background(), []byte("<p>x</p>"))
	if !errors.Is(err, report.ErrNoChromium) || !strings.Contains(err.Error(), "apt-get install chromium") ||
		!strings.Contains(err.Error(), "--format html") {
		t.Fatalf("error = %v", err)
	}
}
