package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/lianxin/lianxin"
)

// queryer is what the assignment view reads through: a transaction, or the
// read pool for decisions made outside one.
type queryer interface {
	Select(dest any, query string, args ...any) error
	Get(dest any, query string, args ...any) error
	QueryRowx(query string, args ...any) *sqlx.Row
	Queryx(query string, args ...any) (*sqlx.Rows, error)
}

type txView struct{ tx queryer }

// AssignView reads assignment counts outside a transaction (re-routing a
// returned case); a concurrent assignment may not be counted yet, which only
// affects load balancing.
func (db *DB) AssignView() lianxin.AssignView { return txView{db.read} }

func (v txView) OpenCounts(deputyIDs []string) (map[string]int, error) {
	out := make(map[string]int, len(deputyIDs))
	if len(deputyIDs) == 0 {
		return out, nil
	}
	// Kept by triggers (migration 005): one row per deputy, however many
	// cases they have. Built and scanned by hand: it runs in every
	// registration's transaction, where sqlx.In's and the struct mapping's
	// reflection cost more than the query.
	q := `SELECT deputy_id, open FROM deputy_open_cases WHERE open > 0 AND deputy_id IN (?` + strings.Repeat(`, ?`, len(deputyIDs)-1) + `)`
	args := make([]any, len(deputyIDs))
	for i, id := range deputyIDs {
		args[i] = id
	}
	rows, err := v.tx.Queryx(q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var open int
		if err := rows.Scan(&id, &open); err != nil {
			return nil, err
		}
		out[id] = open
	}
	return out, rows.Err()
}

func (v txView) LastAssignee(units []string) (string, error) {
	var bestID int64
	var best string
	// One statement per unit: an index seek on cases_by_station. (A single
	// UNION ALL of them costs four times as much: SQLite then reads each
	// unit's whole range.) Scanned into variables: sqlx's struct mapping
	// costs more than the query.
	for _, u := range units {
		var id int64
		var assignee string
		err := v.tx.QueryRowx(`SELECT id, assignee_id FROM cases WHERE station_id = ? AND assignee_id <> '' ORDER BY id DESC LIMIT 1`, u).Scan(&id, &assignee)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		} else if err != nil {
			return "", err
		}
		if id > bestID {
			bestID, best = id, assignee
		}
	}
	return best, nil
}

