package service_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/lianxin/lianxin"
	"github.com/lianxin/lianxin/store"
)

// BenchmarkConsole100k: with 100,000 cases in the register, the console's
// filtered lists and the case page, fetched over HTTP as a signed-in user
// (query, scope, counts, rendering). Reports p50 and p95 per request.
//
//	go test ./internal/service -run '^$' -bench Console100k -benchtime 200x
func BenchmarkConsole100k(b *testing.B) {
	cfg := testConfig(b)
	s := startService(b, cfg)
	numbers := seedCases(b, cfg.DBPath, 100_000)
	s.AddUser(b, "bench-admin", lianxin.RoleAdmin, "", "", testPassword)
	s.AddUser(b, "bench-clerk", lianxin.RoleStaff, "pingtanjie", "", testPassword)
	admin := s.Login(b, "bench-admin", testPassword)
	clerk := s.Login(b, "bench-clerk", testPassword)
	rng := rand.New(rand.NewPCG(1, 2))
	for _, bc := range []struct {
		name string
		who  *http.Client
		path func() string
	}{
		{"list/clerk", clerk, func() string { return "/console/cases" }},
		{"list/clerk-open-heating", clerk, func() string { return "/console/cases?status=registered&category=heating" }},
		{"list/clerk-page-20", clerk, func() string { return "/console/cases?page=20" }},
		{"list/admin-overdue", admin, func() string { return "/console/cases?sla=red&sort=due" }},
		{"list/admin-yellow", admin, func() string { return "/console/cases?sla=yellow" }},
		{"list/admin-search-words", admin, func() string { return "/console/cases?q=%E6%9A%96%E6%B0%94+%E4%B8%8D%E7%83%AD" }},
		{"list/admin-phone-last4", admin, func() string { return "/console/cases?q=5678" }},
		{"list/admin-station-month", admin, func() string { return "/console/cases?station=saiyu&from=2026-01-01&to=2026-01-31" }},
		{"case", admin, func() string { return "/console/cases/" + numbers[rng.IntN(len(numbers))] }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			lat := make([]time.Duration, 0, b.N)
			for b.Loop() {
				start := time.Now()
				code, body := s.Get(b, bc.who, bc.path())
				lat = append(lat, time.Since(start))
				if code != 200 {
					b.Fatalf("%s: HTTP %d\n%s", bc.path(), code, body)
				}
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*95/100].Microseconds())/1000, "p95-ms")
		})
	}
}

// seedCases writes n cases straight into the database, as two years of a
// district's register: 15 % still open, the rest resolved; every case with
// its timeline (created, routed, assigned, and accepted and resolved for
// closed ones) and a photo on a third of them. It returns their numbers.
func seedCases(b *testing.B, path string, n int) []string {
	b.Helper()
	db, err := sqlx.Open("sqlite3", "file:"+path+"?_foreign_keys=on&_busy_timeout=10000&_journal_mode=WAL")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	rng := rand.New(rand.NewPCG(7, 11))
	units := []struct{ station, deputy string }{{"pingtanjie", "d-pt-02"}, {"shuitan", "d-st-02"}, {"dongyaofang", "d-dyf-02"},
		{"saiyu", "d-sy-02"}, {"guishigou", "d-gsg-02"}, {"qiaotou", "d-qt-02"}}
	cats := []string{"heating", "property", "utilities", "roads", "trees", "sanitation", "elderly", "housing", "safety", "other"}
	texts := []string{"暖气不热，屋里只有十四五度", "楼道灯坏了好几天没人修", "小区门口路面塌陷有积水", "树枝压着电线很危险",
		"垃圾堆了好几天没人清运", "独居老人家里没人照看", "房产证一直办不下来", "物业不管事乱收费", "停水也不提前通知", "斜坡上有落石"}
	tx := db.MustBegin()
	start := time.Date(2025, 1, 1, 8, 0, 0, 0, time.UTC)
	now := time.Now().UTC()
	span := now.Sub(start)
	numbers := make([]string, 0, n)
	perDay := map[string]int{}
	caseStmt, err := tx.Preparex(`INSERT INTO cases (number, openid, status, category, station_id, assignee_id, description, lat, lng, address, phone,
		created_at, updated_at, accept_due, resolve_due, resolved_at, accepted_at, satisfaction, source)
		VALUES (?, ?, ?, ?, ?, ?, ?, 37.85, 113.57, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		b.Fatal(err)
	}
	evStmt, err := tx.Preparex(`INSERT INTO case_events (case_id, type, actor, text, at) VALUES (?, ?, ?, ?, ?)`)
	if err != nil {
		b.Fatal(err)
	}
	searchStmt, err := tx.Preparex(`INSERT INTO case_search (docid, body) VALUES (?, ?)`)
	if err != nil {
		b.Fatal(err)
	}
	attStmt, err := tx.Preparex(`INSERT INTO attachments (case_id, openid, msg_key, kind, media_id, status, next_attempt, expires_at, created_at, updated_at)
		VALUES (?, ?, ?, 'image', 'm', 'stored', ?, ?, ?, ?)`)
	if err != nil {
		b.Fatal(err)
	}
	for i := range n {
		created := start.Add(time.Duration(float64(span) * float64(i) / float64(n)))
		day := created.Format("20060102")
		perDay[day]++
		number := fmt.Sprintf("KQ%s-%04d", day, perDay[day])
		u := units[rng.IntN(len(units))]
		cat := cats[rng.IntN(len(cats))]
		open := i > n*85/100 || rng.IntN(50) == 0
		status, accepted, resolved, satisfaction := "resolved", any(created.Add(3*time.Hour)), any(created.Add(72*time.Hour)), "satisfied"
		if open {
			status, resolved, satisfaction = []string{"registered", "accepted", "forwarded", "reopened"}[rng.IntN(4)], nil, ""
			if status == "registered" || status == "reopened" {
				accepted = nil
			}
		}
		openid := fmt.Sprintf("oSeed%06d", rng.IntN(n/3))
		phone := fmt.Sprintf("13%09d", rng.IntN(1_000_000_000))
		source := []string{"wechat", "wechat", "wechat", "visit", "call"}[rng.IntN(5)]
		desc, addr := texts[rng.IntN(len(texts))]+fmt.Sprintf("（%d号楼）", 1+rng.IntN(45)), fmt.Sprintf("%d号楼", 1+rng.IntN(45))
		res, err := caseStmt.Exec(number, openid, status, cat, u.station, u.deputy, desc, addr, phone, created, created.Add(time.Hour), created.Add(24*time.Hour), created.Add(15*24*time.Hour),
			resolved, accepted, satisfaction, source)
		if err != nil {
			b.Fatal(err)
		}
		id, _ := res.LastInsertId()
		if _, err := searchStmt.Exec(id, store.SearchText(desc+" "+addr)); err != nil {
			b.Fatal(err)
		}
		evs := []string{"created", "routed", "assigned"}
		if !open {
			evs = append(evs, "accepted", "resolved", "rated")
		}
		for j, e := range evs {
			if _, err := evStmt.Exec(id, e, "system", "", created.Add(time.Duration(j)*time.Hour)); err != nil {
				b.Fatal(err)
			}
		}
		if i%3 == 0 {
			if _, err := attStmt.Exec(id, openid, fmt.Sprintf("seed:%d", i), created, created, created, created); err != nil {
				b.Fatal(err)
			}
		}
		numbers = append(numbers, number)
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	// Fresh statistics for the query planner, as a long-running database has.
	if _, err := db.ExecContext(context.Background(), `ANALYZE`); err != nil {
		b.Fatal(err)
	}
	return numbers
}
