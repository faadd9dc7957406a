package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/lianxin/lianxin"
)

// Reception days (接待日): the duty roster, bookings and walk-ins, and the
// reminders before a reception day. Staff see their station's (and its
// points'), a deputy the days they sit on duty, admins everything — in the
// queries below.

const rosterCols = `id, station_id, day, deputy_id, start_at, end_at, note, created_by, created_at`

// rosterScope is the roster entries (alias r) a scope sees: its units', or
// a deputy's own duty.
func rosterScope(scope lianxin.Scope) (string, []any, error) {
	switch {
	case scope.All:
		return "TRUE", nil, nil
	case len(scope.Units) > 0:
		return sqlx.In(`r.station_id IN (?)`, scope.Units)
	case scope.DeputyID != "":
		return `r.deputy_id = ?`, []any{scope.DeputyID}, nil
	}
	return "FALSE", nil, nil
}

// Roster lists the roster's entries in [from, to] (days as 2006-01-02)
// within the scope, by day and station.
func (db *DB) Roster(ctx context.Context, scope lianxin.Scope, from, to string) (_ []lianxin.RosterEntry, err error) {
	defer wrap(&err, "Roster")
	cond, args, err := rosterScope(scope)
	if err != nil {
		return nil, err
	}
	var out []lianxin.RosterEntry
	err = db.read.SelectContext(ctx, &out, `SELECT `+rosterCols+` FROM reception_roster r WHERE day >= ? AND day <= ? AND `+cond+`
		ORDER BY day, station_id, start_at, deputy_id`, append([]any{from, to}, args...)...)
	return out, err
}

// rosterAll is the whole roster, for the directory in use.
func rosterAll(ctx context.Context, q sqlx.QueryerContext) ([]lianxin.RosterEntry, error) {
	var out []lianxin.RosterEntry
	err := sqlx.SelectContext(ctx, q, &out, `SELECT `+rosterCols+` FROM reception_roster ORDER BY day, station_id, deputy_id`)
	return out, err
}

// AddRosterEntry puts a deputy on duty at a station on a day, within the
// scope, audited. The directory's version moves on so every process
// routes by the new roster.
func (db *DB) AddRosterEntry(ctx context.Context, scope lianxin.Scope, e lianxin.RosterEntry, a lianxin.AuditEntry) (id int64, err error) {
	defer wrap(&err, "AddRosterEntry")
	if !scope.All && !scope.Allows(e.StationID, "") {
		return 0, lianxin.Errorf(lianxin.EFORBIDDEN, "station %s is not in your scope", e.StationID)
	}
	now := db.now()
	err = db.Tx(ctx, func(tx *Tx) error {
		var inserted bool
		id, inserted, err = tx.insertID(`INSERT INTO reception_roster (station_id, day, deputy_id, start_at, end_at, note, created_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (station_id, day, deputy_id) DO NOTHING`,
			e.StationID, e.Day, e.DeputyID, e.Start, e.End, e.Note, a.Actor, now)
		if err != nil {
			return err
		}
		if !inserted {
			return lianxin.Errorf(lianxin.ECONFLICT, "deputy %s is already on the roster of %s on %s", e.DeputyID, e.StationID, e.Day)
		}
		a.Action, a.Subject, a.Detail = "roster_add", "station:"+e.StationID, e.Day+" "+e.DeputyID+" "+e.Start+"-"+e.End
		if err := bumpDirectory(tx, now); err != nil {
			return err
		}
		return audit(tx, a, now)
	})
	return id, err
}

