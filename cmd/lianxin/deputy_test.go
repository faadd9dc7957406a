package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/lianxin/lianxin/internal/wxtest/wxsim"
)

func TestDeputyInviteAndBinding(t *testing.T) {
	ts := startService(t, testConfig(t))
	out := runCLI(t, ts, "deputy", "invite", "d-st-02")
	code := strings.TrimSpace(strings.SplitN(out, "\n", 2)[0])
	if len(code) != 6 || !strings.Contains(out, "绑定 "+code) {
		t.Fatalf("invite output: %q", out)
	}
	c := ts.Client(wxsim.Safe)
	const deputy = "oBindDeputy0000000000001"
	// Guessing is limited: after five wrong codes even the right one is refused for a while.
	for i := 0; i < 5; i++ {
		mustContain(t, say(t, c, deputy, "绑定 00000"+string(rune('0'+i))), "不对或已过期")
	}
	mustContain(t, say(t, c, deputy, "绑定 "+code), "错误次数太多")

	other := "oBindOther00000000000001"
	mustContain(t, say(t, c, other, "绑定 "+code), "绑定成功", "郑示范")
	mustContain(t, say(t, c, other, "绑定 "+code), "不对或已过期") // one-time
	var list []struct {
		ID    string `json:"id"`
		Bound bool   `json:"bound"`
	}
	json.Unmarshal([]byte(runCLI(t, ts, "deputy", "list", "--json")), &list)
	for _, d := range list {
		if d.Bound != (d.ID == "d-st-02") {
			t.Errorf("deputy %s bound=%v", d.ID, d.Bound)
		}
	}
	var errOut strings.Builder
	if code := run(context.Background(), []string{"deputy", "invite", "d-nobody"}, ts.Env(), nil, &strings.Builder{}, &errOut); code != 1 || !strings.Contains(errOut.String(), "no active deputy") {
		t.Errorf("invite for an unknown deputy: %d %q", code, errOut.String())
	}
}

// TestDeputyUnbindForALostPhone: a deputy's phone is lost; staff unbind it,
// and whoever has it can no longer act as the deputy (the deputy binds
// again with a new code).
func TestDeputyUnbindForALostPhone(t *testing.T) {
	ts := startService(t, testConfig(t))
	c := ts.Client(wxsim.Safe)
	const lost = "oLostPhone00000000000001"
	code := strings.TrimSpace(strings.SplitN(runCLI(t, ts, "deputy", "invite", "d-st-02"), "\n", 2)[0])
	mustContain(t, say(t, c, lost, "绑定 "+code), "绑定成功")
	mustContain(t, say(t, c, lost, "我的"), "在办的反映")

	out := runCLI(t, ts, "deputy", "unbind", "d-st-02")
	for _, want := range []string{"郑示范", "deputy invite d-st-02"} {
		if !strings.Contains(out, want) {
			t.Errorf("unbind says %q, want it to mention %q", out, want)
		}
	}
	if reply := say(t, c, lost, "我的"); strings.Contains(reply, "在办的反映") {
		t.Errorf("the lost phone still acts as the deputy: %q", reply)
	}
	var list []struct {
		ID    string `json:"id"`
		Bound bool   `json:"bound"`
	}
	json.Unmarshal([]byte(runCLI(t, ts, "deputy", "list", "--json")), &list)
	for _, d := range list {
		if d.ID == "d-st-02" && d.Bound {
			t.Error("d-st-02 is still bound")
		}
	}
	if out := runCLI(t, ts, "deputy", "unbind", "d-st-02"); !strings.Contains(out, "not bound") {
		t.Errorf("unbinding again: %q", out)
	}
	var errOut strings.Builder
	if code := run(context.Background(), []string{"deputy", "unbind", "d-nobody"}, ts.Env(), nil, &strings.Builder{}, &errOut); code != 1 || !strings.Contains(errOut.String(), "no deputy") {
		t.Errorf("unbind an unknown deputy: %d %q", code, errOut.String())
	}
}