// CreateCase registers a report as a case in one transaction: the case, its
// place in the day's sequence, its deputy (assign may be nil), the link to its
// attachments, the timeline events and the notices. created is false when the
// report's source message had already registered a case (a retry or replay):
// that case is returned and nothing is written again. It returns once
// committed: the conversation journals the message durably before the reply
// carrying the case number leaves (see TxCommitted).
func (db *DB) CreateCase(ctx context.Context, num lianxin.CaseNumbering, r lianxin.Report, events []lianxin.Event, notices []lianxin.Notice, assign lianxin.Assigner) (c *lianxin.Case, created bool, err error) {
	defer wrap(&err, "CreateCase(category %s, station %s)", r.Category.Key, r.StationID)
	now := db.now()
	var id int64
	var row caseRow
	err = db.TxCommitted(ctx, func(tx *Tx) error {
		created = false
		if r.SourceKey != "" {
			err := tx.Get(&id, `SELECT id FROM cases WHERE source_key = ?`, r.SourceKey)
			if err == nil {
				return nil
			} else if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
		}
		number, err := nextNumber(tx, num, now)
		if err != nil {
			return err
		}
		// The deputy is chosen before the row is written, so the case is
		// inserted assigned: an UPDATE afterwards would rewrite the row and
		// its assignee indexes and fire the open-count and assignee-history
		// triggers twice (about a fifth of a registration's CPU). The
		// assigner reads only other cases (open counts, the last assignee).
		var a lianxin.Assignment
		if assign != nil {
			if a, err = assign(txView{tx}, number); err != nil {
				return err
			}
			events = append(append([]lianxin.Event(nil), events...), a.Events...)
			notices = append(append([]lianxin.Notice(nil), notices...), a.Notices...)
		}
		if row, err = insertCase(tx, number, r, a, now); err != nil {
			return err
		}
		id = row.ID
		if err := indexCase(tx, id, r.Description, r.Location.Address, r.Location.Label); err != nil {
			return err
		}
		if err := claimAttachments(tx, id, r, now); err != nil {
			return err
		}
		if r.ReporterOpenID != "" {
			if err := addReporter(tx, id, r.ReporterOpenID, now); err != nil {
				return err
			}
		}
		if err := record(tx, id, events, notices, now); err != nil {
			return err
		}
		for _, a := range r.Audit {
			a.Subject = number
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
	// The caller needs the case's number, station and deputy; the details
	// (attachments, timeline) are a Case call away. A new case is the row
	// just written (reading it back cost a query per case); an earlier one
	// is read.
	if !created {
		if err := db.read.GetContext(ctx, &row, `SELECT * FROM cases WHERE id = ?`, id); err != nil {
			return nil, false, err
		}
	}
	return row.toCase(), created, nil
}

// nextNumber takes the day's next number (in the stations' time zone).
func nextNumber(tx *Tx, num lianxin.CaseNumbering, now time.Time) (string, error) {
	day := now.In(num.Location)
	key := day.Format("20060102")
	// One statement: on PostgreSQL the counter row's lock orders
	// concurrent cases of the day until their transactions end.
	var seq int
	if err := tx.Get(&seq, `INSERT INTO case_counters (day, last) VALUES (?, 1)
		ON CONFLICT (day) DO UPDATE SET last = case_counters.last + 1 RETURNING last`, key); err != nil {
		return "", err
	}
	return lianxin.CaseNumber(num.Prefix, day, seq), nil
}

// insertCase writes the case row, registered, with its category's deadlines
// and the assigner's decision, and returns the row as written (the columns
// it does not set have their defaults).
func insertCase(tx *Tx, number string, r lianxin.Report, a lianxin.Assignment, now time.Time) (caseRow, error) {
	var acceptDue, resolveDue *time.Time
	if h := r.Category.AcceptHours; h > 0 {
		t := now.Add(time.Duration(h) * time.Hour)
		acceptDue = &t
	}
	if d := r.Category.ResolveDays; d > 0 {
		t := now.AddDate(0, 0, d)
		resolveDue = &t
	}
	var sourceKey any
	var sourceKeyPtr *string
	if r.SourceKey != "" {
		sourceKey, sourceKeyPtr = r.SourceKey, &r.SourceKey
	}
	source := r.Source
	if source == "" {
		source = lianxin.SourceWeChat
	}
	row := caseRow{Number: number, SourceKey: sourceKeyPtr, OpenID: r.OpenID, Status: string(lianxin.StatusRegistered),
		Category: r.Category.Key, StationID: r.StationID, AssigneeID: a.AssigneeID, Description: r.Description,
		Lat: r.Location.Lat, Lng: r.Location.Lng, LocLabel: r.Location.Label, Address: r.Location.Address, Phone: r.Phone,
		NeedsStaff: r.NeedsStaff || a.NeedsStaff, CreatedAt: now, UpdatedAt: now, AcceptDue: acceptDue, ResolveDue: resolveDue,
		Anonymous: r.Anonymous, Source: source, ContactName: r.ContactName, GridID: r.GridID, Reporter: r.Reporter}
	id, _, err := tx.insertID(`INSERT INTO cases (number, source_key, openid, status, category, station_id, assignee_id, description,
		lat, lng, loc_label, address, phone, needs_staff, created_at, updated_at, accept_due, resolve_due, anonymous, source, contact_name,
		grid_id, reporter)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		number, sourceKey, r.OpenID, lianxin.StatusRegistered, r.Category.Key, r.StationID, a.AssigneeID, r.Description,
		r.Location.Lat, r.Location.Lng, r.Location.Label, r.Location.Address, r.Phone, r.NeedsStaff || a.NeedsStaff,
		now, now, acceptDue, resolveDue, r.Anonymous, source, r.ContactName, r.GridID, r.Reporter)
	row.ID = id
	return row, err
}

// claimAttachments links the draft's photos and voice to the case (only the
// resident's own, only those not yet in a case) and keeps the phone the
// resident left.
func claimAttachments(tx *Tx, id int64, r lianxin.Report, now time.Time) error {
	// A grid worker's report for a resident carries the photos the worker
	// sent (forwarded from the grid's group).
	owner := r.OpenID
	if r.ReporterOpenID != "" {
		owner = r.ReporterOpenID
	}
	if len(r.Attachments) > 0 {
		// One statement for all of them (a report has a few photos).
		q := `UPDATE attachments SET case_id = ?, updated_at = ? WHERE openid = ? AND case_id IS NULL AND id IN (?` +
			strings.Repeat(`, ?`, len(r.Attachments)-1) + `)`
		args := make([]any, 0, 3+len(r.Attachments))
		args = append(args, id, now, owner)
		for _, a := range r.Attachments {
			args = append(args, a)
		}
		if _, err := tx.Exec(q, args...); err != nil {
			return err
		}
	}
	if r.Phone != "" && r.OpenID != "" {
		if _, err := tx.Exec(`UPDATE residents SET phone = ? WHERE openid = ?`, r.Phone, r.OpenID); err != nil {
			return err
		}
	}
	return nil
}

// record writes a change's timeline events and queues its notices, in the
// change's own transaction.
func record(tx *Tx, caseID int64, events []lianxin.Event, notices []lianxin.Notice, now time.Time) error {
	if err := addEvents(tx, caseID, events, now); err != nil {
		return err
	}
	for _, n := range notices {
		if err := enqueueNotice(tx, now, caseID, n); err != nil {
			return err
		}
	}
	return nil
}

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

func addEvent(tx *Tx, caseID int64, e lianxin.Event, now time.Time) error {
	return addEvents(tx, caseID, []lianxin.Event{e}, now)
}

// addEvents writes a change's events in one statement, in order (the
// timeline is ordered by id): a registration has several, and a statement
// costs more than a row.
func addEvents(tx *Tx, caseID int64, events []lianxin.Event, now time.Time) error {
	if len(events) == 0 {
		return nil
	}
	q := `INSERT INTO case_events (case_id, type, actor, text, audience, at) VALUES (?, ?, ?, ?, ?, ?)` +
		strings.Repeat(`, (?, ?, ?, ?, ?, ?)`, len(events)-1)
	args := make([]any, 0, 6*len(events))
	for _, e := range events {
		at := e.At
		if at.IsZero() {
			at = now
		}
		audience := e.Audience
		if audience == "" {
			audience = lianxin.AudienceStaff // when in doubt, internal
		}
		args = append(args, caseID, e.Type, e.Actor, e.Text, audience, at.UTC())
	}
	_, err := tx.Exec(q, args...)
	return err
}

// caseRow is a cases row as stored.
type caseRow struct {
	ID           int64      `db:"id"`
	Number       string     `db:"number"`
	SourceKey    *string    `db:"source_key"`
	OpenID       string     `db:"openid"`
	Status       string     `db:"status"`
	Category     string     `db:"category"`
	StationID    string     `db:"station_id"`
	AssigneeID   string     `db:"assignee_id"`
	Description  string     `db:"description"`
	Lat          float64    `db:"lat"`
	Lng          float64    `db:"lng"`
	LocLabel     string     `db:"loc_label"`
	Address      string     `db:"address"`
	Phone        string     `db:"phone"`
	NeedsStaff   bool       `db:"needs_staff"`
	Satisfaction string     `db:"satisfaction"`
	CreatedAt    time.Time  `db:"created_at"`
	UpdatedAt    time.Time  `db:"updated_at"`
	AcceptDue    *time.Time `db:"accept_due"`
	ResolveDue   *time.Time `db:"resolve_due"`
	ResolvedAt   *time.Time `db:"resolved_at"`
	AcceptedAt   *time.Time `db:"accepted_at"`
	Source       string     `db:"source"`
	ContactName  string     `db:"contact_name"`
	Private      bool       `db:"private"`
	MergedInto   string     `db:"merged_into"`

	AcceptRemindedAt  *time.Time `db:"accept_reminded_at"`
	AcceptOverdueAt   *time.Time `db:"accept_overdue_at"`
	ResolveRemindedAt *time.Time `db:"resolve_reminded_at"`
	ResolveOverdueAt  *time.Time `db:"resolve_overdue_at"`

	Anonymous   bool       `db:"anonymous"`
	ErasedAt    *time.Time `db:"erased_at"`
	TypicalAt   *time.Time `db:"typical_at"`
	TypicalNote string     `db:"typical_note"`

	GridID   string `db:"grid_id"`
	Reporter string `db:"reporter"`
}

func (r *caseRow) toCase() *lianxin.Case {
	return &lianxin.Case{
		ID: r.ID, Number: r.Number, Status: lianxin.Status(r.Status), CategoryKey: r.Category,
		StationID: r.StationID, AssigneeID: r.AssigneeID, Description: r.Description,
		Location: lianxin.Location{Lat: r.Lat, Lng: r.Lng, Label: r.LocLabel, Address: r.Address},
		Phone:    r.Phone, OpenID: r.OpenID, NeedsStaff: r.NeedsStaff, Satisfaction: r.Satisfaction,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, AcceptDue: r.AcceptDue, ResolveDue: r.ResolveDue, ResolvedAt: r.ResolvedAt,
		AcceptedAt: r.AcceptedAt, Anonymous: r.Anonymous, ErasedAt: r.ErasedAt, TypicalAt: r.TypicalAt, TypicalNote: r.TypicalNote,
		Source: r.Source, ContactName: r.ContactName, Private: r.Private, MergedInto: r.MergedInto,
		GridID: r.GridID, Reporter: r.Reporter,
		Attachments: []lianxin.Attachment{}, Events: []lianxin.Event{},
	}
}

func (db *DB) caseByID(ctx context.Context, id int64) (*lianxin.Case, error) {
	var r caseRow
	if err := db.read.GetContext(ctx, &r, `SELECT * FROM cases WHERE id = ?`, id); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, lianxin.Errorf(lianxin.ENOTFOUND, "case %d not found", id)
		}
		return nil, err
	}
	return db.withDetails(ctx, r.toCase())
}

// Case returns the case with the number, with its attachments and timeline.
func (db *DB) Case(ctx context.Context, number string) (_ *lianxin.Case, err error) {
	defer wrap(&err, "Case(%s)", number)
	var r caseRow
	if err := db.read.GetContext(ctx, &r, `SELECT * FROM cases WHERE number = ?`, strings.ToUpper(strings.TrimSpace(number))); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, lianxin.Errorf(lianxin.ENOTFOUND, "case %s not found", number)
		}
		return nil, err
	}
	return db.withDetails(ctx, r.toCase())
}

func (db *DB) withDetails(ctx context.Context, c *lianxin.Case) (*lianxin.Case, error) {
	if err := db.read.SelectContext(ctx, &c.Attachments, `SELECT `+attachmentColumns+` FROM attachments WHERE case_id = ? ORDER BY id`, c.ID); err != nil {
		return nil, err
	}
	if err := db.read.SelectContext(ctx, &c.Events, `SELECT * FROM case_events WHERE case_id = ? ORDER BY id`, c.ID); err != nil {
		return nil, err
	}
	if err := db.read.GetContext(ctx, &c.Supporters, `SELECT COUNT(*) FROM case_supporters WHERE case_id = ? AND role = ?`, c.ID, lianxin.SupporterResident); err != nil {
		return nil, err
	}
	return c, nil
}

// Cases lists cases, newest first, without attachments and timelines. The
// filter is the one the register export and the numbers take (see
// caseWhere), so a list, its sheet and its figure agree.
func (db *DB) Cases(ctx context.Context, f lianxin.CaseFilter) (_ []lianxin.Case, err error) {
	defer wrap(&err, "Cases")
	where, args, err := caseWhere(f, db.now())
	if err != nil {
		return nil, err
	}
	query := `SELECT c.* FROM cases c` + where + ` ORDER BY c.id DESC`
	if f.Limit > 0 {
		query += fmt.Sprintf(" LIMIT %d", f.Limit)
	}
	var rows []caseRow
	if err := db.read.SelectContext(ctx, &rows, query, args...); err != nil {
		return nil, err
	}
	out := make([]lianxin.Case, len(rows))
	for i := range rows {
		out[i] = *rows[i].toCase()
	}
	return out, nil
}
