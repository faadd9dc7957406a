package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os/user"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/lianxin/lianxin"
	"github.com/lianxin/lianxin/internal/clitable"
	"github.com/lianxin/lianxin/web"
)

var usernameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{1,31}$`)

// minPassword is the console's own minimum.
const minPassword = web.MinPassword

// cmdUser manages console accounts. Passwords come on standard input, never
// as arguments (which the process list and shell history would show).
func cmdUser(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout io.Writer) error {
	if len(args) == 0 {
		return usageError("user")
	}
	env, err := openOperatorEnvFor(ctx, getenv, args[0] == "add") // the first account may come before the first serve
	if err != nil {
		return err
	}
	defer env.db.Close()
	dir, _, err := env.directory(ctx)
	if err != nil {
		return err
	}
	a := lianxin.AuditEntry{Actor: "cli:" + operatorName()}
	switch args[0] {
	case "add":
		var o options
		rest, err := parse("user add", &o, args[1:])
		if err != nil {
			return err
		}
		if len(rest) != 1 {
			return usageError("user add")
		}
		name := rest[0]
		role, station, deputy, fromStdin := &o.role, &o.station, &o.deputy, &o.passwordFromStdin
		if !usernameRE.MatchString(name) {
			return fmt.Errorf("user name %q: use 2 to 32 lower-case letters, digits, '.', '_' or '-'", name)
		}
		if !slices.Contains(lianxin.Roles, *role) {
			return fmt.Errorf("--role must be one of %s", strings.Join(lianxin.Roles, ", "))
		}
		u := lianxin.User{Username: name, Role: *role}
		switch *role {
		case lianxin.RoleStaff:
			st, ok := dir.Station(*station)
			if !ok {
				return fmt.Errorf("--station %q: a staff user needs the id of their station (see lianxin deputy list)", *station)
			}
			u.StationID = st.ID
		case lianxin.RoleDeputy:
			if _, ok := dir.Deputy(*deputy); !ok {
				return fmt.Errorf("--deputy %q: a deputy user needs their deputy id (see lianxin deputy list)", *deputy)
			}
			u.DeputyID = *deputy
		}
		if (*station != "" && *role != lianxin.RoleStaff) || (*deputy != "" && *role != lianxin.RoleDeputy) {
			return errors.New("--station is for staff and --deputy for deputies")
		}
		if !*fromStdin {
			return errors.New("give the password on standard input with --password-stdin")
		}
		hash, err := readPassword(stdin)
		if err != nil {
			return err
		}
		a.Action, a.Detail = lianxin.AuditUserAdd, *role+" "+u.StationID+u.DeputyID
		if _, err := env.db.AddUser(ctx, u, hash, a); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "added %s (%s)\n", name, *role)
		return nil
	case "list":
		var o options
		if rest, err := parse("user list", &o, args[1:]); err != nil {
			return err
		} else if len(rest) > 0 {
			return usageError("user list")
		}
		asJSON := &o.json
		users, err := env.db.Users(ctx)
		if err != nil {
			return err
		}
		if *asJSON {
			return writeJSON(stdout, users)
		}
		var tb clitable.Table
		tb.Row("USERNAME", "ROLE", "STATION", "DEPUTY", "DISABLED")
		for _, u := range users {
			disabled := ""
			if u.Disabled {
				disabled = "yes"
			}
			tb.Row(u.Username, u.Role, env.stationName(u.StationID), env.deputyName(u.DeputyID), disabled)
		}
		return tb.Write(stdout)
	case "disable", "enable":
		if len(args) != 2 {
			return usageError("user " + args[0])
		}
		a.Action = lianxin.AuditUserDisable
		a.Detail = args[0]
		if err := env.db.SetUserDisabled(ctx, args[1], args[0] == "disable", a); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%sd %s\n", args[0], args[1])
		return nil
	case "passwd":
		if len(args) != 2 {
			return usageError("user " + args[0])
		}
		hash, err := readPassword(stdin)
		if err != nil {
			return err
		}
		a.Action = lianxin.AuditUserPassword
		if err := env.db.SetPassword(ctx, args[1], hash, a); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "password changed for %s; its sessions are signed out\n", args[1])
		return nil
	}
	return usageError("user " + args[0])
}

// readPassword reads one line from stdin and hashes it.
func readPassword(stdin io.Reader) (string, error) {
	line, err := bufio.NewReader(io.LimitReader(stdin, 1024)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	pw := strings.TrimRight(line, "\r\n")
	if utf8.RuneCountInString(pw) < minPassword {
		return "", fmt.Errorf("the password must be at least %d characters", minPassword)
	}
	return web.HashPassword(pw)
}

// operatorName is who ran the CLI, for the audit log.
func operatorName() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return "unknown"
}
