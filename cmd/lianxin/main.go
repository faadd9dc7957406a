// Command lianxin runs the deputy liaison stations' WeChat service (serve)
// and the tools its operators use on the server: the case register, the
// directory, deputies' bindings, the outbox. Developer tools (sim, fakewx,
// bench) are in cmd/lianxin-dev, so this binary links no test double. See
// `lianxin help`.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	_ "time/tzdata" // Asia/Shanghai on machines without a zoneinfo database

	"github.com/lianxin/lianxin"
)

// Set by the build (-ldflags "-X main.version=...").
var version = "dev"

func main() {
	// The service's heap is small (sessions live in Redis, cases in SQLite)
	// and allocation-heavy per request; collecting less often costs a few
	// tens of MiB and saves CPU on every message. GOGC overrides this.
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
		fmt.Fprint(stderr, usage())
		return 2
	}
	cmd, rest := args[0], args[1:]
	var err error
	switch cmd {
	case "serve":
		err = cmdServe(ctx, rest, getenv, stderr)
	case "cases":
		err = cmdCases(ctx, rest, getenv, stdout)
	case "categories":
		err = cmdCategories(ctx, rest, getenv, stdout)
	case "import":
		err = cmdImport(ctx, rest, getenv, stdout)
	case "deputy":
		err = cmdDeputy(ctx, rest, getenv, stdout)
	case "grid":
		err = cmdGrid(ctx, rest, getenv, stdout)
	case "open311":
		err = cmdOpen311(ctx, rest, getenv, stdout)
	case "stats":
		err = cmdStats(ctx, rest, getenv, stdout)
	case "report":
		err = cmdReport(ctx, rest, getenv, stdout)
	case "user":
		err = cmdUser(ctx, rest, getenv, stdin, stdout)
	case "outbox":
		err = cmdOutbox(ctx, rest, getenv, stdout)
	case "migrate-store":
		err = cmdMigrateStore(ctx, rest, stdout)
	case "version", "--version":
		fmt.Fprintf(stdout, "lianxin %s\n", version)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage())
	default:
		fmt.Fprintf(stderr, "lianxin: unknown command %q\n\n%s", cmd, usage())
		return 2
	}
	if err != nil {
		if code := lianxin.ErrorCode(err); code != lianxin.EINTERNAL {
			// A refusal (unknown deputy, case closed …): its own sentence,
			// not the layers it passed through.
			err = errors.New(lianxin.ErrorMessage(err))
		}
		fmt.Fprintf(stderr, "lianxin %s: %v\n", cmd, err)
		return 1
	}
	return 0
}
