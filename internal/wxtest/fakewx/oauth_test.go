package fakewx_test

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/lianxin/lianxin/bot/wxapi"
	"github.com/lianxin/lianxin/internal/wxtest/fakewx"
)

// TestWebAuthorisation: a browser "in WeChat" as a user is sent back to the
// page with a code, which the page's server trades once for the openid
// (through wxapi.OAuth, the SDK's URL and answer); a second try and a
// wrong secret are refused with WeChat's codes.
func TestWebAuthorisation(t *testing.T) {
	fw := fakewx.New(fakewx.Options{AppID: "wxapp", AppSecret: "secret"})
	if err := fw.Start(); err != nil {
		t.Fatal(err)
	}
	defer fw.Close()
	o := &wxapi.OAuth{AppID: "wxapp", AppSecret: "secret", Base: fw.URL(), AuthorizeBase: fw.URL()}
	target := "http://page.example/callback?x=1"
	authorize := o.AuthorizeURL(target, "st8")
	if !strings.HasPrefix(authorize, fw.URL()+fakewx.PathOAuthAuthorize+"?appid=wxapp&redirect_uri=") || !strings.Contains(authorize, "scope=snsapi_base") {
		t.Fatalf("authorize URL %s", authorize)
	}
	jar, _ := cookiejar.New(nil)
	var landed *url.URL
	browser := &http.Client{Jar: jar, CheckRedirect: func(r *http.Request, _ []*http.Request) error {
		if r.URL.Host == "page.example" {
			landed = r.URL
			return http.ErrUseLastResponse
		}
		return nil
	}}
	// Outside WeChat (no user in the browser): refused.
	resp, err := browser.Get(authorize)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("authorize without a WeChat user: HTTP %d", resp.StatusCode)
	}
	resp, err = browser.Get(fw.BrowseAsURL("oDeputyX", authorize))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if landed == nil || landed.Query().Get("state") != "st8" || landed.Query().Get("x") != "1" || landed.Query().Get("code") == "" {
		t.Fatalf("redirected back to %v", landed)
	}
	code := landed.Query().Get("code")
	bad := &wxapi.OAuth{AppID: "wxapp", AppSecret: "wrong", Base: fw.URL()}
	if _, err := bad.Exchange(context.Background(), code); err == nil || !strings.Contains(err.Error(), "40125") {
		t.Errorf("a wrong secret: %v", err)
	}
	openid, err := o.Exchange(context.Background(), code)
	if err != nil || openid != "oDeputyX" {
		t.Fatalf("exchange: %q %v", openid, err)
	}
	if _, err := o.Exchange(context.Background(), code); err == nil || !strings.Contains(err.Error(), "40163") {
		t.Errorf("a code used twice: %v", err)
	}
	if _, err := o.Exchange(context.Background(), "nonsense"); err == nil || !strings.Contains(err.Error(), "40029") {
		t.Errorf("an unknown code: %v", err)
	}
	if strings.Contains(strings.Join(callPaths(fw), " "), "secret") {
		t.Error("recorded calls show the secret")
	}
}

func callPaths(fw *fakewx.Server) []string {
	var out []string
	for _, c := range fw.CallsTo(fakewx.PathOAuthToken) {
		out = append(out, c.Path)
	}
	return out
}
