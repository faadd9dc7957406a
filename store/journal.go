package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/lianxin/lianxin"
)

// Journal records a message with what became of it and the reply it got,
// and returns once the record is on disk. The result is not Fresh when
// (account, msg key) was already journaled: a WeChat retry, which leaves the
// first record as it is and returns its outcome and reply. The resident's
// last-inbound time (the 48-hour customer-service window) is updated in the
// same transaction, and so is the request's nonce (n, when not nil) in the
// replay guard's memory: with n.Check a nonce recorded with another body
// refuses the message (lianxin.ErrReplay) and nothing is written.
func (db *DB) Journal(ctx context.Context, m *lianxin.Inbound, outcome lianxin.Outcome, reply string, n *lianxin.Nonce) (_ lianxin.Journaled, err error) {
	defer wrap(&err, "Journal(%s %d)", m.Kind, m.MsgID)
	return db.journal(ctx, m, outcome, reply, n, true)
}

// JournalCommitted is Journal returning once the record is committed: it
// survives the process being killed, and reaches the disk with the next
// sync, milliseconds later. It is for messages whose reply acknowledges
// nothing kept in SQLite (a conversation step, whose state lives in Redis):
// a power cut in those milliseconds loses no more than Redis's own
// persistence would. A reply that acknowledges a case, a photo or a deputy's
// action uses Journal, whose sync covers those writes too.
func (db *DB) JournalCommitted(ctx context.Context, m *lianxin.Inbound, outcome lianxin.Outcome, reply string, n *lianxin.Nonce) (_ lianxin.Journaled, err error) {
	defer wrap(&err, "JournalCommitted(%s %d)", m.Kind, m.MsgID)
	return db.journal(ctx, m, outcome, reply, n, false)
}

// JournalBy is Journal when durable, else JournalCommitted, for a caller
// that must answer by deadline: it stops waiting then (ErrWriteSlow),
// although the record still lands. The webhook waits this way for the
// writer itself, without a goroutine of its own per message.
func (db *DB) JournalBy(deadline time.Time, m *lianxin.Inbound, outcome lianxin.Outcome, reply string, n *lianxin.Nonce, durable bool) (_ lianxin.Journaled, err error) {
	defer wrap(&err, "Journal(%s %d)", m.Kind, m.MsgID)
	if db.w == nil {
		// PostgreSQL: the transaction runs in the caller's goroutine, so
		// one of its own waits for it.
		type result struct {
			j   lianxin.Journaled
			err error
		}
		done := make(chan result, 1)
		go func() {
			j, err := db.journal(context.Background(), m, outcome, reply, n, durable)
			done <- result{j, err}
		}()
		t := time.NewTimer(time.Until(deadline))
		defer t.Stop()
		select {
		case r := <-done:
			return r.j, r.err
		case <-t.C:
			return lianxin.Journaled{}, ErrWriteSlow
		}
	}
	return db.journalWith(m, outcome, reply, n, func(fn func(*Tx) error) error { return db.w.doBy(deadline, fn, durable) })
}

func (db *DB) journal(ctx context.Context, m *lianxin.Inbound, outcome lianxin.Outcome, reply string, n *lianxin.Nonce, durable bool) (j lianxin.Journaled, err error) {
	return db.journalWith(m, outcome, reply, n, func(fn func(*Tx) error) error { return db.write(ctx, fn, durable) })
}

// journalWith journals through write, which runs the transaction; the
// record is read only when write says the transaction ran.
func (db *DB) journalWith(m *lianxin.Inbound, outcome lianxin.Outcome, reply string, n *lianxin.Nonce, write func(func(*Tx) error) error) (j lianxin.Journaled, err error) {
	// The whole message is kept only while it may need replaying; a settled
	// message's row keeps its summary, media id and reply.
	payload := []byte("{}")
	if outcome == lianxin.OutcomeReceived || outcome == lianxin.OutcomeDeferred {
		var err error
		if payload, err = json.Marshal(m); err != nil {
			return j, err
		}
	}
	now := db.now()
	key := m.Key()
	var rec lianxin.Journaled
	err = write(func(tx *Tx) error {
		j := &rec
		*j = lianxin.Journaled{Outcome: outcome, Reply: reply}
		if n != nil {
			if err := db.rememberNonce(tx, *n, now); err != nil && (n.Check || !errors.Is(err, lianxin.ErrReplay)) {
				return err
			}
		}
		id, inserted, err := tx.insertID(`INSERT INTO journal (account, msg_key, openid, kind, content, media_id, payload, sent_at, received_at, outcome, reply)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (account, msg_key) DO NOTHING`,
			m.Account, key, m.OpenID, string(m.Kind), m.Summary(), m.MediaID, string(payload), m.Received().UTC(), now, outcome, reply)
		if err != nil {
			return err
		}
		if !inserted {
			return tx.QueryRowx(`SELECT id, outcome, reply FROM journal WHERE account = ? AND msg_key = ?`, m.Account, key).
				Scan(&j.ID, &j.Outcome, &j.Reply)
		}
		j.ID, j.Fresh = id, true
		if m.Kind != lianxin.KindEvent && db.touchedRecently(m.OpenID, now) {
			return nil
		}
		return touchResident(tx, m, now)
	})
	if err != nil {
		// rec is not read: a write the caller stopped waiting for may
		// still be filling it in.
		return lianxin.Journaled{}, err
	}
	if rec.Fresh {
		db.touched.Store(m.OpenID, now)
	}
	return rec, nil
}

