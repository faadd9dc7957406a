package registertest

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	_ "github.com/mattn/go-sqlite3" // the store's driver, for filling its file in bulk

	"github.com/lianxin/lianxin"
	"github.com/lianxin/lianxin/store"
)

// BulkOptions shape a register filled in bulk.
type BulkOptions struct {
	Cases    int
	From, To time.Time // registration times fall in [From, To)
	Now      time.Time // what has happened by then has happened
	Seed     uint64
}

// Bulk fills the store's file with registered cases and their histories
// through SQL, many times faster than registering them one by one, firing
// the same triggers the store relies on: cases in every station and point
// (dots inside their areas), every category (heating in winter), taken up,
// forwarded, resolved and rated with realistic delays, some late, some
// still open at opts.Now. It returns the number of cases written.
func Bulk(ctx context.Context, db *store.DB, dir *lianxin.Directory, cats lianxin.Categories, opts BulkOptions) (int, error) {
	conn, err := sql.Open("sqlite3", "file:"+db.Path()+"?_foreign_keys=on&_busy_timeout=10000&_journal_mode=WAL&_txlock=immediate")
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	b := &bulk{tx: tx, rng: rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x5eed)), dir: dir, cats: cats, seq: map[string]int{}}
	if err := b.prepare(ctx); err != nil {
		return 0, err
	}
	span := opts.To.Sub(opts.From)
	for i := 0; i < opts.Cases; i++ {
		created := opts.From.Add(time.Duration(b.rng.Int64N(int64(span)))).Truncate(time.Minute)
		if err := b.add(ctx, created, opts.Now); err != nil {
			return i, fmt.Errorf("case %d: %w", i, err)
		}
	}
	for day, last := range b.seq {
		if _, err := tx.ExecContext(ctx, `INSERT INTO case_counters (day, last) VALUES (?, ?) ON CONFLICT (day) DO UPDATE SET last = MAX(last, excluded.last)`, day, last); err != nil {
			return 0, err
		}
	}
	return opts.Cases, tx.Commit()
}

type bulk struct {
	tx   *sql.Tx
	rng  *rand.Rand
	dir  *lianxin.Directory
	cats lianxin.Categories
	seq  map[string]int

	insert, event, update *sql.Stmt
	units                 []lianxin.Station
}

func (b *bulk) prepare(ctx context.Context) (err error) {
	rows, err := b.tx.QueryContext(ctx, `SELECT day, last FROM case_counters`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var day string
		var last int
		if err := rows.Scan(&day, &last); err != nil {
			rows.Close()
			return err
		}
		b.seq[day] = last
	}
	rows.Close()
	if b.insert, err = b.tx.PrepareContext(ctx, `INSERT INTO cases (number, openid, status, category, station_id, assignee_id, description,
		lat, lng, loc_label, address, phone, created_at, updated_at, accept_due, resolve_due) VALUES (?, ?, 'registered', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`); err != nil {
		return err
	}
	if b.event, err = b.tx.PrepareContext(ctx, `INSERT INTO case_events (case_id, type, actor, text, at) VALUES (?, ?, ?, ?, ?)`); err != nil {
		return err
	}
	if b.update, err = b.tx.PrepareContext(ctx, `UPDATE cases SET status = ?, updated_at = ?,
		accepted_at = CASE WHEN ? = 'accepted' THEN ? ELSE accepted_at END,
		resolved_at = CASE WHEN ? = 'resolved' THEN ? ELSE resolved_at END WHERE id = ?`); err != nil {
		return err
	}
	for _, s := range b.dir.Stations {
		if len(b.dir.DeputiesOf(s.ID)) > 0 {
			b.units = append(b.units, s)
		}
	}
	return nil
}

// category picks a category, heating far more often in the heating season.
func (b *bulk) category(t time.Time) lianxin.Category {
	m := t.In(CST).Month()
	if (m >= time.November || m <= time.March) && b.rng.IntN(100) < 45 {
		if c, ok := b.cats.ByKey("heating"); ok {
			return c
		}
	}
	return b.cats[b.rng.IntN(len(b.cats))]
}

// pointIn is a random point inside a unit's area.
func (b *bulk) pointIn(s lianxin.Station) (lianxin.Point, bool) {
	pts := outlineOf(s.Area)
	if len(pts) == 0 {
		return lianxin.Point{}, false
	}
	minLat, maxLat, minLng, maxLng := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for _, p := range pts {
		minLat, maxLat = math.Min(minLat, p.Lat), math.Max(maxLat, p.Lat)
		minLng, maxLng = math.Min(minLng, p.Lng), math.Max(maxLng, p.Lng)
	}
	for range 50 {
		p := lianxin.Point{Lat: minLat + b.rng.Float64()*(maxLat-minLat), Lng: minLng + b.rng.Float64()*(maxLng-minLng)}
		if s.Area.Contains(p) {
			return p, true
		}
	}
	return lianxin.Point{}, false
}

