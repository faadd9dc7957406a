package store

import (
	"context"
	"database/sql"
	"errors"
	"regexp"
	"strings"
	"time"

	"github.com/lianxin/lianxin"
)

// The console's reads (issue 12). Every one takes the user's scope and
// applies it in its own SQL, so no page, action, photo or export can show a
// case the user may not see: outside the scope a case reads as not found.

// scopeWhere is the SQL condition (on cases, aliased c) a scope allows.
func scopeWhere(s lianxin.Scope) (string, []any) {
	if s.All {
		return "1=1", nil
	}
	var parts []string
	var args []any
	if len(s.Units) > 0 {
		parts = append(parts, "c.station_id IN ("+placeholders(len(s.Units))+")")
		for _, u := range s.Units {
			args = append(args, u)
		}
	}
	if s.DeputyID != "" {
		parts = append(parts, "c.assignee_id = ?")
		args = append(args, s.DeputyID)
	}
	if len(parts) == 0 {
		return "0=1", nil
	}
	return "(" + strings.Join(parts, " OR ") + ")", args
}

const (
	openSQL = `c.status IN ('registered', 'accepted', 'forwarded', 'reopened')`
	// awaitingSQL: the accept deadline is the one that counts (Case.SLA).
	awaitingSQL = `(c.accepted_at IS NULL AND c.status IN ('registered', 'reopened') AND c.accept_due IS NOT NULL)`
)

// redSQL is 超期: an open case past the deadline that counts now.
func redSQL(now time.Time) (string, []any) {
	return `(` + openSQL + ` AND ((` + awaitingSQL + ` AND c.accept_due <= ?) OR (NOT ` + awaitingSQL +
		` AND c.resolve_due IS NOT NULL AND c.resolve_due <= ?)))`, []any{now.UTC(), now.UTC()}
}

// yellowSQL is 临期: open, not red, and within its category's window.
func yellowSQL(now time.Time, th []lianxin.SLAThreshold) (string, []any) {
	red, args := redSQL(now)
	limit := func(col string, pick func(lianxin.SLAThreshold) time.Duration) string {
		if len(th) == 0 {
			return "0=1"
		}
		expr := col + ` <= CASE c.category`
		for _, t := range th {
			expr += ` WHEN ? THEN ?`
			args = append(args, t.Category, now.Add(pick(t)).UTC())
		}
		args = append(args, now.UTC())
		return expr + ` ELSE ? END`
	}
	accept := limit("c.accept_due", func(t lianxin.SLAThreshold) time.Duration { return t.Accept })
	resolve := limit("c.resolve_due", func(t lianxin.SLAThreshold) time.Duration { return t.Resolve })
	return `(` + openSQL + ` AND NOT ` + red + ` AND ((` + awaitingSQL + ` AND ` + accept + `) OR (NOT ` + awaitingSQL +
		` AND c.resolve_due IS NOT NULL AND ` + resolve + `)))`, args
}

func queueSQL(d dialect, queue string, now time.Time) (string, []any, error) {
	switch queue {
	case lianxin.QueueStaff:
		return openSQL + ` AND ` + d.staffFlag(`c.needs_staff`), nil, nil
	case lianxin.QueueUnassigned:
		return openSQL + ` AND c.assignee_id = ''`, nil, nil
	case lianxin.QueueDistrict:
		return openSQL + ` AND c.station_id = ''`, nil, nil
	case lianxin.QueueOverdue:
		q, a := redSQL(now)
		return q, a, nil
	case lianxin.QueueRating:
		return `c.status = 'resolved' AND c.satisfaction = '' AND c.resolved_at > ?`, []any{now.Add(-lianxin.RatingWindow).UTC()}, nil
	}
	return "", nil, lianxin.Errorf(lianxin.EINVALID, "unknown queue %q", queue)
}

var (
	fullNumberRE = regexp.MustCompile(`^[A-Za-z]{1,8}\d{8}-\d{1,6}$`)
	digitsRE     = regexp.MustCompile(`^\d{1,6}$`)
)

