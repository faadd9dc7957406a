package web

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"time"

	qrcode "github.com/skip2/go-qrcode"

	"github.com/lianxin/lianxin"
)

// Deputy and station QR codes (/console/qrcodes, 代表码): every deputy and
// station in the user's scope with their permanent code, made through
// WeChat on first demand when the background worker has not made it yet;
// an A4 poster per code (HTML to print, or PDF); and, for staff, a one-time
// binding code a deputy scans instead of typing digits. The QR images are
// drawn here from the URL WeChat gave (inline SVG), so a poster prints
// offline and no image is fetched from WeChat.

// QRDesk is what the QR pages read and do (internal/service over the store
// and the WeChat API).
type QRDesk interface {
	QRCodes(ctx context.Context) (map[string]lianxin.QRCode, error)
	// EnsureQRCode returns the scene's permanent code, asking WeChat for it
	// when none is kept (audited then). lianxin.ErrQRLimit when WeChat's
	// limit is reached; EUNAVAILABLE without a WeChat API.
	EnsureQRCode(ctx context.Context, scene string, a lianxin.AuditEntry) (lianxin.QRCode, error)
	// BindQRCode makes a one-time binding code for a deputy (audited): the
	// URL its QR image encodes and when it stops working.
	BindQRCode(ctx context.Context, deputyID string, a lianxin.AuditEntry) (url string, expires time.Time, err error)
	// PrintPDF prints an HTML page (the poster) to PDF.
	PrintPDF(ctx context.Context, html []byte) ([]byte, error)
}

//go:embed poster
var posterFS embed.FS

var posterTmpl = template.Must(template.New("poster.html").ParseFS(posterFS, "poster/poster.html"))

func (h *Handler) qrRoutes() {
	m := h.mux
	m.Handle("GET /console/qrcodes", h.auth(h.qrPage))
	m.Handle("POST /console/qrcodes/all", h.auth(h.qrMakeAll))
	m.Handle("POST /console/qrcodes/{kind}/{id}", h.auth(h.qrMake))
	m.Handle("POST /console/qrcodes/bind/{id}", h.auth(h.qrBind))
	m.Handle("GET /console/qrcodes/{kind}/{id}/poster", h.auth(h.qrPoster))
}

type qrPage struct {
	Base
	Stations []qrItem
	Deputies []qrItem
	// Bind is a one-time binding code just made.
	Bind *qrBindView
}

type qrItem struct {
	Kind, ID, Name, Station, Level string
	Made                           bool
	MadeAt                         time.Time
}

type qrBindView struct {
	Deputy  string
	SVG     template.HTML
	Expires time.Time
}

func (h *Handler) qrDesk() (QRDesk, error) {
	if h.cfg.QRCodes == nil {
		return nil, lianxin.Errorf(lianxin.ENOTFOUND, "QR codes are not wired")
	}
	return h.cfg.QRCodes, nil
}

// qrTarget finds a scene's deputy or station within the user's scope: a
// station's and its deputies' for staff, every one for admins, a deputy's
// own for a deputy.
func qrTarget(rc *reqCtx, kind, id string) (qrItem, error) {
	switch kind {
	case lianxin.SceneDeputy:
		if d, ok := rc.dir.Deputy(id); ok && (rc.scope.Allows(d.StationID, d.ID)) {
			return qrItem{Kind: kind, ID: d.ID, Name: d.Name, Station: stationName(rc.dir, d.StationID), Level: d.Level}, nil
		}
	case lianxin.SceneStation:
		if s, ok := rc.dir.Station(id); ok && rc.scope.Allows(s.ID, "") {
			it := qrItem{Kind: kind, ID: s.ID, Name: s.Name, Station: s.Name}
			if s.Kind == lianxin.PointKind {
				it.Station = stationName(rc.dir, s.Parent)
			}
			return it, nil
		}
	}
	return qrItem{}, lianxin.Errorf(lianxin.ENOTFOUND, "no %s %q in scope", kind, id)
}