func outlineOf(a lianxin.Area) []lianxin.Point {
	if len(a.Polygon) >= 3 {
		return a.Polygon
	}
	if a.Center != nil {
		d := a.RadiusM / 111000
		c := *a.Center
		return []lianxin.Point{{Lat: c.Lat - d, Lng: c.Lng - d}, {Lat: c.Lat + d, Lng: c.Lng + d}}
	}
	return nil
}

// delay is a wait of about mean times the window, exponential.
func (b *bulk) delay(window time.Duration, mean float64) time.Duration {
	return time.Duration(b.rng.ExpFloat64() * mean * float64(window)).Truncate(time.Minute)
}

func (b *bulk) add(ctx context.Context, created, now time.Time) error {
	cat := b.category(created)
	unit, deputy := lianxin.Station{}, ""
	if b.rng.IntN(100) >= 2 { // a few land in the district queue
		unit = b.units[b.rng.IntN(len(b.units))]
		ds := b.dir.DeputiesOf(unit.ID)
		deputy = ds[b.rng.IntN(len(ds))].ID
	}
	var lat, lng float64
	label := ""
	if p, ok := b.pointIn(unit); ok && b.rng.IntN(100) < 85 {
		lat, lng, label = p.Lat, p.Lng, shortUnit(unit.Name)+"附近"
	}
	day := created.In(CST).Format("20060102")
	b.seq[day]++
	number := fmt.Sprintf("KQ%s-%04d", day, b.seq[day])
	acceptWin, resolveWin := time.Duration(cat.AcceptHours)*time.Hour, time.Duration(cat.ResolveDays)*24*time.Hour
	acceptDue, resolveDue := created.Add(acceptWin), created.Add(resolveWin)
	openid := fmt.Sprintf("oBulk%012d", b.rng.IntN(40000))
	phone := fmt.Sprintf("139%08d", b.rng.IntN(100000000))
	res, err := b.insert.ExecContext(ctx, number, openid, cat.Key, unit.ID, deputy, descriptions[cat.Key]+"（批量样例）",
		lat, lng, label, "", phone, created.UTC(), created.UTC(), acceptDue.UTC(), resolveDue.UTC())
	if err != nil {
		return err
	}
	id, _ := res.LastInsertId()
	if _, err := b.event.ExecContext(ctx, id, lianxin.EventCreated, "resident", "", created.UTC()); err != nil {
		return err
	}
	// The district queue's cases are taken up by the district's staff.
	actor := "staff"
	if deputy != "" {
		actor = lianxin.DeputyRecipient(deputy)
	}
	step := func(status, typ, text string, at time.Time) error {
		if _, err := b.update.ExecContext(ctx, status, at.UTC(), status, at.UTC(), status, at.UTC(), id); err != nil {
			return err
		}
		_, err := b.event.ExecContext(ctx, id, typ, actor, text, at.UTC())
		return err
	}
	accepted := created.Add(b.delay(acceptWin, 0.35))
	if !accepted.Before(now) {
		return nil
	}
	if err := step("accepted", lianxin.EventAccepted, "", accepted); err != nil {
		return err
	}
	resolved := accepted.Add(b.delay(resolveWin, 0.4))
	if cat.Department != "" && b.rng.IntN(100) < 25 {
		fwd := accepted.Add(b.delay(resolveWin, 0.1))
		if fwd.Before(now) && fwd.Before(resolved) {
			name := cat.Department
			if d, ok := b.dir.Department(cat.Department); ok {
				name = d.Name
			}
			if err := step("forwarded", lianxin.EventForwarded, name+" 请协助办理", fwd); err != nil {
				return err
			}
		}
	}
	if !resolved.Before(now) {
		return nil
	}
	if err := step("resolved", lianxin.EventResolved, "已办结，已向群众答复", resolved); err != nil {
		return err
	}
	if b.rng.IntN(100) >= 72 {
		return nil
	}
	rated := resolved.Add(time.Duration(b.rng.Int64N(int64(48 * time.Hour)))).Truncate(time.Minute)
	if !rated.Before(now) {
		return nil
	}
	rating := lianxin.Satisfied
	switch r := b.rng.IntN(100); {
	case r >= 92:
		rating = lianxin.Unsatisfied
	case r >= 66:
		rating = lianxin.FairlySatisfied
	}
	if _, err := b.tx.ExecContext(ctx, `UPDATE cases SET satisfaction = ?, updated_at = ? WHERE id = ?`, rating, rated.UTC(), id); err != nil {
		return err
	}
	_, err = b.event.ExecContext(ctx, id, lianxin.EventRated, "resident", rating, rated.UTC())
	return err
}

// shortUnit is a unit's name without its tail: 水滩社区人大代表联络点 → 水滩社区.
func shortUnit(name string) string {
	for _, tail := range []string{"人大代表联络站", "人大代表联络点"} {
		if s, ok := strings.CutSuffix(name, tail); ok {
			return s
		}
	}
	return name
}
