package report

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/chromedp/chromedp"
)

// PDFs are printed by headless Chromium (Debian's package chromium) through
// the DevTools protocol (chromedp): it lays out Chinese text with the
// system's fonts, so a machine that prints needs a CJK font too (Debian's
// fonts-noto-cjk). Without Chromium, PDF output fails with ErrNoChromium
// and HTML output keeps working: print the HTML from any browser.

// ErrNoChromium says that PDF output needs Chromium.
var ErrNoChromium = errors.New("PDF output needs headless Chromium, which is not installed: " +
	"install the Debian package chromium (apt-get install chromium), and fonts-noto-cjk for the Chinese text, " +
	"or set LIANXIN_CHROMIUM to a Chromium binary; HTML output (--format html) works without it")

// chromiumNames are where Debian and other systems put Chromium.
var chromiumNames = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"}

// FindChromium returns the Chromium binary: $LIANXIN_CHROMIUM, or the first
// of the usual names on PATH.
func FindChromium() (string, error) {
	if p := os.Getenv("LIANXIN_CHROMIUM"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("LIANXIN_CHROMIUM: %w", err)
		}
		return p, nil
	}
	for _, n := range chromiumNames {
		if p, err := exec.LookPath(n); err == nil {
			return p, nil
		}
	}
	return "", ErrNoChromium
}

// browser starts a headless Chromium for one document, with nothing that
// reaches the network on its own, and opens html in it.
func browser(ctx context.Context, html []byte, width, height int64) (context.Context, func(), error) {
	path, err := FindChromium()
	if err != nil {
		return nil, nil, err
	}
	dir, err := os.MkdirTemp("", "lianxin-print-")
	if err != nil {
		return nil, nil, err
	}
	file := filepath.Join(dir, "document.html")
	if err := os.WriteFile(file, html, 0o600); err != nil {
		os.RemoveAll(dir)
		return nil, nil, err
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(path),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(filepath.Join(dir, "profile")),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.WindowSize(int(width), int(height)),
	)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	cleanup := func() {
		cancelBrowser()
		cancelAlloc()
		os.RemoveAll(dir)
	}
	u := url.URL{Scheme: "file", Path: file}
	if err := chromedp.Do(bctx, chromedp.Navigate(u.String())); err != nil {
		cleanup()
		return nil, nil, fmt.Errorf("chromium: %w", err)
	}
	return bctx, cleanup, nil
}

// PDF prints an HTML document (one of this package's) to an A4 PDF.
func PDF(ctx context.Context, html []byte) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	bctx, cleanup, err := browser(ctx, html, 1000, 1400)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	pdf, err := chromedp.Run(bctx, chromedp.PrintToPDF(chromedp.PDFPaper(chromedp.PaperA4), chromedp.PDFPreferCSSPageSize(),
		chromedp.PDFPrintBackground()))
	if err != nil {
		return nil, fmt.Errorf("chromium: print to PDF: %w", err)
	}
	return pdf, nil
}

// Screenshot renders an HTML document as a PNG of its whole length, width
// pixels wide: the README's pictures, and a check that a page renders.
func Screenshot(ctx context.Context, html []byte, width int64) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	bctx, cleanup, err := browser(ctx, html, width, 900)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
	if err != nil {
		return nil, fmt.Errorf("chromium: screenshot: %w", err)
	}
	return png, nil
}
