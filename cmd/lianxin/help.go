package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// options are the values of every command's flags.
type options struct {
	json, dryRun, queue bool
	dead, pending, sent bool
	status, station, by string
	limit               int

	// The register's commands.
	ff                       filterFlags
	format, out, html        string
	reason, note, month      string
	unmasked, off, recompute bool
	year                     int

	// Console accounts.
	role, deputy      string
	passwordFromStdin bool

	// migrate-store.
	from, to string
	force    bool
}

// command is one operator command as help shows it. Its flags are declared
// once, by flags, which the command parses with and help lists, so help
// shows every flag there is.
type command struct {
	name  string // "cases list"
	args  string // its arguments, "NUMBER"
	what  string
	flags func(o *options) *flag.FlagSet // nil: none
}

// newFlags is a flag set for command name that reports nothing itself:
// the command returns its errors, with its usage.
func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

func jsonFlag(fs *flag.FlagSet, o *options) { fs.BoolVar(&o.json, "json", false, "print JSON") }

// byFlag is who acts, for the case's timeline.
func byFlag(fs *flag.FlagSet, o *options) {
	fs.StringVar(&o.by, "by", "", "your `NAME` on the case's timeline (default: your login name)")
}

var commands = []command{
	{name: "serve", what: "run the webhook service (configured by LIANXIN_* variables)"},
	{name: "cases list", what: "the case register, newest first", flags: func(o *options) *flag.FlagSet {
		fs := newFlags("cases list")
		jsonFlag(fs, o)
		fs.StringVar(&o.status, "status", "", "only cases in this `STATUS`: registered, accepted, forwarded, resolved, reopened, cancelled, or open (any of registered, accepted, forwarded, reopened); or a status's name as the register shows it")
		fs.StringVar(&o.station, "station", "", "only cases of this station or point: its `ID` or name (a station includes its points)")
		fs.IntVar(&o.limit, "limit", 0, "at most `N` cases")
		fs.BoolVar(&o.queue, "queue", false, "only the staff queue, oldest first: cases waiting for a person (人工, returned by every deputy, no station); with --station, that station's")
		return fs
	}},
	{name: "cases show", args: "NUMBER", what: "one case with its timeline; NUMBER may be today's short number (7) or a day's (20261127-7)", flags: func(o *options) *flag.FlagSet {
		fs := newFlags("cases show")
		jsonFlag(fs, o)
		return fs
	}},
	{name: "cases assign", args: "NUMBER DEPUTY", what: "give a case to a deputy (its id, see deputy list): the deputy and the resident are told", flags: func(o *options) *flag.FlagSet {
		fs := newFlags("cases assign")
		byFlag(fs, o)
		return fs
	}},
	{name: "cases reply", args: "NUMBER TEXT", what: "answer the resident as the station's staff; a case waiting to be taken up is taken up", flags: func(o *options) *flag.FlagSet {
		fs := newFlags("cases reply")
		byFlag(fs, o)
		return fs
	}},
	{name: "cases export", what: "the register (登记簿) of exactly the cases the filters select, as Excel or CSV; --unmasked is audited", flags: func(o *options) *flag.FlagSet {
		fs := newFlags("cases export")
		o.ff.register(fs)
		fs.StringVar(&o.format, "format", "", "`FORMAT`: xlsx or csv (default: from the file name)")
		fs.StringVar(&o.out, "o", "", "the `FILE` to write (- for standard output)")
		fs.BoolVar(&o.unmasked, "unmasked", false, "full phone numbers (audited)")
		return fs
	}},
	{name: "cases erase", args: "NUMBER", what: "a resident asked to be forgotten: erase their phone and WeChat identity from the case (audited; the case and its numbers stay)", flags: func(o *options) *flag.FlagSet {
		fs := newFlags("cases erase")
		fs.StringVar(&o.reason, "reason", "", "why, for the audit log (`TEXT`)")
		return fs
	}},
	{name: "cases typical", args: "NUMBER", what: "mark a typical case (典型案例) for the monthly report (audited)", flags: func(o *options) *flag.FlagSet {
		fs := newFlags("cases typical")
		fs.StringVar(&o.note, "note", "", "a sentence for the report: why it is typical (`TEXT`)")
		fs.BoolVar(&o.off, "off", false, "clear the mark")
		return fs
	}},
	{name: "stats", what: "the numbers: received, handled, resolved, open, overdue, 三率, times to accept and resolve, by category, station, deputy and source", flags: func(o *options) *flag.FlagSet {
		fs := newFlags("stats")
		fs.StringVar(&o.ff.month, "month", "", "the month (`YYYY-MM`, the stations' time zone); default: the whole register")
		fs.StringVar(&o.ff.station, "station", "", "a station with its points, or a point (`ID`)")
		jsonFlag(fs, o)
		fs.StringVar(&o.html, "html", "", "write the figures with their charts as an HTML page to this `FILE`")
		return fs
	}},
	{name: "report monthly", what: "the monthly report a station hands upward", flags: func(o *options) *flag.FlagSet {
		fs := newFlags("report monthly")
		fs.StringVar(&o.month, "month", "", "the month, `YYYY-MM` (required)")
		fs.StringVar(&o.station, "station", "", "a station (with its points) or a point (`ID`); default: the whole district")
		fs.StringVar(&o.format, "format", "html", "`FORMAT`: html (the default) or pdf (pdf needs Chromium)")
		fs.StringVar(&o.out, "o", "", "the `FILE` to write (default report-MONTH[-STATION].FORMAT)")
		fs.BoolVar(&o.recompute, "recompute", false, "compute a finished month's figures afresh and keep those (audited)")
		return fs
	}},
	{name: "categories suggest", args: "TEXT", what: "which category a resident's text belongs to"},
	{name: "import", what: "load configs/directory.yaml and categories.yaml into SQLite and list what changed; the open cases of deputies no longer in it go to others", flags: func(o *options) *flag.FlagSet {
		fs := newFlags("import")
		fs.BoolVar(&o.dryRun, "dry-run", false, "only show what would change")
		return fs
	}},
	{name: "deputy list", what: "deputies and whether their WeChat is bound", flags: func(o *options) *flag.FlagSet {
		fs := newFlags("deputy list")
		jsonFlag(fs, o)
		return fs
	}},
	{name: "deputy invite", args: "ID", what: "a one-time code the deputy sends as 绑定 CODE"},
	{name: "deputy record", args: "ID", what: "a deputy's record of a year (履职档案), for 述职", flags: func(o *options) *flag.FlagSet {
		fs := newFlags("deputy record")
		fs.IntVar(&o.year, "year", 0, "the `YEAR` (default: this year)")
		fs.StringVar(&o.format, "format", "html", "`FORMAT`: html (the default), xlsx or pdf (pdf needs Chromium)")
		fs.StringVar(&o.out, "o", "", "the `FILE` to write (default record-ID-YEAR.FORMAT)")
		return fs
	}},
	{name: "deputy unbind", args: "ID", what: "undo a deputy's WeChat binding (a lost phone); they bind again with a new code"},
	{name: "grid list", what: "grids (网格), their workers and whether each worker's WeChat is bound", flags: func(o *options) *flag.FlagSet {
		fs := newFlags("grid list")
		jsonFlag(fs, o)
		return fs
	}},
	{name: "grid invite", args: "WORKER", what: "a one-time code the grid worker sends as 绑定 CODE (the worker's id, see grid list)"},
	{name: "grid unbind", args: "WORKER", what: "undo a grid worker's WeChat binding (a lost phone); they bind again with a new code"},
	{name: "open311 key add", args: "NAME", what: "an API key for a system filing through Open311 (a 12345 hotline, a web form); NAME becomes its cases' source; the key is shown once"},
	{name: "open311 key list", what: "Open311 clients: name, when made and last used, live or revoked", flags: func(o *options) *flag.FlagSet {
		fs := newFlags("open311 key list")
		jsonFlag(fs, o)
		return fs
	}},
	{name: "open311 key revoke", args: "ID|NAME", what: "stop a client's Open311 key"},
	{name: "outbox", what: "notifications sent or still to send, and why not", flags: func(o *options) *flag.FlagSet {
		fs := newFlags("outbox")
		fs.BoolVar(&o.dead, "dead", false, "only sends given up on, with why")
		fs.BoolVar(&o.pending, "pending", false, "only sends still to go")
		fs.BoolVar(&o.sent, "sent", false, "only sends WeChat accepted")
		jsonFlag(fs, o)
		fs.IntVar(&o.limit, "limit", 50, "at most `N`, newest first")
		return fs
	}},
	{name: "migrate-store", what: "move the register from a SQLite file to PostgreSQL: every table in one transaction, then rows counted and checksummed on both sides (stop serve first)", flags: func(o *options) *flag.FlagSet {
		fs := newFlags("migrate-store")
		fs.StringVar(&o.from, "from", "", "the SQLite register, sqlite://`PATH`")
		fs.StringVar(&o.to, "to", "", "the PostgreSQL database, postgres://`USER:PASSWORD@HOST:PORT/DB`")
		fs.BoolVar(&o.force, "force", false, "empty the PostgreSQL database first when it holds anything (otherwise refused)")
		return fs
	}},
	{name: "user add", args: "USERNAME", what: "a console account: admins see every station, staff their station and its points, a deputy their own cases; the password is read from standard input", flags: func(o *options) *flag.FlagSet {
		fs := newFlags("user add")
		fs.StringVar(&o.role, "role", "", "`ROLE`: admin, staff or deputy")
		fs.StringVar(&o.station, "station", "", "a staff user's station (`ID`)")
		fs.StringVar(&o.deputy, "deputy", "", "a deputy user's deputy `ID`")
		fs.BoolVar(&o.passwordFromStdin, "password-stdin", false, "read the password from standard input (required: never as an argument)")
		return fs
	}},
	{name: "user list", what: "the console accounts", flags: func(o *options) *flag.FlagSet {
		fs := newFlags("user list")
		jsonFlag(fs, o)
		return fs
	}},
	{name: "user disable", args: "USERNAME", what: "sign an account out everywhere and refuse its sign-ins"},
	{name: "user enable", args: "USERNAME", what: "let a disabled account sign in again"},
	{name: "user passwd", args: "USERNAME", what: "a new password, read from standard input; signs the account out everywhere"},
	{name: "version", what: "print the version"},
}