// RemoveRosterEntry takes an entry off the roster, within the scope, audited.
func (db *DB) RemoveRosterEntry(ctx context.Context, scope lianxin.Scope, id int64, a lianxin.AuditEntry) (err error) {
	defer wrap(&err, "RemoveRosterEntry(%d)", id)
	cond, args, err := rosterScope(lianxin.Scope{All: scope.All, Units: scope.Units})
	if err != nil {
		return err
	}
	now := db.now()
	return db.Tx(ctx, func(tx *Tx) error {
		var e lianxin.RosterEntry
		if err := tx.Get(&e, `SELECT `+rosterCols+` FROM reception_roster r WHERE id = ? AND `+cond, append([]any{id}, args...)...); errors.Is(err, sql.ErrNoRows) {
			return lianxin.Errorf(lianxin.ENOTFOUND, "no roster entry %d", id)
		} else if err != nil {
			return err
		}
		if _, err := tx.Exec(`DELETE FROM reception_roster WHERE id = ?`, id); err != nil {
			return err
		}
		a.Action, a.Subject, a.Detail = "roster_remove", "station:"+e.StationID, e.Day+" "+e.DeputyID
		if err := bumpDirectory(tx, now); err != nil {
			return err
		}
		return audit(tx, a, now)
	})
}

// bumpDirectory moves the directory's version on (when it has one), so
// the processes watching it reload it with the roster.
func bumpDirectory(tx *Tx, now time.Time) error {
	_, err := tx.Exec(`UPDATE directory_meta SET version = version + 1, imported_at = ? WHERE id = 1`, now)
	return err
}

const bookingCols = `id, kind, station_id, day, slot, openid, name, phone, topic, status, case_number, deputy_id, COALESCE(source_key, '') AS source_key, created_by, created_at, cancelled_at`

// bookingTaken are the statuses that hold a place in a slot.
const bookingTaken = `status IN ('booked', 'arrived', 'registered')`

// SlotCounts is how many places of each slot of a station's day are taken.
func (db *DB) SlotCounts(ctx context.Context, stationID, day string) (_ map[string]int, err error) {
	defer wrap(&err, "SlotCounts")
	var rows []struct {
		Slot string `db:"slot"`
		N    int    `db:"n"`
	}
	if err := db.read.SelectContext(ctx, &rows, `SELECT slot, COUNT(*) AS n FROM reception_bookings
		WHERE station_id = ? AND day = ? AND kind = 'booking' AND `+bookingTaken+` GROUP BY slot`, stationID, day); err != nil {
		return nil, err
	}
	out := map[string]int{}
	for _, r := range rows {
		out[r.Slot] = r.N
	}
	return out, nil
}

