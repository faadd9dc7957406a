package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/lianxin/lianxin"
	"github.com/lianxin/lianxin/internal/testenv"
)

// The webhook cannot wait for a stalled journal past WeChat's deadline:
// JournalBy gives up waiting then, and the record still lands afterwards.
func TestJournalByGivesUpWaitingAtTheDeadline(t *testing.T) {
	testenv.EachEngine(t, func(t *testing.T, dsn func() string) {
		db := openTest(t, dsn())
		ctx := context.Background()
		m := &lianxin.Inbound{Account: "gh", OpenID: "oStall", Kind: lianxin.KindText, MsgID: 4242, CreateTime: time.Now().Unix(), Text: "帮助"}
		// Another write holds the writer (SQLite) or the row's key
		// (PostgreSQL) until released, and then fails.
		holding, release := make(chan struct{}), make(chan struct{})
		held := make(chan error, 1)
		go func() {
			held <- db.Tx(ctx, func(tx *Tx) error {
				if _, err := tx.Exec(`INSERT INTO journal (account, msg_key, openid, kind, payload, sent_at, received_at, outcome)
					VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, m.Account, m.Key(), m.OpenID, "text", "{}", time.Now().UTC(), time.Now().UTC(), "replied"); err != nil {
					return err
				}
				close(holding)
				<-release
				return errors.New("the stalled write gives up")
			})
		}()
		<-holding
		t0 := time.Now()
		_, err := db.JournalBy(time.Now().Add(200*time.Millisecond), m, lianxin.OutcomeReplied, "使用帮助", nil, false)
		if !errors.Is(err, ErrWriteSlow) {
			t.Fatalf("journal behind a stalled write: %v, want ErrWriteSlow", err)
		}
		if waited := time.Since(t0); waited > 2*time.Second {
			t.Errorf("waited %s for a 200 ms deadline", waited)
		}
		close(release)
		if err := <-held; err == nil {
			t.Fatal("the stalled write should have failed")
		}
		// The record lands once the writer is free.
		deadline := time.Now().Add(10 * time.Second)
		for {
			var reply string
			err := db.read.GetContext(ctx, &reply, `SELECT reply FROM journal WHERE account = ? AND msg_key = ?`, m.Account, m.Key())
			if err == nil && reply == "使用帮助" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the record did not land: %q %v", reply, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
		// And one that is not held up is journaled as Journal would.
		m2 := *m
		m2.MsgID = 4243
		j, err := db.JournalBy(time.Now().Add(5*time.Second), &m2, lianxin.OutcomeReplied, "菜单", nil, true)
		if err != nil || !j.Fresh || j.ID == 0 {
			t.Errorf("JournalBy: %+v %v", j, err)
		}
		if again, err := db.JournalBy(time.Now().Add(5*time.Second), &m2, lianxin.OutcomeReplied, "别的", nil, false); err != nil || again.Fresh || again.Reply != "菜单" || again.ID != j.ID {
			t.Errorf("a retry: %+v %v, want the first record", again, err)
		}
	})
}
