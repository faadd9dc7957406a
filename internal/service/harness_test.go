package service_test

import (
	"testing"

	"github.com/lianxin/lianxin/configs"
	"github.com/lianxin/lianxin/internal/servicetest"
	"github.com/lianxin/lianxin/internal/testenv"
	"github.com/lianxin/lianxin/internal/wxtest/fakewx"
)

// The end-to-end harness lives in internal/servicetest; these names keep the
// tests reading as they did.

type testService = servicetest.Running

const testToken = servicetest.Token

func testConfig(t testing.TB) configs.Config { return servicetest.Config(t) }

func startService(t testing.TB, cfg configs.Config, clock ...*testenv.Clock) *testService {
	t.Helper()
	return servicetest.Start(t, cfg, clock...)
}

func withFakeWeChat(t testing.TB, cfg *configs.Config) *fakewx.Server {
	t.Helper()
	return servicetest.WithFakeWeChat(t, cfg)
}

var (
	send        = servicetest.Send
	say         = servicetest.Say
	mustContain = servicetest.MustContain
)

// clipRunes shortens s to n characters for a log line.
func clipRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
