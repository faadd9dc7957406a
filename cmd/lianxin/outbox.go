package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"

	"github.com/lianxin/lianxin"
	"github.com/lianxin/lianxin/bot"
	"github.com/lianxin/lianxin/internal/clitable"
)

// cmdOutbox shows what lianxin has sent or is still trying to send: for an
// operator checking why a deputy says they were never told.
func cmdOutbox(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	var o options
	if rest, err := parse("outbox", &o, args); err != nil {
		return err
	} else if len(rest) > 0 {
		return usageError("outbox")
	}
	dead, pending, sent, asJSON, limit := &o.dead, &o.pending, &o.sent, &o.json, &o.limit
	status := ""
	for flagSet, s := range map[*bool]string{dead: lianxin.OutboxDead, pending: lianxin.OutboxPending, sent: lianxin.OutboxSent} {
		if *flagSet {
			if status != "" {
				return usageError("outbox")
			}
			status = s
		}
	}
	env, err := openOperatorEnv(ctx, getenv)
	if err != nil {
		return err
	}
	defer env.db.Close()
	rows, err := env.db.OutboxWithStatus(ctx, status, *limit)
	if err != nil {
		return err
	}
	type row struct {
		ID        int64  `json:"id"`
		Status    string `json:"status"`
		Kind      string `json:"kind"`
		Via       string `json:"via,omitempty"`
		Recipient string `json:"recipient"`
		Case      string `json:"case,omitempty"`
		Attempts  int    `json:"attempts"`
		LastError string `json:"last_error,omitempty"`
		Text      string `json:"text"`
		Created   string `json:"created_at"`
	}
	out := make([]row, len(rows))
	for i, m := range rows {
		var p struct {
			Text    string `json:"text"`
			Content string `json:"content"`
		}
		json.Unmarshal([]byte(m.Payload), &p)
		r := row{ID: m.ID, Status: m.Status, Kind: m.Kind, Via: m.Via, Recipient: bot.MaskRecipient(m.Kind, m.Recipient),
			Attempts: m.Attempts, LastError: m.LastError, Text: p.Text + p.Content, Created: env.local(m.CreatedAt)}
		if m.CaseID != nil {
			r.Case = fmt.Sprint(*m.CaseID)
		}
		out[i] = r
	}
	if *asJSON {
		return writeJSON(stdout, out)
	}
	if len(out) == 0 {
		fmt.Fprintln(stdout, "nothing in the outbox")
		return nil
	}
	var tb clitable.Table
	tb.Row("ID", "STATUS", "KIND", "TO", "TRIES", "CREATED", "TEXT", "LAST ERROR")
	for _, r := range out {
		tb.Row(strconv.FormatInt(r.ID, 10), r.Status, r.Kind, r.Recipient, strconv.Itoa(r.Attempts), r.Created, oneLine(r.Text, 20), r.LastError)
	}
	return tb.Write(stdout)
}
