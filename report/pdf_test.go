package report_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/lianxin/lianxin/report"
)

// needChromium skips where Chromium is missing on a developer's machine
// and fails in CI (CI=true), where .ci/run installs it.
func needChromium(t *testing.T) {
	t.Helper()
	if _, err := report.FindChromium(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI must have Chromium for the PDF tests (.ci/run installs it): %v", err)
		}
		t.Skipf("no Chromium here (%v); CI runs this test", err)
	}
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