// BookReception books a resident's place in a slot: refused with
// lianxin.ErrSlotFull when the slot has Capacity bookings and
// lianxin.ErrAlreadyBooked when they have one at the station that day. It
// queues the reminder the day before and the station's tag for the
// resident in the same transaction. A message that booked before books
// nothing again (created false, that booking returned).
func (db *DB) BookReception(ctx context.Context, nb lianxin.NewBooking) (_ *lianxin.Booking, created bool, err error) {
	defer wrap(&err, "BookReception")
	now := db.now()
	var b lianxin.Booking
	err = db.Tx(ctx, func(tx *Tx) error {
		created = false
		if nb.SourceKey != "" {
			err := tx.Get(&b, `SELECT `+bookingCols+` FROM reception_bookings WHERE source_key = ?`, nb.SourceKey)
			if err == nil {
				return nil
			} else if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
		}
		if nb.Kind == lianxin.BookingKindBooked {
			// One booking at a time per station and day: the checks below
			// count rows, and a concurrent booking's row is not there to
			// lock yet.
			if err := tx.d.lockName(tx, "reception:"+nb.StationID+":"+nb.Day); err != nil {
				return err
			}
			// Rows, not COUNT(*): PostgreSQL locks rows, not aggregates.
			var mine []int64
			if err := tx.Select(&mine, `SELECT id FROM reception_bookings WHERE openid = ? AND station_id = ? AND day = ? AND status = 'booked'`+tx.d.forUpdate(),
				nb.OpenID, nb.StationID, nb.Day); err != nil {
				return err
			}
			if len(mine) > 0 {
				return lianxin.ErrAlreadyBooked
			}
			var taken []int64
			if err := tx.Select(&taken, `SELECT id FROM reception_bookings WHERE station_id = ? AND day = ? AND slot = ? AND kind = 'booking' AND `+bookingTaken+tx.d.forUpdate(),
				nb.StationID, nb.Day, nb.Slot); err != nil {
				return err
			}
			if nb.Capacity > 0 && len(taken) >= nb.Capacity {
				return lianxin.ErrSlotFull
			}
		}
		var key any
		if nb.SourceKey != "" {
			key = nb.SourceKey
		}
		id, _, err := tx.insertID(`INSERT INTO reception_bookings (kind, station_id, day, slot, openid, name, phone, topic, status, source_key, created_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			nb.Kind, nb.StationID, nb.Day, nb.Slot, nb.OpenID, nb.Name, nb.Phone, nb.Topic, lianxin.BookingBooked, key, nb.CreatedBy, now)
		if err != nil {
			return err
		}
		if err := tx.Get(&b, `SELECT `+bookingCols+` FROM reception_bookings WHERE id = ?`, id); err != nil {
			return err
		}
		created = true
		if err := tagResident(tx, nb.OpenID, nb.Tag, now); err != nil {
			return err
		}
		if nb.Reminder != nil {
			n := *nb.Reminder
			n.IdemKey = bookingReminderKey(id)
			if err := enqueuePlainNotice(tx, now, n); err != nil {
				return err
			}
		}
		if nb.Audit != nil {
			a := *nb.Audit
			a.Subject = "booking:" + lianxin.BookingNumber(id)
			return audit(tx, a, now)
		}
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	return &b, created, nil
}

func bookingReminderKey(id int64) string { return "booking:" + lianxin.BookingNumber(id) + ":remind" }

// ResidentBookings are a resident's bookings still to come (from day on).
func (db *DB) ResidentBookings(ctx context.Context, openid, fromDay string) (_ []lianxin.Booking, err error) {
	defer wrap(&err, "ResidentBookings")
	var out []lianxin.Booking
	err = db.read.SelectContext(ctx, &out, `SELECT `+bookingCols+` FROM reception_bookings
		WHERE openid = ? AND day >= ? AND status = 'booked' ORDER BY day, slot, id`, openid, fromDay)
	return out, err
}

// CancelBooking cancels a resident's booking (theirs only) and drops its
// reminder if it has not gone out.
func (db *DB) CancelBooking(ctx context.Context, openid string, id int64) (_ *lianxin.Booking, err error) {
	defer wrap(&err, "CancelBooking(%d)", id)
	now := db.now()
	var b lianxin.Booking
	err = db.Tx(ctx, func(tx *Tx) error {
		if err := tx.Get(&b, `SELECT `+bookingCols+` FROM reception_bookings WHERE id = ? AND openid = ?`+tx.d.forUpdate(), id, openid); errors.Is(err, sql.ErrNoRows) {
			return lianxin.Errorf(lianxin.ENOTFOUND, "no booking %d of this resident", id)
		} else if err != nil {
			return err
		}
		if b.Status != lianxin.BookingBooked {
			return lianxin.Errorf(lianxin.ECONFLICT, "booking %d is %s", id, b.Status)
		}
		if _, err := tx.Exec(`UPDATE reception_bookings SET status = ?, cancelled_at = ? WHERE id = ?`, lianxin.BookingCancelled, now, id); err != nil {
			return err
		}
		b.Status, b.CancelledAt = lianxin.BookingCancelled, &now
		_, err := tx.Exec(`DELETE FROM outbox WHERE idem_key = ? AND status = 'pending'`, bookingReminderKey(id))
		return err
	})
	if err != nil {
		return nil, err
	}
	return &b, nil
}

// bookingScope is the bookings (alias b) a scope sees: its units', or the
// days a deputy sits on duty by the roster.
func bookingScope(scope lianxin.Scope) (string, []any, error) {
	switch {
	case scope.All:
		return "TRUE", nil, nil
	case len(scope.Units) > 0 && scope.DeputyID != "":
		q, args, err := sqlx.In(`(b.station_id IN (?) OR EXISTS (SELECT 1 FROM reception_roster r WHERE r.station_id = b.station_id AND r.day = b.day AND r.deputy_id = ?))`,
			scope.Units, scope.DeputyID)
		return q, args, err
	case len(scope.Units) > 0:
		return sqlx.In(`b.station_id IN (?)`, scope.Units)
	case scope.DeputyID != "":
		return `EXISTS (SELECT 1 FROM reception_roster r WHERE r.station_id = b.station_id AND r.day = b.day AND r.deputy_id = ?)`, []any{scope.DeputyID}, nil
	}
	return "FALSE", nil, nil
}

// DayList is a station's day within the scope: the bookings by slot, then
// the walk-ins as they came. Cancelled bookings come last.
func (db *DB) DayList(ctx context.Context, scope lianxin.Scope, stationID, day string) (_ []lianxin.Booking, err error) {
	defer wrap(&err, "DayList")
	cond, args, err := bookingScope(scope)
	if err != nil {
		return nil, err
	}
	var out []lianxin.Booking
	err = db.read.SelectContext(ctx, &out, `SELECT `+bookingCols+` FROM reception_bookings b WHERE station_id = ? AND day = ? AND `+cond+`
		ORDER BY CASE WHEN status = 'cancelled' THEN 1 ELSE 0 END, CASE WHEN kind = 'booking' THEN 0 ELSE 1 END, slot, id`,
		append([]any{stationID, day}, args...)...)
	return out, err
}

// Booking returns a booking within the scope.
func (db *DB) Booking(ctx context.Context, scope lianxin.Scope, id int64) (_ *lianxin.Booking, err error) {
	defer wrap(&err, "Booking(%d)", id)
	cond, args, err := bookingScope(scope)
	if err != nil {
		return nil, err
	}
	var b lianxin.Booking
	err = db.read.GetContext(ctx, &b, `SELECT `+bookingCols+` FROM reception_bookings b WHERE id = ? AND `+cond, append([]any{id}, args...)...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, lianxin.Errorf(lianxin.ENOTFOUND, "no booking %d", id)
	}
	return &b, err
}

// LinkBookingCase records the case registered from what a booking or
// walk-in raised, and the deputy on duty it went to, audited.
func (db *DB) LinkBookingCase(ctx context.Context, id int64, caseNumber, deputyID string, a lianxin.AuditEntry) (err error) {
	defer wrap(&err, "LinkBookingCase(%d)", id)
	now := db.now()
	return db.Tx(ctx, func(tx *Tx) error {
		res, err := tx.Exec(`UPDATE reception_bookings SET status = ?, case_number = ?, deputy_id = ? WHERE id = ? AND case_number = ''`,
			lianxin.BookingRegistered, caseNumber, deputyID, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return lianxin.Errorf(lianxin.ECONFLICT, "booking %d is already registered", id)
		}
		a.Action, a.Subject, a.Detail = "booking_register", "booking:"+lianxin.BookingNumber(id), caseNumber
		return audit(tx, a, now)
	})
}

// MarkArrived records that a booked resident came.
func (db *DB) MarkArrived(ctx context.Context, scope lianxin.Scope, id int64, a lianxin.AuditEntry) (err error) {
	defer wrap(&err, "MarkArrived(%d)", id)
	if _, err := db.Booking(ctx, scope, id); err != nil {
		return err
	}
	now := db.now()
	return db.Tx(ctx, func(tx *Tx) error {
		res, err := tx.Exec(`UPDATE reception_bookings SET status = ? WHERE id = ? AND status = ?`, lianxin.BookingArrived, id, lianxin.BookingBooked)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return lianxin.Errorf(lianxin.ECONFLICT, "booking %d is not waiting", id)
		}
		a.Action, a.Subject = "booking_arrived", "booking:"+lianxin.BookingNumber(id)
		return audit(tx, a, now)
	})
}

// ReceptionReminder is what became of a reception day's reminder.
type ReceptionReminder struct {
	StationID  string    `db:"station_id"`
	Day        string    `db:"day"`
	Status     string    `db:"status"` // queued, quota
	MassSendID *int64    `db:"mass_send_id"`
	CreatedAt  time.Time `db:"created_at"`
}

// Reception reminder statuses.
const (
	ReminderQueued = "queued"
	ReminderQuota  = "quota"
)

// RemindReception queues a reception day's reminder to its station's
// residents as a mass send within the month's quota, once per station and
// day whatever happens: when the quota is used up the day is recorded as
// not reminded (status quota), the station's staff are told (onQuota, in
// the same transaction, once) and nothing is tried again.
func (db *DB) RemindReception(ctx context.Context, stationID, day string, s lianxin.MassSend, quota int, onQuota []lianxin.Notice) (status string, err error) {
	defer wrap(&err, "RemindReception(%s %s)", stationID, day)
	now := db.now()
	err = db.Tx(ctx, func(tx *Tx) error {
		var have []string
		if err := tx.Select(&have, `SELECT status FROM reception_reminders WHERE station_id = ? AND day = ?`, stationID, day); err != nil {
			return err
		}
		if len(have) > 0 {
			status = have[0]
			return nil
		}
		id, err := enqueueMassSend(tx, s, quota, now)
		var sendID any
		status = ReminderQueued
		switch {
		case errors.Is(err, lianxin.ErrMassQuota):
			status = ReminderQuota
			for _, n := range onQuota {
				if err := enqueuePlainNotice(tx, now, n); err != nil {
					return err
				}
			}
		case err != nil:
			return err
		default:
			sendID = id
		}
		_, err = tx.Exec(`INSERT INTO reception_reminders (station_id, day, status, mass_send_id, created_at) VALUES (?, ?, ?, ?, ?)`,
			stationID, day, status, sendID, now)
		return err
	})
	return status, err
}

// ReceptionReminders lists the reminders of days from fromDay on.
func (db *DB) ReceptionReminders(ctx context.Context, fromDay string) (_ []ReceptionReminder, err error) {
	defer wrap(&err, "ReceptionReminders")
	var out []ReceptionReminder
	err = db.read.SelectContext(ctx, &out, `SELECT station_id, day, status, mass_send_id, created_at FROM reception_reminders WHERE day >= ? ORDER BY day, station_id`, fromDay)
	return out, err
}

// ResidentStation is the station a resident belongs with for reception
// days: that of their latest booking or case ("" : none yet).
func (db *DB) ResidentStation(ctx context.Context, openid string) (_ string, err error) {
	defer wrap(&err, "ResidentStation")
	var rows []struct {
		StationID string    `db:"station_id"`
		At        time.Time `db:"created_at"`
	}
	if err := db.read.SelectContext(ctx, &rows, `SELECT station_id, created_at FROM (
			SELECT station_id, created_at FROM cases WHERE openid = ? AND station_id <> ''
			UNION ALL SELECT station_id, created_at FROM reception_bookings WHERE openid = ? AND openid <> ''
		) AS s ORDER BY created_at DESC LIMIT 1`, openid, openid); err != nil {
		return "", err
	}
	if len(rows) == 0 {
		return "", nil
	}
	return rows[0].StationID, nil
}

// AddWalkIn adds a resident who came without booking to a station's day,
// within the scope, audited.
func (db *DB) AddWalkIn(ctx context.Context, scope lianxin.Scope, b lianxin.Booking, a lianxin.AuditEntry) (_ *lianxin.Booking, err error) {
	defer wrap(&err, "AddWalkIn")
	if !scope.All && !scope.Allows(b.StationID, "") {
		return nil, lianxin.Errorf(lianxin.EFORBIDDEN, "station %s is not in your scope", b.StationID)
	}
	b.Kind, b.Slot, b.OpenID, b.SourceKey = lianxin.BookingKindWalkIn, "", "", ""
	nb, _, err := db.BookReception(ctx, lianxin.NewBooking{Booking: b, Audit: &a})
	return nb, err
}
