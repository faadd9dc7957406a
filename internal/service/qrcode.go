package service

import (
	"context"
	"errors"
	"time"

	"github.com/lianxin/lianxin"
	"github.com/lianxin/lianxin/bot/wxapi"
	"github.com/lianxin/lianxin/report"
	"github.com/lianxin/lianxin/store"
)

// Deputy and station QR codes (代表码), wired: the console asks WeChat for
// a permanent code the first time a poster or the code is wanted (never
// on the webhook path: a scan only carries the scene, which needs no
// call), keeps it, and prints posters through Chromium.

type qrDesk struct {
	*store.DB
	s *Service
}

func (d qrDesk) api() (*wxapi.Client, error) {
	if d.s.API == nil {
		return nil, lianxin.Errorf(lianxin.EUNAVAILABLE, "no WeChat API (LIANXIN_WECHAT_APPSECRET is not set): QR codes cannot be made")
	}
	return d.s.API, nil
}

// qrError maps a failed qrcode/create to what the console says.
func qrError(err error) error {
	switch {
	case errors.Is(err, wxapi.ErrQRLimit):
		return errors.Join(lianxin.ErrQRLimit, err)
	case errors.Is(err, context.Canceled):
		return err
	}
	return lianxin.Errorf(lianxin.EUNAVAILABLE, "qrcode/create: %v", err)
}

func (d qrDesk) EnsureQRCode(ctx context.Context, scene string, a lianxin.AuditEntry) (lianxin.QRCode, error) {
	q, err := d.QRCode(ctx, scene)
	if lianxin.ErrorCode(err) != lianxin.ENOTFOUND {
		return q, err
	}
	api, err := d.api()
	if err != nil {
		return q, err
	}
	made, err := api.CreateQRCode(ctx, scene, 0)
	if err != nil {
		return q, qrError(err)
	}
	if q, err = d.SaveQRCode(ctx, lianxin.QRCode{Scene: scene, Ticket: made.Ticket, URL: made.URL}); err != nil {
		return q, err
	}
	a.Subject = scene
	return q, d.Audit(ctx, a)
}

func (d qrDesk) BindQRCode(ctx context.Context, deputyID string, a lianxin.AuditEntry) (string, time.Time, error) {
	api, err := d.api()
	if err != nil {
		return "", time.Time{}, err
	}
	token, expires, err := d.CreateBindToken(ctx, deputyID, lianxin.BindQRTTL, a)
	if err != nil {
		return "", time.Time{}, err
	}
	made, err := api.CreateQRCode(ctx, lianxin.Scene(lianxin.SceneBind, token), lianxin.BindQRTTL)
	if err != nil {
		return "", time.Time{}, qrError(err)
	}
	return made.URL, expires, nil
}

func (d qrDesk) PrintPDF(ctx context.Context, html []byte) ([]byte, error) {
	pdf, err := report.PDF(ctx, html)
	if errors.Is(err, report.ErrNoChromium) {
		return nil, lianxin.Errorf(lianxin.EUNAVAILABLE, "%v", err)
	}
	return pdf, err
}