// commandNamed returns the command called name.
func commandNamed(name string) command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	panic("lianxin: no command " + name)
}

// parse parses args with the flags of command name, accepting flags before
// and after the arguments; it returns the arguments.
func parse(name string, o *options, args []string) ([]string, error) {
	c := commandNamed(name)
	fs := newFlags(name)
	if c.flags != nil {
		fs = c.flags(o)
	}
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, fmt.Errorf("%v\n%s", err, c.usage())
		}
		args = fs.Args()
		if len(args) == 0 {
			return positional, nil
		}
		positional, args = append(positional, args[0]), args[1:]
	}
}

// usage is the command's synopsis and its flags, as help shows them.
func (c command) usage() string {
	var b strings.Builder
	b.WriteString("  lianxin " + c.name)
	if c.args != "" {
		b.WriteString(" " + c.args)
	}
	if c.flags != nil {
		b.WriteString(" [flags]")
	}
	b.WriteString("\n      " + c.what + "\n")
	if c.flags != nil {
		c.flags(new(options)).VisitAll(func(f *flag.Flag) {
			name, what := flag.UnquoteUsage(f)
			flagName := "--" + f.Name
			if len(f.Name) == 1 {
				flagName = "-" + f.Name // -o, as the README writes it
			}
			if name != "" {
				flagName += " " + name
			}
			fmt.Fprintf(&b, "      %-18s %s\n", flagName, what)
		})
	}
	return b.String()
}

// usageError is the usage of the commands starting with prefix, as an error.
func usageError(prefix string) error {
	var b strings.Builder
	b.WriteString("usage:\n")
	for _, c := range commands {
		if strings.HasPrefix(c.name, prefix) {
			b.WriteString(c.usage())
		}
	}
	return errors.New(strings.TrimRight(b.String(), "\n"))
}

// usage is `lianxin help`: every command with every flag.
func usage() string {
	var b strings.Builder
	b.WriteString("lianxin — WeChat service for people's-congress deputy liaison stations\n\nUsage:\n")
	for _, c := range commands {
		b.WriteString(c.usage())
	}
	b.WriteString(`
Configuration comes from configs/lianxin.yaml and LIANXIN_* environment
variables; see README.md. Developer tools (a WeChat chat simulator, a fake
WeChat API, the benchmark) are in lianxin-dev: go run ./cmd/lianxin-dev help.
`)
	return b.String()
}
