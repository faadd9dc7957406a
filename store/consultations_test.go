package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/lianxin/lianxin"
	"github.com/lianxin/lianxin/internal/testenv"
)

func newConsultation(t *testing.T, db *DB, station string, deadline time.Time) *lianxin.Consultation {
	t.Helper()
	c, err := db.CreateConsultation(context.Background(), lianxin.ConsultationEdit{Title: "草案", StationID: station, Audience: lianxin.AudienceStation,
		Deadline: deadline, Articles: []lianxin.Article{{Label: "第一条", Text: "甲"}, {Label: "第二条", Text: "乙"}}}, "user:t",
		lianxin.AuditEntry{Actor: "user:t", Action: "consultation_create"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestOpinionsNumberedLateAndOnce: opinions are numbered within their
// consultation, a retried message records one, after the deadline they
// are kept and marked late, and a draft takes none.
func TestOpinionsNumberedLateAndOnce(t *testing.T) {
	testenv.EachEngine(t, func(t *testing.T, dsn func() string) {
		ctx := context.Background()
		db := openTest(t, dsn())
		now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
		db.Now = func() time.Time { return now }
		c := newConsultation(t, db, "pingtanjie", now.Add(48*time.Hour))
		if _, _, err := db.AddOpinion(ctx, lianxin.NewOpinion{ConsultationID: c.ID, Text: "x"}); lianxin.ErrorCode(err) != lianxin.ECONFLICT {
			t.Errorf("an opinion on a draft: %v", err)
		}
		if err := db.PublishConsultation(ctx, lianxin.Scope{All: true}, c.ID, nil, 4, nil, lianxin.AuditEntry{Actor: "t"}); err != nil {
			t.Fatal(err)
		}
		add := func(key string) (*lianxin.Opinion, bool) {
			t.Helper()
			o, created, err := db.AddOpinion(ctx, lianxin.NewOpinion{ConsultationID: c.ID, ArticleSeq: 1, OpenID: "oA", Text: "意见" + key, SourceKey: key})
			if err != nil {
				t.Fatal(err)
			}
			return o, created
		}
		o1, _ := add("m1")
		again, created := add("m1")
		o2, _ := add("m2")
		if o1.N != 1 || again.ID != o1.ID || created || o2.N != 2 || o1.Late {
			t.Errorf("numbers %d %d (again %d, created %v), late %v", o1.N, o2.N, again.N, created, o1.Late)
		}
		now = now.Add(72 * time.Hour)
		if o3, _ := add("m3"); !o3.Late || o3.N != 3 {
			t.Errorf("after the deadline: %+v", o3)
		}
	})
}

// TestConsultationScopeAndReview: another station's staff do not find a
// consultation; merging follows a duplicate to its primary and takes its
// own duplicates along; outcomes are kept.
func TestConsultationScopeAndReview(t *testing.T) {
	testenv.EachEngine(t, func(t *testing.T, dsn func() string) {
		ctx := context.Background()
		db := openTest(t, dsn())
		c := newConsultation(t, db, "pingtanjie", time.Now().Add(time.Hour))
		other := lianxin.Scope{Units: []string{"saiyu"}}
		mine := lianxin.Scope{Units: []string{"pingtanjie", "shuitan"}}
		if _, err := db.Consultation(ctx, other, c.ID); lianxin.ErrorCode(err) != lianxin.ENOTFOUND {
			t.Errorf("another station's staff: %v", err)
		}
		if list, _ := db.Consultations(ctx, other); len(list) != 0 {
			t.Errorf("another station lists %d", len(list))
		}
		if err := db.PublishConsultation(ctx, other, c.ID, nil, 4, nil, lianxin.AuditEntry{}); lianxin.ErrorCode(err) != lianxin.ENOTFOUND {
			t.Errorf("another station publishing: %v", err)
		}
		if err := db.PublishConsultation(ctx, mine, c.ID, nil, 4, nil, lianxin.AuditEntry{}); err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for i := range 3 {
			o, _, err := db.AddOpinion(ctx, lianxin.NewOpinion{ConsultationID: c.ID, Text: "同样的意见", OpenID: "o" + string(rune('A'+i))})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, o.ID)
		}
		review := func(r lianxin.OpinionReview) error { return db.ReviewOpinion(ctx, mine, c.ID, r) }
		if err := review(lianxin.OpinionReview{OpinionID: ids[2], MergeInto: ids[1]}); err != nil {
			t.Fatal(err)
		}
		// ids[1] (with its duplicate ids[2]) into ids[0].
		if err := review(lianxin.OpinionReview{OpinionID: ids[1], MergeInto: ids[0]}); err != nil {
			t.Fatal(err)
		}
		if err := review(lianxin.OpinionReview{OpinionID: ids[0], MergeInto: ids[2]}); lianxin.ErrorCode(err) != lianxin.EINVALID {
			t.Errorf("merging a primary into its own duplicate: %v", err)
		}
		if err := review(lianxin.OpinionReview{OpinionID: ids[0], Outcome: lianxin.OpinionAdopted, Reason: "采纳"}); err != nil {
			t.Fatal(err)
		}
		ops, _ := db.Opinions(ctx, c.ID)
		if ops[0].Outcome != lianxin.OpinionAdopted || ops[1].MergedInto != ids[0] || ops[2].MergedInto != ids[0] {
			t.Errorf("after review: %+v", ops)
		}
	})
}

// TestMassSendQuota: a month's sends reaching a follower are counted
// across every follower and each tag, and WeChat refusing one for the
// quota settles the month.
func TestMassSendQuota(t *testing.T) {
	testenv.EachEngine(t, func(t *testing.T, dsn func() string) {
		ctx := context.Background()
		db := openTest(t, dsn())
		publish := func(station, tag string) error {
			c := newConsultation(t, db, station, time.Now().Add(time.Hour))
			return db.PublishConsultation(ctx, lianxin.Scope{All: true}, c.ID,
				[]lianxin.MassSend{{Purpose: "consultation:" + station + tag + time.Now().String(), Tag: tag, Text: "x", Month: "2026-12"}}, 3, nil, lianxin.AuditEntry{})
		}
		for _, p := range [][2]string{{"pingtanjie", "联络站:pingtanjie"}, {"pingtanjie", "联络站:pingtanjie"}, {"saiyu", ""}} {
			if err := publish(p[0], p[1]); err != nil {
				t.Fatal(err)
			}
		}
		// 平潭街's residents have had 2 + 1: full. 赛鱼's have had 1.
		if err := publish("pingtanjie", "联络站:pingtanjie"); !errors.Is(err, lianxin.ErrMassQuota) {
			t.Errorf("a fourth to 平潭街: %v", err)
		}
		if err := publish("saiyu", "联络站:saiyu"); err != nil {
			t.Errorf("a second to 赛鱼: %v", err)
		}
		if err := publish("saiyu", ""); !errors.Is(err, lianxin.ErrMassQuota) {
			t.Errorf("another to every follower: %v", err)
		}
		if n, _ := db.MassSendsUsed(ctx, "2026-12", "联络站:saiyu"); n != 2 {
			t.Errorf("赛鱼 used %d", n)
		}
		// WeChat refuses one: the month is over for its tag.
		sends, err := db.ClaimMassSends(ctx, "w", time.Now(), time.Minute, 10)
		if err != nil || len(sends) != 4 {
			t.Fatalf("claimed %d: %v", len(sends), err)
		}
		for _, s := range sends {
			status := lianxin.OutboxSent
			if s.Tag == "联络站:saiyu" {
				status = lianxin.MassQuotaUsed
			}
			if err := db.FinishMassSend(ctx, s.ID, "w", status, time.Time{}, "45028"); err != nil {
				t.Fatal(err)
			}
		}
		if n, _ := db.MassSendsUsed(ctx, "2026-12", "联络站:saiyu"); n < 3 {
			t.Errorf("after WeChat's refusal 赛鱼 used %d", n)
		}
		if n, _ := db.MassSendsUsed(ctx, "2027-01", "联络站:saiyu"); n != 0 {
			t.Errorf("next month: %d", n)
		}
	})
}

// TestOpinionsForgottenAfterRetention: past the retention period a
// consultation's opinions keep their words but not who gave them.
func TestOpinionsForgottenAfterRetention(t *testing.T) {
	testenv.EachEngine(t, func(t *testing.T, dsn func() string) {
		ctx := context.Background()
		db := openTest(t, dsn())
		c := newConsultation(t, db, "pingtanjie", time.Now().Add(time.Hour))
		if err := db.PublishConsultation(ctx, lianxin.Scope{All: true}, c.ID, nil, 4, nil, lianxin.AuditEntry{}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := db.AddOpinion(ctx, lianxin.NewOpinion{ConsultationID: c.ID, OpenID: "oA", Name: "王大爷", Phone: "13812345678", Text: "意见"}); err != nil {
			t.Fatal(err)
		}
		if n, err := db.EraseExpiredOpinions(ctx, time.Now()); err != nil || n != 0 {
			t.Errorf("before the deadline: %d %v", n, err)
		}
		if n, err := db.EraseExpiredOpinions(ctx, time.Now().Add(2*time.Hour)); err != nil || n != 1 {
			t.Errorf("after: %d %v", n, err)
		}
		ops, _ := db.Opinions(ctx, c.ID)
		if o := ops[0]; o.OpenID != "" || o.Name != "" || o.Phone != "" || o.Text != "意见" {
			t.Errorf("after retention: %+v", o)
		}
	})
}