// caseListWhere builds the list's condition; withStatus false leaves the
// status filter out (for the per-status counts).
func caseListWhere(d dialect, scope lianxin.Scope, q lianxin.CaseQuery, withStatus bool) (string, []any, error) {
	w, args := scopeWhere(scope)
	conds := []string{w}
	add := func(cond string, a ...any) {
		conds = append(conds, cond)
		args = append(args, a...)
	}
	if withStatus && len(q.Status) > 0 {
		a := make([]any, len(q.Status))
		for i, s := range q.Status {
			a[i] = string(s)
		}
		add("c.status IN ("+placeholders(len(a))+")", a...)
	}
	if len(q.Units) > 0 {
		a := make([]any, len(q.Units))
		for i, u := range q.Units {
			a[i] = u
		}
		add("c.station_id IN ("+placeholders(len(a))+")", a...)
	}
	if q.Category != "" {
		add("c.category = ?", q.Category)
	}
	now := q.Now
	if now.IsZero() {
		now = time.Now()
	}
	if !q.Measure.Valid() {
		return "", nil, lianxin.Errorf(lianxin.EINVALID, "unknown measure %q", q.Measure)
	}
	// A figure's cases (Measure) are judged over its period, as the
	// numbers judge them (register.go); otherwise From and To bound when
	// a case was registered.
	from, cut := period(lianxin.CaseFilter{From: q.From, To: q.To}, now)
	switch {
	case q.Deputy == "":
	case q.Measure != "":
		deputy := q.Deputy
		if deputy == lianxin.NoDeputy {
			deputy = ""
		}
		add(deputyAtSQL(cut)+" = ?", deputy)
	case q.Deputy == lianxin.NoDeputy:
		add("c.assignee_id = ''")
	default:
		add("c.assignee_id = ?", q.Deputy)
	}
	if q.Source != "" {
		// The register's 来源, so a figure's source lists its cases.
		add(sourceSQL+" = ?", sourceLabel(q.Source))
	}
	if q.Typical {
		add("c.typical_at IS NOT NULL")
	}
	if q.Measure != "" {
		add(countedSQL(from, cut) + " AND " + measureSQL(q.Measure, from, cut))
	} else {
		if !q.From.IsZero() {
			add("c.created_at >= ?", q.From.UTC())
		}
		if !q.To.IsZero() {
			add("c.created_at < ?", q.To.UTC())
		}
	}
	switch q.SLA {
	case "":
	case lianxin.SLARed:
		s, a := redSQL(now)
		add(s, a...)
	case lianxin.SLAYellow:
		s, a := yellowSQL(now, q.Thresholds)
		add(s, a...)
	case lianxin.SLAGreen:
		red, ra := redSQL(now)
		yellow, ya := yellowSQL(now, q.Thresholds)
		add(openSQL+" AND NOT "+red+" AND NOT "+yellow, append(ra, ya...)...)
	default:
		return "", nil, lianxin.Errorf(lianxin.EINVALID, "unknown SLA colour %q", q.SLA)
	}
	if q.Queue != "" {
		s, a, err := queueSQL(d, q.Queue, now)
		if err != nil {
			return "", nil, err
		}
		add(s, a...)
	}
	if s := strings.TrimSpace(q.Search); s != "" {
		switch {
		case fullNumberRE.MatchString(s):
			add("c.number = ?", strings.ToUpper(s))
		case digitsRE.MatchString(s):
			// A short number (7 → …-0007), or a phone's last four digits.
			seq := strings.TrimLeft(s, "0")
			if len(seq) < 4 {
				seq = strings.Repeat("0", 4-len(seq)) + seq
			}
			switch {
			case len(s) == 4 && scope.DeputyID != "":
				// A deputy does not find an anonymous resident by their phone.
				add(`(`+d.last4(`c.number`)+` = ? OR (`+d.last4(`c.phone`)+` = ? AND c.anonymous = FALSE))`, seq, s)
			case len(s) == 4:
				add(`(`+d.last4(`c.number`)+` = ? OR `+d.last4(`c.phone`)+` = ?)`, seq, s)
			case len(seq) == 4:
				add(d.last4(`c.number`)+` = ?`, seq)
			default: // a day's 10,000th case or later
				add(`c.number LIKE ?`, "%-"+seq)
			}
		default:
			// Words of the text, through the bigram index (store/search.go).
			if cond, a, ok := d.searchCond(s); ok {
				add(cond, a...)
			} else {
				add("0=1")
			}
		}
	}
	return strings.Join(conds, " AND "), args, nil
}

// sourceLabel is a source code's label in the register (sourceSQL).
func sourceLabel(code string) string {
	if l, ok := lianxin.SourceLabels[code]; ok {
		return l
	}
	return lianxin.SourceLabels[lianxin.SourceWeChat]
}

