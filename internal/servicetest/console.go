package servicetest

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/lianxin/lianxin"
	"github.com/lianxin/lianxin/web"
)

// AddUser creates a console account directly in the service's database.
func (r *Running) AddUser(t testing.TB, username, role, station, deputy, password string) lianxin.User {
	t.Helper()
	hash, err := web.HashPassword(password)
	if err != nil {
		t.Fatal(err)
	}
	u, err := r.DB.AddUser(context.Background(), lianxin.User{Username: username, Role: role, StationID: station, DeputyID: deputy}, hash,
		lianxin.AuditEntry{Actor: "test", Action: lianxin.AuditUserAdd})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// Browser is an HTTP client with a cookie jar that does not follow
// redirects, so tests see each answer as a browser gets it.
func (r *Running) Browser(t testing.TB) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := *r.Server.Client()
	c.Jar = jar
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

// Login signs a new browser in to the console and returns it.
func (r *Running) Login(t testing.TB, username, password string) *http.Client {
	t.Helper()
	b := r.Browser(t)
	resp, err := b.PostForm(r.Server.URL+"/console/login", url.Values{"username": {username}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login %s: HTTP %d\n%s", username, resp.StatusCode, body)
	}
	return b
}

// Get fetches a console page and returns the status and the body.
func (r *Running) Get(t testing.TB, b *http.Client, path string) (int, string) {
	t.Helper()
	resp, err := b.Get(r.Server.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// Post submits a console form and returns the status, the Location and the body.
func (r *Running) Post(t testing.TB, b *http.Client, path string, form url.Values) (int, string, string) {
	t.Helper()
	resp, err := b.Post(r.Server.URL+path, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(body)
}
