package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/lianxin/lianxin"
)

// TestUserCommands: accounts made on the command line sign in to the
// console; the password comes on standard input; disabling and a new
// password sign the account out; every change is audited.
func TestUserCommands(t *testing.T) {
	ts := startService(t, testConfig(t))
	cli := func(stdin string, args ...string) (int, string, string) {
		var out, errOut strings.Builder
		code := run(context.Background(), args, ts.Env(), strings.NewReader(stdin), &out, &errOut)
		return code, out.String(), errOut.String()
	}
	if code, out, errOut := cli("clerk password 1\n", "user", "add", "pt-clerk", "--role", "staff", "--station", "pingtanjie", "--password-stdin"); code != 0 {
		t.Fatalf("user add: %d %s %s", code, out, errOut)
	}
	for _, tc := range []struct {
		stdin string
		args  []string
		want  string
	}{
		{"x\n", []string{"user", "add", "a", "--role", "admin", "--password-stdin"}, "user name"},
		{"long enough pw\n", []string{"user", "add", "bob", "--role", "boss", "--password-stdin"}, "--role must be one of"},
		{"long enough pw\n", []string{"user", "add", "bob", "--role", "staff", "--station", "nowhere", "--password-stdin"}, "--station"},
		{"long enough pw\n", []string{"user", "add", "bob", "--role", "deputy", "--deputy", "d-nobody", "--password-stdin"}, "--deputy"},
		{"short\n", []string{"user", "add", "bob", "--role", "admin", "--password-stdin"}, "at least 10"},
		{"", []string{"user", "add", "bob", "--role", "admin"}, "--password-stdin"},
		{"clerk password 1\n", []string{"user", "add", "pt-clerk", "--role", "admin", "--password-stdin"}, "already exists"},
	} {
		if code, _, errOut := cli(tc.stdin, tc.args...); code == 0 || !strings.Contains(errOut, tc.want) {
			t.Errorf("lianxin %s: exit %d, %q; want a refusal naming %q", strings.Join(tc.args, " "), code, errOut, tc.want)
		}
	}
	b := ts.Login(t, "pt-clerk", "clerk password 1")
	var users []lianxin.User
	_, out, _ := cli("", "user", "list", "--json")
	if err := json.Unmarshal([]byte(out), &users); err != nil || len(users) != 1 || users[0].StationID != "pingtanjie" {
		t.Fatalf("user list: %v %s", err, out)
	}
	if _, out, _ = cli("", "user", "list"); !strings.Contains(out, "平潭街") {
		t.Errorf("user list names the station: %s", out)
	}
	if code, _, errOut := cli("clerk password 2\n", "user", "passwd", "pt-clerk"); code != 0 {
		t.Fatalf("passwd: %s", errOut)
	}
	if code, _ := ts.Get(t, b, "/console/cases"); code != http.StatusSeeOther {
		t.Errorf("a new password leaves the old session signed in: HTTP %d", code)
	}
	b = ts.Login(t, "pt-clerk", "clerk password 2")
	if code, _, _ := cli("", "user", "disable", "pt-clerk"); code != 0 {
		t.Fatal("disable failed")
	}
	if code, _ := ts.Get(t, b, "/console/cases"); code != http.StatusSeeOther {
		t.Errorf("a disabled user stays signed in: HTTP %d", code)
	}
	log, _ := ts.DB.AuditLog(context.Background(), lianxin.AuditFilter{Subject: "user:pt-clerk"})
	if len(log) < 3 || !strings.HasPrefix(log[0].Actor, "cli:") {
		t.Errorf("user changes audited: %+v", log)
	}
}
