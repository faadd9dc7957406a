package main

import (
	"testing"

	"github.com/lianxin/lianxin/configs"
	"github.com/lianxin/lianxin/internal/servicetest"
	"github.com/lianxin/lianxin/internal/testenv"
)

// The end-to-end harness lives in internal/servicetest; these names keep the
// tests reading as they did.

type testService = servicetest.Running

func testConfig(t testing.TB) configs.Config { return servicetest.Config(t) }

func startService(t testing.TB, cfg configs.Config, clock ...*testenv.Clock) *testService {
	t.Helper()
	return servicetest.Start(t, cfg, clock...)
}

var (
	say         = servicetest.Say
	send        = servicetest.Send
	mustContain = servicetest.MustContain
)