// touchedRecently reports whether this process recorded the resident's
// last message within the last few minutes. The 48-hour window needs minutes
// of precision at most, and skipping the update saves a write per message.
func (db *DB) touchedRecently(openid string, now time.Time) bool {
	v, ok := db.touched.Load(openid)
	return ok && now.Sub(v.(time.Time)) < touchEvery
}

const touchEvery = 5 * time.Minute

func touchResident(tx *Tx, m *lianxin.Inbound, now time.Time) error {
	subscribed := !(m.Kind == lianxin.KindEvent && m.Event == lianxin.EventUnsubscribe)
	_, err := tx.Exec(`INSERT INTO residents (openid, first_seen, last_inbound, subscribed) VALUES (?, ?, ?, ?)
		ON CONFLICT (openid) DO UPDATE SET last_inbound = excluded.last_inbound, subscribed = excluded.subscribed`,
		m.OpenID, now, now, subscribed)
	return err
}

// SettleJournal records what became of a journaled message and the reply it got.
func (db *DB) SettleJournal(ctx context.Context, id int64, outcome lianxin.Outcome, reply string) (err error) {
	defer wrap(&err, "SettleJournal(%d)", id)
	return db.Tx(ctx, func(tx *Tx) error {
		return settle(tx, id, outcome, reply)
	})
}

func settle(tx *Tx, id int64, outcome lianxin.Outcome, reply string) error {
	_, err := tx.Exec(`UPDATE journal SET outcome = ?, reply = ? WHERE id = ?`, outcome, reply, id)
	return err
}

// lianxin.JournalEntry returns one journaled message.
func (db *DB) JournalEntry(ctx context.Context, id int64) (_ *lianxin.JournalEntry, err error) {
	defer wrap(&err, "JournalEntry(%d)", id)
	var e lianxin.JournalEntry
	err = db.read.GetContext(ctx, &e, `SELECT * FROM journal WHERE id = ?`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, lianxin.Errorf(lianxin.ENOTFOUND, "journal entry %d not found", id)
	}
	return &e, err
}

// Unsettled returns journaled messages that have not been through the
// conversation yet (deferred while Redis was down, or left "received" by a
// crash), oldest first, received before the given time.
func (db *DB) Unsettled(ctx context.Context, before time.Time, limit int) (_ []lianxin.JournalEntry, err error) {
	defer wrap(&err, "Unsettled")
	var out []lianxin.JournalEntry
	err = db.read.SelectContext(ctx, &out, `SELECT * FROM journal
		WHERE outcome IN ('received', 'deferred') AND received_at < ? ORDER BY id LIMIT ?`, before.UTC(), limit)
	return out, err
}

// UnsettledFor returns one resident's unsettled messages, oldest first.
func (db *DB) UnsettledFor(ctx context.Context, openid string) (_ []lianxin.JournalEntry, err error) {
	defer wrap(&err, "UnsettledFor(%s)", lianxin.MaskOpenID(openid))
	var out []lianxin.JournalEntry
	err = db.read.SelectContext(ctx, &out, `SELECT * FROM journal
		WHERE outcome IN ('received', 'deferred') AND openid = ? ORDER BY id`, openid)
	return out, err
}

// Transcript returns a resident's messages, oldest first.
func (db *DB) Transcript(ctx context.Context, openid string, limit int) (_ []lianxin.JournalEntry, err error) {
	defer wrap(&err, "Transcript(%s)", lianxin.MaskOpenID(openid))
	var out []lianxin.JournalEntry
	err = db.read.SelectContext(ctx, &out, `SELECT * FROM (SELECT * FROM journal WHERE openid = ? ORDER BY id DESC LIMIT ?) AS j ORDER BY id`, openid, limit)
	return out, err
}

// LastInbound is when the WeChat user last wrote to the account, as far as
// the residents table knows (to within a few minutes, see touchedRecently).
func (db *DB) LastInbound(ctx context.Context, openid string) (_ time.Time, _ bool, err error) {
	defer wrap(&err, "LastInbound(%s)", lianxin.MaskOpenID(openid))
	var t time.Time
	err = db.read.GetContext(ctx, &t, `SELECT last_inbound FROM residents WHERE openid = ?`, openid)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, false, nil
	}
	return t, err == nil, err
}

// ResidentStatus says whether a WeChat user follows the account and when
// they last wrote; Known is false for someone the journal has never seen.
func (db *DB) ResidentStatus(ctx context.Context, openid string) (_ lianxin.ResidentStatus, err error) {
	defer wrap(&err, "ResidentStatus(%s)", lianxin.MaskOpenID(openid))
	var r struct {
		LastInbound time.Time `db:"last_inbound"`
		Subscribed  bool      `db:"subscribed"`
	}
	err = db.read.GetContext(ctx, &r, `SELECT last_inbound, subscribed FROM residents WHERE openid = ?`, openid)
	if errors.Is(err, sql.ErrNoRows) {
		return lianxin.ResidentStatus{}, nil
	} else if err != nil {
		return lianxin.ResidentStatus{}, err
	}
	return lianxin.ResidentStatus{Known: true, Subscribed: r.Subscribed, LastInbound: r.LastInbound}, nil
}
