// Command lianxin-dev holds the developer tools: sim (chat with lianxin as a
// WeChat user), fakewx (a fake WeChat API on loopback) and bench (lianxin
// side by side with the peers it is measured against). They link the test
// doubles (internal/wxtest), which the production binary, cmd/lianxin, must
// not. See `lianxin-dev help`.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	_ "time/tzdata" // Asia/Shanghai on machines without a zoneinfo database
)

const usage = `lianxin-dev — developer tools for lianxin

Usage:
  lianxin-dev sim [flags]      chat with lianxin as a WeChat user: against a running
                               serve, or (-fakewx) an in-process one with a fake WeChat API
  lianxin-dev fakewx [flags]   run the fake WeChat API on loopback
  lianxin-dev bench [flags]    throughput and latency beside the bare SDK and net/http
  lianxin-dev register-demo [-db FILE] [-cases N]
                               a demo register (October 2026 by hand, plus cases in bulk)

Configuration comes from configs/lianxin.yaml and LIANXIN_* environment
variables, as for lianxin serve; see README.md.
`

func main() {
	// As serve does (cmd/lianxin): the in-process service collects garbage
	// less often; GOGC overrides this.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr))
}

// run is main without the process: testable, and it returns the exit code.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	cmd, rest := args[0], args[1:]
	var err error
	switch cmd {
	case "sim":
		err = cmdSim(ctx, rest, getenv, stdin, stdout, stderr)
	case "fakewx":
		err = cmdFakewx(ctx, rest, getenv, stdout, stderr)
	case "bench":
		err = cmdBench(ctx, rest, getenv, stdout, stderr)
	case "register-demo":
		err = cmdRegisterDemo(ctx, rest, getenv, stdout)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "lianxin-dev: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	if err != nil {
		fmt.Fprintf(stderr, "lianxin-dev %s: %v\n", cmd, err)
		return 1
	}
	return 0
}
