package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/lianxin/lianxin"
	"github.com/lianxin/lianxin/internal/testenv"
)

func TestClaimOutboxInOrderPerRecipient(t *testing.T) {
	ctx := context.Background()
	db := openQueueDB(t, testenv.DBPath(t))
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
}
