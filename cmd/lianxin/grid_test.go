package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/lianxin/lianxin/internal/wxtest/wxsim"
)

// TestGridInviteAndBinding: lianxin grid invite makes the code a grid
// worker binds with; grid list shows it bound; grid unbind undoes it.
func TestGridInviteAndBinding(t *testing.T) {
	ts := startService(t, testConfig(t))
	out := runCLI(t, ts, "grid", "invite", "w-st-1")
	code := strings.TrimSpace(strings.SplitN(out, "\n", 2)[0])
	if len(code) != 6 || !strings.Contains(out, "绑定 "+code) || !strings.Contains(out, "张网格") {
		t.Fatalf("invite output: %q", out)
	}
	c := ts.Client(wxsim.Safe)
	const worker = "oGridCLIWorker00000000001"
	mustContain(t, say(t, c, worker, "绑定 "+code), "绑定成功", "水滩第一网格")
	var list []struct {
		Worker string `json:"worker"`
		Bound  bool   `json:"bound"`
	}
	if err := json.Unmarshal([]byte(runCLI(t, ts, "grid", "list", "--json")), &list); err != nil || len(list) != 3 {
		t.Fatalf("grid list: %v %+v", err, list)
	}
	for _, w := range list {
		if w.Bound != (w.Worker == "w-st-1") {
			t.Errorf("%s bound=%v", w.Worker, w.Bound)
		}
	}
	if out := runCLI(t, ts, "grid", "unbind", "w-st-1"); !strings.Contains(out, "grid invite w-st-1") {
		t.Errorf("unbind: %q", out)
	}
	mustContain(t, say(t, c, worker, "代报"), "网格员替群众反映问题用的")
	var errOut strings.Builder
	if code := run(context.Background(), []string{"grid", "invite", "w-nobody"}, ts.Env(), nil, &strings.Builder{}, &errOut); code != 1 ||
		!strings.Contains(errOut.String(), "no grid worker") {
		t.Errorf("invite for an unknown worker: %d %q", code, errOut.String())
	}
}

// TestOpen311Keys: lianxin open311 key add shows a key once; list shows the
// client; revoke stops it.
func TestOpen311Keys(t *testing.T) {
	ts := startService(t, testConfig(t))
	out := runCLI(t, ts, "open311", "key", "add", "12345热线")
	key := strings.TrimSpace(strings.SplitN(out, "\n", 2)[0])
	if !strings.HasPrefix(key, "lx311_") || !strings.Contains(out, "shown this once") {
		t.Fatalf("key add: %q", out)
	}
	if _, err := ts.DB.Open311Client(context.Background(), key); err != nil {
		t.Fatalf("the key made does not work: %v", err)
	}
	if out := runCLI(t, ts, "open311", "key", "list"); !strings.Contains(out, "12345热线") || !strings.Contains(out, "live") {
		t.Errorf("key list: %q", out)
	}
	if out := runCLI(t, ts, "open311", "key", "revoke", "12345热线"); !strings.Contains(out, "revoked") {
		t.Errorf("revoke: %q", out)
	}
	if _, err := ts.DB.Open311Client(context.Background(), key); err == nil {
		t.Error("a revoked key still works")
	}
	if out := runCLI(t, ts, "open311", "key", "list", "--json"); !strings.Contains(out, `"revoked_at"`) {
		t.Errorf("key list --json: %q", out)
	}
}