// RegisterList streams the register lines of the console list's cases
// (the scope and the query's filters, in its order, all pages): the
// console's export, exactly the list it was asked from.
func (db *DB) RegisterList(ctx context.Context, scope lianxin.Scope, q lianxin.CaseQuery, fn func(*lianxin.RegisterRow) error) (err error) {
	defer wrap(&err, "RegisterList")
	where, args, err := caseListWhere(db.d, scope, q, true)
	if err != nil {
		return err
	}
	order, err := caseListOrder(q.Sort)
	if err != nil {
		return err
	}
	return db.streamRegister(ctx, registerSelect(db.d, db.now())+` WHERE `+where+` ORDER BY `+order, args, fn)
}

func caseListOrder(sort string) (string, error) {
	switch sort {
	case "", lianxin.SortNewest:
		return "c.id DESC", nil
	case lianxin.SortOldest:
		return "c.id ASC", nil
	case lianxin.SortUpdated:
		return "c.updated_at DESC, c.id DESC", nil
	case lianxin.SortDue:
		return `CASE WHEN NOT ` + openSQL + ` THEN NULL WHEN ` + awaitingSQL + ` THEN c.accept_due ELSE c.resolve_due END ASC NULLS LAST, c.id ASC`, nil
	}
	return "", lianxin.Errorf(lianxin.EINVALID, "unknown sort %q", sort)
}

// MaxPerPage bounds a page of the case list.
const MaxPerPage = 200

// CaseList is one page of the console's case list within the scope, with
// the total and the counts per status.
func (db *DB) CaseList(ctx context.Context, scope lianxin.Scope, q lianxin.CaseQuery) (_ *lianxin.CasePage, err error) {
	defer wrap(&err, "CaseList")
	where, args, err := caseListWhere(db.d, scope, q, true)
	if err != nil {
		return nil, err
	}
	order, err := caseListOrder(q.Sort)
	if err != nil {
		return nil, err
	}
	per := q.PerPage
	if per <= 0 {
		per = 50
	}
	per = min(per, MaxPerPage)
	page := max(q.Page, 1)
	out := &lianxin.CasePage{Page: page, ByStatus: map[lianxin.Status]int{}}

	var rows []struct {
		caseRow
		Photos int `db:"photos"`
	}
	err = db.read.SelectContext(ctx, &rows, `SELECT c.*, (SELECT COUNT(*) FROM attachments a WHERE a.case_id = c.id AND a.kind = 'image') AS photos
		FROM cases c WHERE `+where+` ORDER BY `+order+` LIMIT ? OFFSET ?`, append(args, per, (page-1)*per)...)
	if err != nil {
		return nil, err
	}
	out.Cases = make([]lianxin.CaseRow, len(rows))
	for i := range rows {
		out.Cases[i] = lianxin.CaseRow{Case: *rows[i].caseRow.toCase(), Photos: rows[i].Photos}
	}

	// The counts per status ignore the status filter, so each tab says
	// what it would show; the total is theirs for the statuses filtered.
	cwhere, cargs, _ := caseListWhere(db.d, scope, q, false)
	var counts []struct {
		Status string `db:"status"`
		N      int    `db:"n"`
	}
	// Grouped by station too when the scope or the filter names stations:
	// the (station_id, status) index then yields the groups in order, with
	// no sort of a station's whole register.
	group := `c.status`
	if !scope.All || len(q.Units) > 0 {
		group = `c.station_id, c.status`
	}
	if err := db.read.SelectContext(ctx, &counts, `SELECT c.status, COUNT(*) AS n FROM cases c WHERE `+cwhere+` GROUP BY `+group, cargs...); err != nil {
		return nil, err
	}
	for _, c := range counts {
		out.ByStatus[lianxin.Status(c.Status)] += c.N
	}
	if len(q.Status) == 0 {
		for _, n := range out.ByStatus {
			out.Total += n
		}
	}
	for _, s := range q.Status {
		out.Total += out.ByStatus[s]
	}
	out.Pages = max(1, (out.Total+per-1)/per)
	return out, nil
}