func (h *Handler) qrPageData(r *http.Request, rc *reqCtx, d QRDesk) (*qrPage, error) {
	made, err := d.QRCodes(r.Context())
	if err != nil {
		return nil, err
	}
	p := &qrPage{Base: h.base(r, rc, "代表码")}
	mark := func(it qrItem) qrItem {
		if q, ok := made[lianxin.Scene(it.Kind, it.ID)]; ok {
			it.Made, it.MadeAt = true, q.CreatedAt
		}
		return it
	}
	for _, s := range rc.dir.Stations {
		if it, err := qrTarget(rc, lianxin.SceneStation, s.ID); err == nil {
			p.Stations = append(p.Stations, mark(it))
		}
	}
	for _, dep := range rc.dir.Deputies {
		if it, err := qrTarget(rc, lianxin.SceneDeputy, dep.ID); err == nil {
			p.Deputies = append(p.Deputies, mark(it))
		}
	}
	return p, nil
}

func (h *Handler) qrPage(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	d, err := h.qrDesk()
	if err != nil {
		return err
	}
	p, err := h.qrPageData(r, rc, d)
	if err != nil {
		return err
	}
	return h.render(w, "qrcodes", p)
}

// qrProblem is the page's own words for what stops a code being made; nil
// for errors the error page shows.
func qrProblem(err error) string {
	switch {
	case errors.Is(err, lianxin.ErrQRLimit):
		return labels["qr:limit"]
	case lianxin.ErrorCode(err) == lianxin.EUNAVAILABLE:
		return labels["qr:unavailable"]
	}
	return ""
}

// qrMake makes a deputy's or station's permanent code now.
func (h *Handler) qrMake(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	d, err := h.qrDesk()
	if err != nil {
		return err
	}
	if err := rc.staffOnly(); err != nil {
		return err
	}
	it, err := qrTarget(rc, r.PathValue("kind"), r.PathValue("id"))
	if err != nil {
		return err
	}
	if _, err := d.EnsureQRCode(r.Context(), lianxin.Scene(it.Kind, it.ID), rc.audit(r, "qr_create", "", "")); err != nil {
		msg := qrProblem(err)
		if msg == "" {
			return err
		}
		p, perr := h.qrPageData(r, rc, d)
		if perr != nil {
			return perr
		}
		p.Error = msg
		return h.render(w, "qrcodes", p, http.StatusConflict)
	}
	http.Redirect(w, r, "/console/qrcodes?done=qr_made#"+it.Kind+"-"+it.ID, http.StatusSeeOther)
	return nil
}

// qrMakeAll makes every missing code in the user's scope, for a print
// run; WeChat's limit stops it with what was made so far kept.
func (h *Handler) qrMakeAll(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	d, err := h.qrDesk()
	if err != nil {
		return err
	}
	if err := rc.staffOnly(); err != nil {
		return err
	}
	p, err := h.qrPageData(r, rc, d)
	if err != nil {
		return err
	}
	made := 0
	for _, it := range append(append([]qrItem(nil), p.Stations...), p.Deputies...) {
		if it.Made {
			continue
		}
		if _, err := d.EnsureQRCode(r.Context(), lianxin.Scene(it.Kind, it.ID), rc.audit(r, "qr_create", "", "")); err != nil {
			msg := qrProblem(err)
			if msg == "" {
				return err
			}
			if p, err = h.qrPageData(r, rc, d); err != nil {
				return err
			}
			p.Error = fmt.Sprintf(labels["qr:made_some"], made) + msg
			return h.render(w, "qrcodes", p, http.StatusConflict)
		}
		made++
	}
	http.Redirect(w, r, "/console/qrcodes?done=qr_made_all", http.StatusSeeOther)
	return nil
}

