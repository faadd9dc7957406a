package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/lianxin/lianxin"
	"github.com/lianxin/lianxin/internal/testenv"
)

func TestClaimOutboxInOrderPerRecipient(t *testing.T) {
	testenv.EachEngine(t, func(t *testing.T, dsn func() string) {
		ctx := context.Background()
		db := openQueueDB(t, dsn())
		for _, m := range []struct{ key, to, text string }{
			{"k1", "oA", "a1"}, {"k2", "oA", "a2"}, {"k3", "oB", "b1"}, {"k4", "oA", "a3"},
		} {
			if err := db.Enqueue(ctx, m.key, lianxin.OutboxText, m.to, lianxin.TextPayload{Text: m.text}, nil); err != nil {
				t.Fatal(err)
			}
		}
		// Idempotent per key.
		if err := db.Enqueue(ctx, "k1", lianxin.OutboxText, "oA", lianxin.TextPayload{Text: "again"}, nil); err != nil {
			t.Fatal(err)
		}

		msgs, err := db.ClaimOutbox(ctx, "w1", qt0, time.Minute, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) != 2 || msgs[0].IdemKey != "k1" || msgs[1].IdemKey != "k3" || msgs[0].Attempts != 1 {
			t.Fatalf("first claim: %+v (want the head of each recipient's queue)", msgs)
		}
		var p lianxin.NotifyPayload
		if err := json.Unmarshal([]byte(msgs[0].Payload), &p); err != nil || p.Text != "a1" || p.Template != nil {
			t.Errorf("payload %s as lianxin.NotifyPayload: %+v, %v", msgs[0].Payload, p, err)
		}
		// While a1 is in flight, a2 waits.
		if more, _ := db.ClaimOutbox(ctx, "w2", qt0, time.Minute, 10); len(more) != 0 {
			t.Fatalf("claimed behind an in-flight message: %+v", more)
		}
		if err := db.MarkOutboxSent(ctx, msgs[0].ID, "w1", "custom", qt0); err != nil {
			t.Fatal(err)
		}
		// a1 failing later would have held a2 back; a1 sent releases it.
		more, _ := db.ClaimOutbox(ctx, "w2", qt0, time.Minute, 10)
		if len(more) != 1 || more[0].IdemKey != "k2" {
			t.Fatalf("after a1 was sent: %+v", more)
		}
		if err := db.RetryOutbox(ctx, more[0].ID, "w2", qt0.Add(time.Minute), "wxapi: custom/send: HTTP 503"); err != nil {
			t.Fatal(err)
		}
		if held, _ := db.ClaimOutbox(ctx, "w2", qt0.Add(30*time.Second), time.Minute, 10); len(held) != 0 {
			t.Fatalf("a3 overtook a2, or a2 was claimed early: %+v", held)
		}
		if err := db.MarkOutboxDead(ctx, msgs[1].ID, "w2", "x"); !errors.Is(err, lianxin.ErrLeaseLost) {
			t.Errorf("dead by a worker without the lease: %v", err)
		}
		if err := db.MarkOutboxDead(ctx, msgs[1].ID, "w1", "wxapi: custom/send: errcode 40003: invalid openid"); err != nil {
			t.Fatal(err)
		}

		sent, _ := db.OutboxMessage(ctx, msgs[0].ID)
		if sent.Status != lianxin.OutboxSent || sent.Via != "custom" || sent.SentAt == nil || !sent.SentAt.Equal(qt0) || sent.LeaseOwner != "" {
			t.Errorf("sent row: %+v", sent)
		}
		dead, _ := db.OutboxMessage(ctx, msgs[1].ID)
		if dead.Status != lianxin.OutboxDead || dead.LastError == "" {
			t.Errorf("dead row: %+v", dead)
		}
		waiting, _ := db.OutboxMessage(ctx, more[0].ID)
		if waiting.Status != lianxin.OutboxPending || !waiting.NextAttempt.Equal(qt0.Add(time.Minute)) || waiting.LastError == "" || waiting.Attempts != 1 {
			t.Errorf("waiting row: %+v", waiting)
		}
		if _, err := db.OutboxMessage(ctx, 999); err == nil {
			t.Error("missing row: no error")
		}
	})
}

// A notice held back (Delay) waits without holding up what comes after it
// for the same recipient, and can be amended until it goes out: replaced
// while it waits, followed up once it has gone.
func TestHeldNoticesWaitAndCanBeAmended(t *testing.T) {
	testenv.EachEngine(t, func(t *testing.T, dsn func() string) {
		ctx := context.Background()
		db := openQueueDB(t, dsn())
		num := lianxin.CaseNumbering{Prefix: "KQ", Location: time.UTC}
		notice := func(key, text string, delay time.Duration) lianxin.Notice {
			return lianxin.Notice{IdemKey: key, Kind: lianxin.OutboxText, Recipient: "deputy:d1", Payload: lianxin.TextPayload{Text: text}, Delay: delay}
		}
		r := lianxin.Report{SourceKey: "gh:held", OpenID: "oR", Category: lianxin.Category{Key: "heating"}, Description: "暖气不热"}
		c, _, err := db.CreateCase(ctx, num, r, nil, []lianxin.Notice{notice("held", "重办", 10*time.Minute), notice("later", "新反映", 0)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		got, err := db.ClaimOutbox(ctx, "w", qt0, time.Minute, 10)
		if err != nil || len(got) != 1 || got[0].IdemKey != "later" {
			t.Fatalf("claimed %+v, %v; want only the notice after the held one", got, err)
		}
		amend := func(key string) lianxin.NoticeAmendment {
			return lianxin.NoticeAmendment{Drop: "held", Replacement: notice(key+":full", "重办：还是不热", 0), FollowUp: notice(key+":more", "补充：还是不热", 0)}
		}
		if err := db.AmendNotices(ctx, c.ID, []lianxin.Event{{Type: lianxin.EventFollowUp, Text: "还是不热", Audience: lianxin.AudienceResident}}, []lianxin.NoticeAmendment{amend("a1")}); err != nil {
			t.Fatal(err)
		}
		// The held row is gone; the replacement is what remains. Amending again
		// (the row is no longer waiting) queues the follow-up instead.
		if err := db.AmendNotices(ctx, c.ID, nil, []lianxin.NoticeAmendment{amend("a2")}); err != nil {
			t.Fatal(err)
		}
		rows, _ := db.Outbox(ctx, 10)
		status := map[string]string{}
		for _, m := range rows {
			status[m.IdemKey] = m.Status
		}
		want := map[string]string{"held": lianxin.OutboxDropped, "later": lianxin.OutboxPending, "a1:full": lianxin.OutboxPending, "a2:more": lianxin.OutboxPending}
		if fmt.Sprint(status) != fmt.Sprint(want) {
			t.Errorf("outbox %v, want %v", status, want)
		}
		full, _ := db.Case(ctx, c.Number)
		if n := len(full.Events); n != 1 || full.Events[0].Audience != lianxin.AudienceResident {
			t.Errorf("events %+v", full.Events)
		}
	})
}