// QueueCounts counts the cases of each console queue within the scope.
func (db *DB) QueueCounts(ctx context.Context, scope lianxin.Scope, now time.Time) (_ lianxin.QueueCounts, err error) {
	defer wrap(&err, "QueueCounts")
	w, args := scopeWhere(scope)
	red, rargs := redSQL(now)
	var n struct {
		Staff, Unassigned, District, Overdue, Rating sql.NullInt64
	}
	// Two reads, each on a partial index: the open cases, and the resolved
	// ones waiting for a rating. The register's closed cases are never read.
	q := `SELECT
		SUM(CASE WHEN ` + db.d.staffFlag(`c.needs_staff`) + ` THEN 1 ELSE 0 END), SUM(CASE WHEN c.assignee_id = '' THEN 1 ELSE 0 END),
		SUM(CASE WHEN c.station_id = '' THEN 1 ELSE 0 END), SUM(CASE WHEN ` + red + ` THEN 1 ELSE 0 END)
		FROM cases c WHERE ` + openSQL + ` AND ` + w
	if err := db.read.QueryRowxContext(ctx, q, append(rargs, args...)...).Scan(&n.Staff, &n.Unassigned, &n.District, &n.Overdue); err != nil {
		return nil, err
	}
	q = `SELECT COUNT(*) FROM cases c WHERE c.status = 'resolved' AND c.satisfaction = '' AND c.resolved_at > ? AND ` + w
	if err := db.read.QueryRowxContext(ctx, q, append([]any{now.Add(-lianxin.RatingWindow).UTC()}, args...)...).Scan(&n.Rating); err != nil {
		return nil, err
	}
	return lianxin.QueueCounts{lianxin.QueueStaff: int(n.Staff.Int64), lianxin.QueueUnassigned: int(n.Unassigned.Int64),
		lianxin.QueueDistrict: int(n.District.Int64), lianxin.QueueOverdue: int(n.Overdue.Int64), lianxin.QueueRating: int(n.Rating.Int64)}, nil
}

// CaseInScope returns the case with its attachments and timeline when the
// scope allows it; ENOTFOUND otherwise, exactly as for a wrong number.
func (db *DB) CaseInScope(ctx context.Context, scope lianxin.Scope, number string) (_ *lianxin.Case, err error) {
	defer wrap(&err, "CaseInScope(%s)", number)
	w, args := scopeWhere(scope)
	var r caseRow
	err = db.read.GetContext(ctx, &r, `SELECT c.* FROM cases c WHERE c.number = ? AND `+w, append([]any{strings.ToUpper(strings.TrimSpace(number))}, args...)...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, lianxin.Errorf(lianxin.ENOTFOUND, "case %s not found in scope", number)
	} else if err != nil {
		return nil, err
	}
	return db.withDetails(ctx, r.toCase())
}

// AttachmentInScope returns a photo or voice message of a case the scope
// allows; ENOTFOUND otherwise (and for attachments in no case: drafts).
func (db *DB) AttachmentInScope(ctx context.Context, scope lianxin.Scope, id int64) (_ *lianxin.Attachment, err error) {
	defer wrap(&err, "AttachmentInScope(%d)", id)
	w, args := scopeWhere(scope)
	var a lianxin.Attachment
	err = db.read.GetContext(ctx, &a, `SELECT a.id, a.case_id, a.kind, a.media_id, a.pic_url, a.status, a.path, a.thumb_path, a.sha256, a.mime, a.size,
		a.error, a.attempts, a.created_at, a.recognition, a.hidden
		FROM attachments a JOIN cases c ON c.id = a.case_id WHERE a.id = ? AND `+w, append([]any{id}, args...)...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, lianxin.Errorf(lianxin.ENOTFOUND, "attachment %d not found in scope", id)
	}
	return &a, err
}

// Conversation is what the case's resident sent around the time of the
// case, as journaled, oldest first (at most limit messages).
func (db *DB) Conversation(ctx context.Context, c *lianxin.Case, limit int) (_ []lianxin.JournalEntry, err error) {
	defer wrap(&err, "Conversation(%s)", c.Number)
	if c.OpenID == "" {
		return nil, nil
	}
	var out []lianxin.JournalEntry
	err = db.read.SelectContext(ctx, &out, `SELECT * FROM (SELECT id, account, msg_key, openid, kind, content, media_id, '' AS payload, sent_at, received_at, outcome, reply
		FROM journal WHERE openid = ? AND received_at >= ? AND received_at <= ? ORDER BY id DESC LIMIT ?) AS j ORDER BY id`,
		c.OpenID, c.CreatedAt.Add(-24*time.Hour).UTC(), c.UpdatedAt.Add(24*time.Hour).UTC(), limit)
	return out, err
}

// CaseNotices lists what was sent (or is waiting to be) about a case, oldest first.
func (db *DB) CaseNotices(ctx context.Context, caseID int64) (_ []lianxin.OutboxMessage, err error) {
	defer wrap(&err, "CaseNotices(%d)", caseID)
	var out []lianxin.OutboxMessage
	err = db.read.SelectContext(ctx, &out, `SELECT * FROM outbox WHERE case_id = ? ORDER BY id`, caseID)
	return out, err
}