// qrBind shows a deputy's one-time binding code (once, on the answering page).
func (h *Handler) qrBind(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	d, err := h.qrDesk()
	if err != nil {
		return err
	}
	if err := rc.staffOnly(); err != nil {
		return err
	}
	it, err := qrTarget(rc, lianxin.SceneDeputy, r.PathValue("id"))
	if err != nil {
		return err
	}
	url, expires, err := d.BindQRCode(r.Context(), it.ID, rc.audit(r, "qr_bind", "", ""))
	p, perr := h.qrPageData(r, rc, d)
	if perr != nil {
		return perr
	}
	if err != nil {
		if p.Error = qrProblem(err); p.Error == "" {
			return err
		}
		return h.render(w, "qrcodes", p, http.StatusServiceUnavailable)
	}
	svg, err := QRSVG(url)
	if err != nil {
		return err
	}
	p.Bind = &qrBindView{Deputy: it.Name, SVG: svg, Expires: expires}
	return h.render(w, "qrcodes", p)
}

// posterPage is the A4 poster's data.
type posterPage struct {
	qrItem
	Deputy bool
	SVG    template.HTML
	// CSS is the poster's style inlined (the PDF is printed from the page
	// alone); the console links the stylesheet instead, as its CSP wants.
	CSS      template.CSS
	CSSURL   string
	Printed  string
	Download string
}

// qrPoster is a deputy's or station's A4 poster: HTML to print from the
// browser, or ?format=pdf.
func (h *Handler) qrPoster(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	d, err := h.qrDesk()
	if err != nil {
		return err
	}
	it, err := qrTarget(rc, r.PathValue("kind"), r.PathValue("id"))
	if err != nil {
		return err
	}
	q, err := d.EnsureQRCode(r.Context(), lianxin.Scene(it.Kind, it.ID), rc.audit(r, "qr_create", "", ""))
	if err != nil {
		if msg := qrProblem(err); msg != "" {
			p, perr := h.qrPageData(r, rc, d)
			if perr != nil {
				return perr
			}
			p.Error = msg
			return h.render(w, "qrcodes", p, http.StatusConflict)
		}
		return err
	}
	svg, err := QRSVG(q.URL)
	if err != nil {
		return err
	}
	pp := posterPage{qrItem: it, Deputy: it.Kind == lianxin.SceneDeputy, SVG: svg,
		Printed:  h.cfg.Now().In(h.cfg.Location).Format("2006年1月"),
		Download: r.URL.Path + "?format=pdf"}
	pdf := r.URL.Query().Get("format") == "pdf"
	if pdf {
		css, err := fs.ReadFile(staticFS, "static/poster.css")
		if err != nil {
			return err
		}
		pp.CSS = template.CSS(css)
	} else {
		pp.CSSURL = "/console/static/" + staticHash["poster.css"] + "/poster.css"
	}
	var b bytes.Buffer
	if err := posterTmpl.Execute(&b, pp); err != nil {
		return fmt.Errorf("web: poster: %w", err)
	}
	if !pdf {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, err := w.Write(b.Bytes())
		return err
	}
	out, err := d.PrintPDF(r.Context(), b.Bytes())
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="poster-%s-%s.pdf"`, it.Kind, it.ID))
	_, err = w.Write(out)
	return err
}

// QRSVG draws a QR code of content as an inline SVG (error correction M,
// WeChat's own codes' level, four modules of quiet zone), one path of unit
// squares so it scales to any print size without blur.
func QRSVG(content string) (template.HTML, error) {
	bits, err := QRBitmap(content)
	if err != nil {
		return "", err
	}
	n := len(bits)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" shape-rendering="crispEdges" role="img" aria-label="二维码" data-content="%s">`,
		n, n, template.HTMLEscapeString(content))
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="`, n, n)
	for y, row := range bits {
		for x, on := range row {
			if on {
				fmt.Fprintf(&b, "M%d %dh1v1h-1z", x, y)
			}
		}
	}
	b.WriteString(`"/></svg>`)
	return template.HTML(b.String()), nil
}

// QRBitmap is content's QR code as modules (true is dark), quiet zone
// included: what QRSVG draws, for tests to compare against.
func QRBitmap(content string) ([][]bool, error) {
	q, err := qrcode.New(content, qrcode.Medium)
	if err != nil {
		return nil, err
	}
	return q.Bitmap(), nil
}
