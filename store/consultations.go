package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/lianxin/lianxin"
)

// Consultations on draft regulations (立法联系点): the drafts, their
// articles, residents' opinions, and the mass sends that push a published
// draft (see lianxin.Consultation).

const consultationColumns = `id, title, intro, station_id, audience, deadline, status, created_by, created_at, updated_at, published_at, concluded_at`

// scopeConsultations is the SQL condition and arguments that keep a
// consultation list within what a console user may see: admins all, staff
// the consultations of their station (and its points).
func scopeConsultations(scope lianxin.Scope) (string, []any, error) {
	if scope.All {
		return "TRUE", nil, nil
	}
	if len(scope.Units) == 0 {
		return "FALSE", nil, nil
	}
	q, args, err := sqlx.In(`station_id IN (?)`, scope.Units)
	return q, args, err
}

// CreateConsultation stores a new draft consultation, audited.
func (db *DB) CreateConsultation(ctx context.Context, e lianxin.ConsultationEdit, by string, a lianxin.AuditEntry) (_ *lianxin.Consultation, err error) {
	defer wrap(&err, "CreateConsultation")
	now := db.now()
	var id int64
	err = db.Tx(ctx, func(tx *Tx) error {
		if err := tx.Get(&id, `INSERT INTO consultations (title, intro, station_id, audience, deadline, status, created_by, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			strings.TrimSpace(e.Title), strings.TrimSpace(e.Intro), e.StationID, e.Audience, e.Deadline.UTC(), lianxin.ConsultDraft, by, now, now); err != nil {
			return err
		}
		if err := writeArticles(tx, id, e.Articles); err != nil {
			return err
		}
		a.Subject = consultSubject(id)
		return audit(tx, a, now)
	})
	if err != nil {
		return nil, err
	}
	return db.Consultation(ctx, lianxin.Scope{All: true}, id)
}

func consultSubject(id int64) string { return "consultation:" + strconv.FormatInt(id, 10) }

// writeArticles replaces a consultation's articles, numbering them in order.
func writeArticles(tx *Tx, id int64, arts []lianxin.Article) error {
	if _, err := tx.Exec(`DELETE FROM consultation_articles WHERE consultation_id = ?`, id); err != nil {
		return err
	}
	for i, a := range arts {
		if _, err := tx.Exec(`INSERT INTO consultation_articles (consultation_id, seq, label, chapter, text, recommendation) VALUES (?, ?, ?, ?, ?, ?)`,
			id, i+1, strings.TrimSpace(a.Label), strings.TrimSpace(a.Chapter), strings.TrimSpace(a.Text), strings.TrimSpace(a.Recommendation)); err != nil {
			return err
		}
	}
	return nil
}

// UpdateConsultation changes a draft (its text, deadline, audience); a
// published consultation's text stays as residents read it, so only drafts
// change. seen is its updated_at as the form showed it.
func (db *DB) UpdateConsultation(ctx context.Context, scope lianxin.Scope, id int64, seen time.Time, e lianxin.ConsultationEdit, a lianxin.AuditEntry) (err error) {
	defer wrap(&err, "UpdateConsultation(%d)", id)
	now := db.now()
	return db.Tx(ctx, func(tx *Tx) error {
		c, err := consultationIn(tx, scope, id)
		if err != nil {
			return err
		}
		if c.Status != lianxin.ConsultDraft {
			return lianxin.Errorf(lianxin.ECONFLICT, "consultation %d is %s: only a draft changes", id, c.Status)
		}
		if !seen.IsZero() && !seen.Equal(c.UpdatedAt) {
			return lianxin.Errorf(lianxin.ECONFLICT, "consultation %d changed since it was read", id)
		}
		if _, err := tx.Exec(`UPDATE consultations SET title = ?, intro = ?, station_id = ?, audience = ?, deadline = ?, updated_at = ? WHERE id = ?`,
			strings.TrimSpace(e.Title), strings.TrimSpace(e.Intro), e.StationID, e.Audience, e.Deadline.UTC(), now, id); err != nil {
			return err
		}
		if err := writeArticles(tx, id, e.Articles); err != nil {
			return err
		}
		a.Subject = consultSubject(id)
		return audit(tx, a, now)
	})
}

// consultationIn reads a consultation's row within a scope: outside it, it
// is not found, as for a wrong id.
func consultationIn(q queryer, scope lianxin.Scope, id int64) (*lianxin.Consultation, error) {
	w, args, err := scopeConsultations(scope)
	if err != nil {
		return nil, err
	}
	var c lianxin.Consultation
	err = q.Get(&c, `SELECT `+consultationColumns+` FROM consultations WHERE id = ? AND `+w, append([]any{id}, args...)...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, lianxin.Errorf(lianxin.ENOTFOUND, "consultation %d not found", id)
	}
	return &c, err
}

// Consultation returns a consultation with its articles, within the scope.
func (db *DB) Consultation(ctx context.Context, scope lianxin.Scope, id int64) (_ *lianxin.Consultation, err error) {
	defer wrap(&err, "Consultation(%d)", id)
	c, err := consultationIn(db.read, scope, id)
	if err != nil {
		return nil, err
	}
	if err := db.read.SelectContext(ctx, &c.Articles, `SELECT seq, label, chapter, text, recommendation FROM consultation_articles
		WHERE consultation_id = ? ORDER BY seq`, id); err != nil {
		return nil, err
	}
	err = db.read.GetContext(ctx, &c.Opinions, `SELECT COUNT(*) FROM consultation_opinions WHERE consultation_id = ?`, id)
	return c, err
}

// PublicConsultation returns a published (or concluded) consultation with
// its articles, for the public page: drafts are not found.
func (db *DB) PublicConsultation(ctx context.Context, id int64) (*lianxin.Consultation, error) {
	c, err := db.Consultation(ctx, lianxin.Scope{All: true}, id)
	if err != nil {
		return nil, err
	}
	if c.Status == lianxin.ConsultDraft {
		return nil, lianxin.Errorf(lianxin.ENOTFOUND, "consultation %d is a draft", id)
	}
	return c, nil
}

// Consultations lists the consultations within the scope, newest first,
// with how many opinions each has.
func (db *DB) Consultations(ctx context.Context, scope lianxin.Scope) (_ []lianxin.Consultation, err error) {
	defer wrap(&err, "Consultations")
	w, args, err := scopeConsultations(scope)
	if err != nil {
		return nil, err
	}
	var out []lianxin.Consultation
	err = db.read.SelectContext(ctx, &out, `SELECT `+consultationColumns+`,
		(SELECT COUNT(*) FROM consultation_opinions o WHERE o.consultation_id = consultations.id) AS opinions
		FROM consultations WHERE `+w+` ORDER BY id DESC LIMIT 200`, args...)
	return out, err
}

// ConsultationsTakingOpinions are the consultations residents' opinions go
// to: the published ones, and those concluded since `since` (an opinion on
// them is kept, marked late), newest first, with their articles.
func (db *DB) ConsultationsTakingOpinions(ctx context.Context, since time.Time) (_ []lianxin.Consultation, err error) {
	defer wrap(&err, "ConsultationsTakingOpinions")
	var ids []int64
	if err := db.read.SelectContext(ctx, &ids, `SELECT id FROM consultations WHERE status = ? OR (status = ? AND concluded_at >= ?)
		ORDER BY (status = ?) DESC, published_at DESC, id DESC LIMIT 20`,
		lianxin.ConsultPublished, lianxin.ConsultConcluded, since.UTC(), lianxin.ConsultPublished); err != nil {
		return nil, err
	}
	out := make([]lianxin.Consultation, 0, len(ids))
	for _, id := range ids {
		c, err := db.Consultation(ctx, lianxin.Scope{All: true}, id)
		if err != nil {
			return nil, err
		}
		out = append(out, *c)
	}
	return out, nil
}

// PublishConsultation publishes a draft: its status, the mass sends that
// push it (refused with lianxin.ErrMassQuota when one would exceed the
// month's quota of mass sends to any follower), the notices to informants,
// and the audit entry, in one transaction.
func (db *DB) PublishConsultation(ctx context.Context, scope lianxin.Scope, id int64, sends []lianxin.MassSend, quota int, notices []lianxin.Notice, a lianxin.AuditEntry) (err error) {
	defer wrap(&err, "PublishConsultation(%d)", id)
	now := db.now()
	return db.Tx(ctx, func(tx *Tx) error {
		c, err := consultationIn(tx, scope, id)
		if err != nil {
			return err
		}
		if c.Status != lianxin.ConsultDraft {
			return lianxin.Errorf(lianxin.ECONFLICT, "consultation %d is already %s", id, c.Status)
		}
		for _, s := range sends {
			if _, err := enqueueMassSend(tx, s, quota, now); err != nil {
				return err
			}
		}
		for _, n := range notices {
			if err := enqueuePlainNotice(tx, now, n); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(`UPDATE consultations SET status = ?, published_at = ?, updated_at = ? WHERE id = ?`,
			lianxin.ConsultPublished, now, now, id); err != nil {
			return err
		}
		a.Subject = consultSubject(id)
		return audit(tx, a, now)
	})
}

// enqueuePlainNotice queues a notice about no case (a consultation's).
func enqueuePlainNotice(tx *Tx, now time.Time, n lianxin.Notice) error {
	b, err := json.Marshal(n.Payload)
	if err != nil {
		return err
	}
	_, err = tx.Exec(`INSERT INTO outbox (idem_key, kind, recipient, payload, case_id, next_attempt, created_at, valid_while)
		VALUES (?, ?, ?, ?, NULL, ?, ?, '') ON CONFLICT (idem_key) DO NOTHING`,
		n.IdemKey, n.Kind, n.Recipient, string(b), now.Add(n.Delay), now)
	return err
}

// AddOpinion records a resident's opinion (or one staff recorded), numbered
// within its consultation and marked late after the deadline. created is
// false when its source message had already recorded it: that opinion is
// returned and nothing is written again.
func (db *DB) AddOpinion(ctx context.Context, o lianxin.NewOpinion) (_ *lianxin.Opinion, created bool, err error) {
	defer wrap(&err, "AddOpinion(consultation %d)", o.ConsultationID)
	now := db.now()
	var id int64
	err = db.TxCommitted(ctx, func(tx *Tx) error {
		created = false
		if o.SourceKey != "" {
			err := tx.Get(&id, `SELECT id FROM consultation_opinions WHERE source_key = ?`, o.SourceKey)
			if err == nil {
				return nil
			} else if !isNoRows(err) {
				return err
			}
		}
		var c struct {
			Status   lianxin.ConsultStatus `db:"status"`
			Deadline time.Time             `db:"deadline"`
		}
		if err := tx.Get(&c, `SELECT status, deadline FROM consultations WHERE id = ?`, o.ConsultationID); isNoRows(err) {
			return lianxin.Errorf(lianxin.ENOTFOUND, "consultation %d not found", o.ConsultationID)
		} else if err != nil {
			return err
		}
		if c.Status == lianxin.ConsultDraft {
			return lianxin.Errorf(lianxin.ECONFLICT, "consultation %d is not published", o.ConsultationID)
		}
		var n int
		if err := tx.Get(&n, `SELECT COALESCE(MAX(n), 0) + 1 FROM consultation_opinions WHERE consultation_id = ?`, o.ConsultationID); err != nil {
			return err
		}
		var key, voice any
		if o.SourceKey != "" {
			key = o.SourceKey
		}
		if o.Voice != 0 {
			voice = o.Voice
		}
		source := o.Source
		if source == "" {
			source = "chat"
		}
		late := now.After(c.Deadline) || c.Status == lianxin.ConsultConcluded
		if err := tx.Get(&id, `INSERT INTO consultation_opinions (consultation_id, n, article_seq, openid, deputy_id, name, phone, text, voice_id, late, source, source_key, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			o.ConsultationID, n, o.ArticleSeq, o.OpenID, o.DeputyID, strings.TrimSpace(o.Name), o.Phone, strings.TrimSpace(o.Text), voice, late, source, key, now); err != nil {
			return err
		}
		if voice != nil {
			// The recording is the opinion's: the media worker fetches it
			// like a report's, and it is no draft's any more.
			if _, err := tx.Exec(`UPDATE attachments SET updated_at = ? WHERE id = ?`, now, o.Voice); err != nil {
				return err
			}
		}
		for _, a := range o.Audit {
			a.Subject = consultSubject(o.ConsultationID)
			if err := audit(tx, a, now); err != nil {
				return err
			}
		}
		created = true
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	op, err := db.opinion(ctx, db.read, id)
	return op, created, err
}

const opinionColumns = `id, consultation_id, n, article_seq, openid, deputy_id, name, phone, text, voice_id, late, merged_into, outcome, reason, source, created_at, notified_at`

func (db *DB) opinion(ctx context.Context, q queryer, id int64) (*lianxin.Opinion, error) {
	var o lianxin.Opinion
	err := q.Get(&o, `SELECT `+opinionColumns+` FROM consultation_opinions WHERE id = ?`, id)
	if isNoRows(err) {
		return nil, lianxin.Errorf(lianxin.ENOTFOUND, "opinion %d not found", id)
	}
	return &o, err
}

// Opinions lists a consultation's opinions by article, oldest first.
func (db *DB) Opinions(ctx context.Context, consultationID int64) (_ []lianxin.Opinion, err error) {
	defer wrap(&err, "Opinions(%d)", consultationID)
	var out []lianxin.Opinion
	err = db.read.SelectContext(ctx, &out, `SELECT `+opinionColumns+` FROM consultation_opinions WHERE consultation_id = ? ORDER BY article_seq, id`, consultationID)
	return out, err
}

// ReviewOpinion applies staff's review of one opinion of a consultation
// within the scope: its outcome and reason, or merging it into another
// opinion of the same consultation (a duplicate), or undoing that; audited.
func (db *DB) ReviewOpinion(ctx context.Context, scope lianxin.Scope, consultationID int64, r lianxin.OpinionReview) (err error) {
	defer wrap(&err, "ReviewOpinion(%d)", r.OpinionID)
	now := db.now()
	return db.Tx(ctx, func(tx *Tx) error {
		c, err := consultationIn(tx, scope, consultationID)
		if err != nil {
			return err
		}
		if c.Status == lianxin.ConsultDraft {
			return lianxin.Errorf(lianxin.ECONFLICT, "consultation %d is a draft", consultationID)
		}
		var cid int64
		if err := tx.Get(&cid, `SELECT consultation_id FROM consultation_opinions WHERE id = ?`, r.OpinionID); isNoRows(err) || (err == nil && cid != consultationID) {
			return lianxin.Errorf(lianxin.ENOTFOUND, "opinion %d not in consultation %d", r.OpinionID, consultationID)
		} else if err != nil {
			return err
		}
		switch {
		case r.MergeInto != 0:
			if r.MergeInto == r.OpinionID {
				return lianxin.Errorf(lianxin.EINVALID, "an opinion cannot duplicate itself")
			}
			var target struct {
				CID    int64 `db:"consultation_id"`
				Merged int64 `db:"merged_into"`
			}
			if err := tx.Get(&target, `SELECT consultation_id, merged_into FROM consultation_opinions WHERE id = ?`, r.MergeInto); isNoRows(err) || (err == nil && target.CID != consultationID) {
				return lianxin.Errorf(lianxin.EINVALID, "opinion %d is not in consultation %d", r.MergeInto, consultationID)
			} else if err != nil {
				return err
			}
			primary := r.MergeInto
			if target.Merged != 0 {
				primary = target.Merged // merged into a duplicate: into its primary
			}
			if primary == r.OpinionID {
				return lianxin.Errorf(lianxin.EINVALID, "opinion %d is already merged into this one", r.MergeInto)
			}
			// The duplicates of this one follow it into the primary.
			if _, err := tx.Exec(`UPDATE consultation_opinions SET merged_into = ?, outcome = '', reason = '' WHERE id = ? OR merged_into = ?`,
				primary, r.OpinionID, r.OpinionID); err != nil {
				return err
			}
		case r.Unmerge:
			if _, err := tx.Exec(`UPDATE consultation_opinions SET merged_into = 0 WHERE id = ?`, r.OpinionID); err != nil {
				return err
			}
		default:
			if _, err := tx.Exec(`UPDATE consultation_opinions SET outcome = ?, reason = ? WHERE id = ? AND merged_into = 0`,
				r.Outcome, strings.TrimSpace(r.Reason), r.OpinionID); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(`UPDATE consultations SET updated_at = ? WHERE id = ?`, now, consultationID); err != nil {
			return err
		}
		a := r.Audit
		a.Subject = consultSubject(consultationID)
		return audit(tx, a, now)
	})
}

// SetRecommendation keeps the station's recommendation on an article, for
// the written suggestions; audited.
func (db *DB) SetRecommendation(ctx context.Context, scope lianxin.Scope, consultationID int64, seq int, text string, a lianxin.AuditEntry) (err error) {
	defer wrap(&err, "SetRecommendation(%d, %d)", consultationID, seq)
	now := db.now()
	return db.Tx(ctx, func(tx *Tx) error {
		if _, err := consultationIn(tx, scope, consultationID); err != nil {
			return err
		}
		res, err := tx.Exec(`UPDATE consultation_articles SET recommendation = ? WHERE consultation_id = ? AND seq = ?`, strings.TrimSpace(text), consultationID, seq)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return lianxin.Errorf(lianxin.ENOTFOUND, "article %d not in consultation %d", seq, consultationID)
		}
		a.Subject = consultSubject(consultationID)
		return audit(tx, a, now)
	})
}

// ConcludeConsultation records that the outcome is known: the consultation
// is concluded and every opinion not yet told is told what became of it.
// notices makes the notices from the opinions as they are inside the
// transaction (so an opinion arriving meanwhile is told too); the opinions
// it makes a notice for are marked told.
func (db *DB) ConcludeConsultation(ctx context.Context, scope lianxin.Scope, id int64, notices func(c *lianxin.Consultation, ops []lianxin.Opinion) (map[int64]lianxin.Notice, error), a lianxin.AuditEntry) (told int, err error) {
	defer wrap(&err, "ConcludeConsultation(%d)", id)
	now := db.now()
	err = db.Tx(ctx, func(tx *Tx) error {
		told = 0
		c, err := consultationIn(tx, scope, id)
		if err != nil {
			return err
		}
		if c.Status != lianxin.ConsultPublished && c.Status != lianxin.ConsultConcluded {
			return lianxin.Errorf(lianxin.ECONFLICT, "consultation %d is a draft", id)
		}
		if err := tx.Select(&c.Articles, `SELECT seq, label, chapter, text, recommendation FROM consultation_articles WHERE consultation_id = ? ORDER BY seq`, id); err != nil {
			return err
		}
		var ops []lianxin.Opinion
		if err := tx.Select(&ops, `SELECT `+opinionColumns+` FROM consultation_opinions WHERE consultation_id = ? ORDER BY id`, id); err != nil {
			return err
		}
		byOpinion, err := notices(c, ops)
		if err != nil {
			return err
		}
		for oid, n := range byOpinion {
			if err := enqueuePlainNotice(tx, now, n); err != nil {
				return err
			}
			if _, err := tx.Exec(`UPDATE consultation_opinions SET notified_at = ? WHERE id = ? AND notified_at IS NULL`, now, oid); err != nil {
				return err
			}
			told++
		}
		if _, err := tx.Exec(`UPDATE consultations SET status = ?, concluded_at = COALESCE(concluded_at, ?), updated_at = ? WHERE id = ?`,
			lianxin.ConsultConcluded, now, now, id); err != nil {
			return err
		}
		a.Subject = consultSubject(id)
		return audit(tx, a, now)
	})
	return told, err
}

// OpinionsGathered counts the consultation opinions a deputy gathered in
// [from, to): sent in chat from their WeChat, or recorded by staff as
// theirs. It is the figure of their record (履职档案).
func (db *DB) OpinionsGathered(ctx context.Context, deputyID string, from, to time.Time) (_ int, err error) {
	defer wrap(&err, "OpinionsGathered(%s)", deputyID)
	var n int
	err = db.read.GetContext(ctx, &n, `SELECT COUNT(*) FROM consultation_opinions WHERE deputy_id = ? AND created_at >= ? AND created_at < ?`,
		deputyID, from.UTC(), to.UTC())
	return n, err
}

// OpinionsOf lists what one resident said on a consultation, oldest first.
func (db *DB) OpinionsOf(ctx context.Context, consultationID int64, openid string) (_ []lianxin.Opinion, err error) {
	defer wrap(&err, "OpinionsOf(%d)", consultationID)
	var out []lianxin.Opinion
	err = db.read.SelectContext(ctx, &out, `SELECT `+opinionColumns+` FROM consultation_opinions WHERE consultation_id = ? AND openid = ? ORDER BY id`,
		consultationID, openid)
	return out, err
}

// EraseExpiredOpinions forgets who gave the opinions of consultations that
// ended (concluded, or past their deadline) before `before`, the retention
// period: their WeChat, name and phone. The opinions and their counts stay.
func (db *DB) EraseExpiredOpinions(ctx context.Context, before time.Time) (n int, err error) {
	defer wrap(&err, "EraseExpiredOpinions")
	err = db.Tx(ctx, func(tx *Tx) error {
		res, err := tx.Exec(`UPDATE consultation_opinions SET openid = '', name = '', phone = ''
			WHERE (openid <> '' OR name <> '' OR phone <> '') AND consultation_id IN
			(SELECT id FROM consultations WHERE status <> 'draft' AND COALESCE(concluded_at, deadline) < ?)`, before.UTC())
		if err != nil {
			return err
		}
		m, _ := res.RowsAffected()
		n = int(m)
		return nil
	})
	return n, err
}
