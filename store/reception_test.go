package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/lianxin/lianxin"
	"github.com/lianxin/lianxin/internal/testenv"
)

// TestReceptionBookings: a slot takes as many bookings as its capacity and
// no more, a resident books one place a day, a retried message books once,
// cancelling frees the place and drops the reminder, and the day's list
// shows bookings by slot then walk-ins — to the station's staff and the
// deputy on duty that day, not to others.
func TestReceptionBookings(t *testing.T) {
	testenv.EachEngine(t, func(t *testing.T, dsn func() string) {
		ctx := context.Background()
		db := openTest(t, dsn())
		book := func(openid, slot, key string) (*lianxin.Booking, bool, error) {
			return db.BookReception(ctx, lianxin.NewBooking{Booking: lianxin.Booking{Kind: lianxin.BookingKindBooked, StationID: "pingtanjie",
				Day: "2026-12-15", Slot: slot, OpenID: openid, Topic: "楼道灯坏了", SourceKey: key}, Capacity: 2, Tag: lianxin.StationTag("pingtanjie"),
				Reminder: &lianxin.Notice{Kind: "text", Recipient: openid, Payload: map[string]string{"text": "明天接待"}, Delay: time.Hour}})
		}
		a, created, err := book("oA", "09:00-10:00", "m1")
		if err != nil || !created {
			t.Fatal(created, err)
		}
		if again, created, err := book("oA", "09:00-10:00", "m1"); err != nil || created || again.ID != a.ID {
			t.Errorf("retried: %v %v %v", again, created, err)
		}
		if _, _, err := book("oA", "10:00-11:00", "m2"); !errors.Is(err, lianxin.ErrAlreadyBooked) {
			t.Errorf("a second that day: %v", err)
		}
		if _, _, err := book("oB", "09:00-10:00", "m3"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := book("oC", "09:00-10:00", "m4"); !errors.Is(err, lianxin.ErrSlotFull) {
			t.Errorf("a third in a slot of 2: %v", err)
		}
		if n, _ := db.SlotCounts(ctx, "pingtanjie", "2026-12-15"); n["09:00-10:00"] != 2 {
			t.Errorf("counts: %v", n)
		}
		if tags, _ := db.ResidentTags(ctx, "oA"); len(tags) != 1 || tags[0].Tag != "联络站:pingtanjie" {
			t.Errorf("tags: %+v", tags)
		}
		var reminders int
		db.read.GetContext(ctx, &reminders, `SELECT COUNT(*) FROM outbox WHERE recipient = 'oA'`)
		if reminders != 1 {
			t.Errorf("reminders queued: %d", reminders)
		}
		if _, err := db.CancelBooking(ctx, "oB", a.ID); lianxin.ErrorCode(err) != lianxin.ENOTFOUND {
			t.Errorf("someone else's: %v", err)
		}
		if _, err := db.CancelBooking(ctx, "oA", a.ID); err != nil {
			t.Fatal(err)
		}
		db.read.GetContext(ctx, &reminders, `SELECT COUNT(*) FROM outbox WHERE recipient = 'oA'`)
		if reminders != 0 {
			t.Errorf("the reminder outlived the cancel: %d", reminders)
		}
		if _, _, err := book("oC", "09:00-10:00", "m5"); err != nil {
			t.Errorf("the freed place: %v", err)
		}
		walkIn := lianxin.Booking{StationID: "pingtanjie", Day: "2026-12-15", Name: "王大爷", Topic: "暖气不热"}
		if _, err := db.AddWalkIn(ctx, lianxin.Scope{Units: []string{"saiyu"}}, walkIn, lianxin.AuditEntry{Actor: "user:2"}); lianxin.ErrorCode(err) != lianxin.EFORBIDDEN {
			t.Errorf("another station's walk-in: %v", err)
		}
		if _, err := db.AddWalkIn(ctx, lianxin.Scope{Units: []string{"pingtanjie"}}, walkIn, lianxin.AuditEntry{Actor: "user:1"}); err != nil {
			t.Fatal(err)
		}
		list, err := db.DayList(ctx, lianxin.Scope{Units: []string{"pingtanjie"}}, "pingtanjie", "2026-12-15")
		if err != nil || len(list) != 4 || list[2].Kind != lianxin.BookingKindWalkIn || list[3].Status != lianxin.BookingCancelled {
			t.Fatalf("day list: %v %+v", err, list)
		}
		if list, _ := db.DayList(ctx, lianxin.Scope{DeputyID: "d-1"}, "pingtanjie", "2026-12-15"); len(list) != 0 {
			t.Errorf("a deputy not on duty sees %d", len(list))
		}
		if _, err := db.AddRosterEntry(ctx, lianxin.Scope{Units: []string{"saiyu"}}, lianxin.RosterEntry{StationID: "pingtanjie", Day: "2026-12-15", DeputyID: "d-1", Start: "09:00", End: "11:30"}, lianxin.AuditEntry{Actor: "user:2"}); lianxin.ErrorCode(err) != lianxin.EFORBIDDEN {
			t.Errorf("another station's staff: %v", err)
		}
		id, err := db.AddRosterEntry(ctx, lianxin.Scope{Units: []string{"pingtanjie"}}, lianxin.RosterEntry{StationID: "pingtanjie", Day: "2026-12-15", DeputyID: "d-1", Start: "09:00", End: "11:30"}, lianxin.AuditEntry{Actor: "user:2"})
		if err != nil {
			t.Fatal(err)
		}
		if list, _ := db.DayList(ctx, lianxin.Scope{DeputyID: "d-1"}, "pingtanjie", "2026-12-15"); len(list) != 4 {
			t.Errorf("the deputy on duty sees %d", len(list))
		}
		if err := db.LinkBookingCase(ctx, list[2].ID, "KQ-1", "d-1", lianxin.AuditEntry{Actor: "user:2"}); err != nil {
			t.Fatal(err)
		}
		if err := db.LinkBookingCase(ctx, list[2].ID, "KQ-2", "d-1", lianxin.AuditEntry{Actor: "user:2"}); lianxin.ErrorCode(err) != lianxin.ECONFLICT {
			t.Errorf("registered twice: %v", err)
		}
		if err := db.RemoveRosterEntry(ctx, lianxin.Scope{Units: []string{"pingtanjie"}}, id, lianxin.AuditEntry{Actor: "user:2"}); err != nil {
			t.Fatal(err)
		}
	})
}

// TestReceptionRemindersOncePerDay: a reception day is reminded once
// whatever the worker does, and a day over the quota is recorded as not
// reminded rather than tried again.
func TestReceptionRemindersOncePerDay(t *testing.T) {
	testenv.EachEngine(t, func(t *testing.T, dsn func() string) {
		ctx := context.Background()
		db := openTest(t, dsn())
		send := func(day string) lianxin.MassSend {
			return lianxin.MassSend{Purpose: "reception:pingtanjie:" + day, Tag: "联络站:pingtanjie", Text: "接待日提醒", Month: "2026-12"}
		}
		for range 2 {
			if st, err := db.RemindReception(ctx, "pingtanjie", "2026-12-15", send("2026-12-15"), 2, nil); err != nil || st != ReminderQueued {
				t.Fatal(st, err)
			}
		}
		if st, _ := db.RemindReception(ctx, "pingtanjie", "2026-12-22", send("2026-12-22"), 2, nil); st != ReminderQueued {
			t.Errorf("second: %s", st)
		}
		staff := []lianxin.Notice{{IdemKey: "reception:quota:pingtanjie:2026-12-29:oStaff", Kind: "cs_text", Recipient: "oStaff", Payload: map[string]string{"text": "群发次数已用完"}}}
		for range 2 {
			if st, _ := db.RemindReception(ctx, "pingtanjie", "2026-12-29", send("2026-12-29"), 2, staff); st != ReminderQuota {
				t.Errorf("over the quota: %s", st)
			}
		}
		var told int
		db.read.GetContext(ctx, &told, `SELECT COUNT(*) FROM outbox WHERE recipient = 'oStaff'`)
		if told != 1 {
			t.Errorf("staff told %d times, want once", told)
		}
		sends, _ := db.MassSendsOfMonth(ctx, "2026-12")
		if len(sends) != 2 {
			t.Errorf("sends: %d", len(sends))
		}
		ledger, _ := db.MassLedger(ctx, "2026-12", []string{"联络站:pingtanjie"}, 2)
		if len(ledger) != 2 || ledger[1].Left() != 0 || ledger[0].Used != 2 {
			t.Errorf("ledger: %+v", ledger)
		}
	})
}

// TestResidentsTaggedWhenRouted: the residents of cases routed to a
// station are queued for its tag once each, and the queue is leased.
func TestResidentsTaggedWhenRouted(t *testing.T) {
	testenv.EachEngine(t, func(t *testing.T, dsn func() string) {
		ctx := context.Background()
		db := openTest(t, dsn())
		num := lianxin.CaseNumbering{Prefix: "KQ", Location: yangquan}
		for i, st := range []string{"pingtanjie", "pingtanjie", "saiyu", ""} {
			r := report("oTagged", "")
			r.StationID, r.SourceKey = st, "k"+string(rune('a'+i))
			if _, _, err := db.CreateCase(ctx, num, r, nil, nil, nil); err != nil {
				t.Fatal(err)
			}
		}
		next, err := db.TagResidentsOfCases(ctx, time.Now().Add(-time.Hour))
		if err != nil || next.IsZero() {
			t.Fatal(next, err)
		}
		if _, err := db.TagResidentsOfCases(ctx, time.Now().Add(-time.Hour)); err != nil {
			t.Errorf("again: %v", err)
		}
		claimed, err := db.ClaimResidentTags(ctx, "w", time.Now(), time.Minute, 10)
		if err != nil || len(claimed) != 2 {
			t.Fatalf("claimed %+v %v", claimed, err)
		}
		if more, _ := db.ClaimResidentTags(ctx, "w2", time.Now(), time.Minute, 10); len(more) != 0 {
			t.Errorf("leased twice: %+v", more)
		}
		for _, c := range claimed {
			if err := db.FinishResidentTag(ctx, c.ID, "w", lianxin.OutboxSent, time.Time{}, ""); err != nil {
				t.Fatal(err)
			}
		}
		tags, _ := db.ResidentTags(ctx, "oTagged")
		if len(tags) != 2 || tags[0].TaggedAt == nil || tags[1].Tag != "联络站:saiyu" {
			t.Errorf("tags: %+v", tags)
		}
	})
}

// TestLastPlaceGoesOnce: residents booking the same slot at the same moment
// through two processes (replicas on PostgreSQL) fill it to its capacity and
// no further; the rest are told it is full.
func TestLastPlaceGoesOnce(t *testing.T) {
	testenv.EachEngine(t, func(t *testing.T, dsn func() string) {
		ctx := context.Background()
		path := dsn()
		dbs := []*DB{openTest(t, path), openTest(t, path)}
		const capacity, residents = 3, 12
		var wg sync.WaitGroup
		errs := make([]error, residents)
		for i := range residents {
			wg.Add(1)
			go func() {
				defer wg.Done()
				openid := fmt.Sprintf("o%02d", i)
				_, _, errs[i] = dbs[i%2].BookReception(ctx, lianxin.NewBooking{Booking: lianxin.Booking{Kind: lianxin.BookingKindBooked,
					StationID: "pingtanjie", Day: "2026-12-15", Slot: "09:00-10:00", OpenID: openid, Topic: "楼道灯坏了", SourceKey: "k" + openid},
					Capacity: capacity})
			}()
		}
		wg.Wait()
		booked, full := 0, 0
		for _, err := range errs {
			switch {
			case err == nil:
				booked++
			case errors.Is(err, lianxin.ErrSlotFull):
				full++
			default:
				t.Errorf("booking: %v", err)
			}
		}
		if booked != capacity || full != residents-capacity {
			t.Errorf("%d booked and %d told it is full; want %d and %d", booked, full, capacity, residents-capacity)
		}
	})
}
