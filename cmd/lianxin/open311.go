package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/lianxin/lianxin"
	"github.com/lianxin/lianxin/internal/clitable"
)

// cmdOpen311 manages the API keys of the systems that file through the
// Open311 GeoReport v2 endpoint (a 12345 hotline, a web form).
func cmdOpen311(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) < 2 || args[0] != "key" {
		return usageError("open311")
	}
	env, err := openOperatorEnv(ctx, getenv)
	if err != nil {
		return err
	}
	defer env.db.Close()
	a := lianxin.AuditEntry{Actor: actor(getenv)}
	switch args[1] {
	case "add":
		if len(args) != 3 {
			return usageError("open311 key add")
		}
		key, c, err := env.db.CreateOpen311Key(ctx, args[2], a)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s\n", key)
		fmt.Fprintf(stdout, "The API key of %s (id %d), shown this once: only its hash is kept. Its cases' source is %q.\n", c.Name, c.ID, c.Name)
		return nil
	case "list":
		var o options
		if rest, err := parse("open311 key list", &o, args[2:]); err != nil {
			return err
		} else if len(rest) > 0 {
			return usageError("open311 key list")
		}
		keys, err := env.db.Open311Keys(ctx)
		if err != nil {
			return err
		}
		if o.json {
			return writeJSON(stdout, keys)
		}
		loc := env.cfg.Location()
		var tb clitable.Table
		tb.Row("ID", "NAME", "CREATED", "LAST USED", "STATE")
		for _, k := range keys {
			used, state := "-", "live"
			if k.LastUsedAt != nil {
				used = k.LastUsedAt.In(loc).Format("2006-01-02 15:04")
			}
			if k.RevokedAt != nil {
				state = "revoked " + k.RevokedAt.In(loc).Format("2006-01-02 15:04")
			}
			tb.Row(strconv.FormatInt(k.ID, 10), k.Name, k.CreatedAt.In(loc).Format("2006-01-02 15:04"), used, state)
		}
		return tb.Write(stdout)
	case "revoke":
		if len(args) != 3 {
			return usageError("open311 key revoke")
		}
		c, err := env.db.RevokeOpen311Key(ctx, strings.TrimSpace(args[2]), a)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "revoked the key of %s (id %d): its requests are refused from now on\n", c.Name, c.ID)
		return nil
	}
	return usageError("open311")
}
