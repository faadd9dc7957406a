package wxapi_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lianxin/lianxin/bot/wxapi"
	"github.com/lianxin/lianxin/internal/wxtest/fakewx"
)

// TestCreateQRCode: a permanent code for a scene is the same code when
// asked again; a temporary one expires; past the account's limit WeChat's
// 45029 is ErrQRLimit.
func TestCreateQRCode(t *testing.T) {
	a := newAccount(t, fakewx.Options{AppSecret: testSecret})
	c := a.process(t, nil)
	ctx := ctxT(t)
	p, err := c.CreateQRCode(ctx, "deputy:d1", 0)
	if err != nil || !strings.HasPrefix(p.URL, "http://weixin.qq.com/q/") || p.Ticket == "" || !p.Expires.IsZero() {
		t.Fatalf("permanent: %+v %v", p, err)
	}
	if again, err := c.CreateQRCode(ctx, "deputy:d1", 0); err != nil || again.URL != p.URL {
		t.Errorf("asked again: %+v %v; want the same code", again, err)
	}
	tmp, err := c.CreateQRCode(ctx, "bind:TOKEN", 10*time.Minute)
	if err != nil || tmp.Expires.IsZero() || tmp.URL == p.URL {
		t.Fatalf("temporary: %+v %v", tmp, err)
	}
	if made := a.fake.QRCodes(); len(made) != 2 || made[1].Permanent || made[1].Expire != 600 || a.fake.QRScene(tmp.URL) != "bind:TOKEN" {
		t.Errorf("the fake made %+v", made)
	}
	a.fake.SetQRLimit(1)
	if _, err := c.CreateQRCode(ctx, "station:s1", 0); !errors.Is(err, wxapi.ErrQRLimit) {
		t.Errorf("past the limit: %v", err)
	}
	if _, err := c.CreateQRCode(ctx, "bind:OTHER", time.Minute); err != nil {
		t.Errorf("temporary codes are not limited: %v", err)
	}
	if _, err := c.CreateQRCode(ctx, strings.Repeat("x", 65), 0); !errors.Is(err, wxapi.ErrPermanent) {
		t.Errorf("a scene too long: %v", err)
	}
}
