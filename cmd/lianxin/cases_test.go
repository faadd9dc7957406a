package main

import (
	"context"
	"encoding/json"
	"flag"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/lianxin/lianxin"
	"github.com/lianxin/lianxin/internal/servicetest"
	"github.com/lianxin/lianxin/internal/wxtest/wxsim"
)

// runCLI runs `lianxin ARGS` against the service's database and data.
func runCLI(t *testing.T, ts *testService, args ...string) string {
	t.Helper()
	var out, errOut strings.Builder
	if code := run(context.Background(), args, ts.Env(), strings.NewReader(""), &out, &errOut); code != 0 {
		t.Fatalf("lianxin %s: exit %d: %s", strings.Join(args, " "), code, errOut.String())
	}
	return out.String()
}

func TestCasesCommands(t *testing.T) {
	ts := startService(t, testConfig(t))
	number := ts.ReportCase(t, "oCLI_resident_000000001")

	var shown struct {
		Number      string `json:"number"`
		Status      string `json:"status"`
		Category    string `json:"category"`
		StationID   string `json:"station_id"`
		AssigneeID  string `json:"assignee_id"`
		Description string `json:"description"`
		Contact     string `json:"contact"`
		SLA         string `json:"sla"`
		Location    struct {
			Lat   float64 `json:"lat"`
			Label string  `json:"label"`
		} `json:"location"`
		Attachments []struct {
			Kind   string `json:"kind"`
			Status string `json:"status"`
		} `json:"attachments"`
		Timeline []struct {
			Type string `json:"type"`
		} `json:"timeline"`
	}
	out := runCLI(t, ts, "cases", "show", number, "--json")
	if err := json.Unmarshal([]byte(out), &shown); err != nil {
		t.Fatalf("show --json is not one JSON object: %v\n%s", err, out)
	}
	if shown.Number != number || shown.Status != "registered" || shown.Category != "heating" || shown.StationID != "shuitan" {
		t.Errorf("show: %+v", shown)
	}
	if shown.SLA != "green" && shown.SLA != "yellow" && shown.SLA != "red" {
		t.Errorf("an open case shows its standing against its deadlines: sla = %q", shown.SLA)
	}
	if shown.Contact != "138****5678" || strings.Contains(out, "13812345678") {
		t.Errorf("contact must be masked everywhere in the output: %q", shown.Contact)
	}
	if len(shown.Attachments) != 1 || shown.Attachments[0].Kind != "image" || shown.Attachments[0].Status != "pending" {
		t.Errorf("attachments: %+v", shown.Attachments)
	}
	if len(shown.Timeline) < 2 || shown.Timeline[0].Type != "created" || shown.Timeline[1].Type != "routed" {
		t.Errorf("timeline: %+v", shown.Timeline)
	}

	var list []map[string]any
	out = runCLI(t, ts, "cases", "list", "--json")
	if err := json.Unmarshal([]byte(out), &list); err != nil || len(list) != 1 || list[0]["number"] != number {
		t.Errorf("list --json: %v\n%s", err, out)
	}
	text := runCLI(t, ts, "cases", "list")
	for _, want := range []string{number, "供暖", "水滩社区人大代表联络点"} {
		if !strings.Contains(text, want) {
			t.Errorf("list does not show %q:\n%s", want, text)
		}
	}
	text = runCLI(t, ts, "cases", "show", number)
	for _, want := range []string{number, "138****5678", "Timeline", "image pending"} {
		if !strings.Contains(text, want) {
			t.Errorf("show does not show %q:\n%s", want, text)
		}
	}
	var errOut strings.Builder
	if code := run(context.Background(), []string{"cases", "show", "KQ20990101-0001"}, ts.Env(), nil, io.Discard, &errOut); code != 1 || !strings.Contains(errOut.String(), "no case") {
		t.Errorf("unknown case: exit %d %q", code, errOut.String())
	}
}

func TestCategoriesSuggest(t *testing.T) {
	ts := startService(t, testConfig(t))
	out := runCLI(t, ts, "categories", "suggest", "我家暖气片漏水,地板都泡了")
	if !strings.HasPrefix(out, "heating ") {
		t.Errorf("first line should start with the key: %q", out)
	}
}

func TestOutboxCommand(t *testing.T) {
	ts := startService(t, testConfig(t))
	ts.ReportCase(t, "oOutboxResident000000001")
	// No AppSecret in this service: the deputy's notification waits.
	out := runCLI(t, ts, "outbox", "--pending")
	if !strings.Contains(out, "deputy:d-st-02") || !strings.Contains(out, "pending") {
		t.Errorf("outbox --pending:\n%s", out)
	}
	if out := runCLI(t, ts, "outbox", "--dead"); !strings.Contains(out, "nothing in the outbox") {
		t.Errorf("outbox --dead:\n%s", out)
	}
	var rows []map[string]any
	if err := json.Unmarshal([]byte(runCLI(t, ts, "outbox", "--json")), &rows); err != nil || len(rows) == 0 {
		t.Errorf("outbox --json: %v %v", rows, err)
	}
}

// runCLIErr runs `lianxin ARGS` and returns its exit code, stdout and stderr.
func runCLIErr(ts *testService, args ...string) (int, string, string) {
	var out, errOut strings.Builder
	code := run(context.Background(), args, ts.Env(), strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

// TestCasesCLISaysWhatItUnderstood: staff type what they say (已受理, 平潭街,
// 7) and get either what they meant or an error listing what they could
// have typed; nothing is silently read as "no such cases".
func TestCasesCLISaysWhatItUnderstood(t *testing.T) {
	ts := startService(t, testConfig(t))
	number := ts.ReportCase(t, "oCLI_understood_00000001") // today's first case, at the 水滩 point of 平潭街
	for _, tc := range []struct {
		name      string
		args      []string
		code      int
		want      []string // in stdout (exit 0) or stderr
		notWanted []string
	}{
		{"an unknown status lists the statuses", []string{"cases", "list", "--status", "done"}, 1,
			[]string{`"done"`, "registered", "已登记", "accepted", "已受理", "resolved", "已办结", "open"}, nil},
		{"a status as staff say it", []string{"cases", "list", "--status", "已登记"}, 0, []string{number}, nil},
		{"a status that matches nothing", []string{"cases", "list", "--status", "已办结"}, 0, []string{"no cases"}, []string{number}},
		{"open cases", []string{"cases", "list", "--status", "open"}, 0, []string{number}, nil},
		{"statuses are shown in Chinese", []string{"cases", "list"}, 0, []string{number, "已登记"}, []string{"registered"}},
		{"an unknown station lists the stations", []string{"cases", "list", "--station", "nowhere"}, 1,
			[]string{`"nowhere"`, "pingtanjie", "平潭街街道人大代表联络站", "shuitan", "saiyu"}, nil},
		{"a station includes its points", []string{"cases", "list", "--station", "pingtanjie"}, 0, []string{number}, nil},
		{"a station by name", []string{"cases", "list", "--station", "平潭街"}, 0, []string{number}, nil},
		{"a point alone", []string{"cases", "list", "--station", "shuitan"}, 0, []string{number}, nil},
		{"another station", []string{"cases", "list", "--station", "saiyu"}, 0, []string{"no cases"}, []string{number}},
		{"today's 1", []string{"cases", "show", "1"}, 0, []string{number, "已登记"}, nil},
		{"today's 01 as JSON", []string{"cases", "show", "01", "--json"}, 0, []string{`"number": "` + number + `"`, `"status_name": "已登记"`}, nil},
		{"a day and its number", []string{"cases", "show", number[len(number)-13:]}, 0, []string{number}, nil},
		{"today has no 7", []string{"cases", "show", "7"}, 1, []string{"no case 7 today", number[:len(number)-4] + "0007"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCLIErr(ts, tc.args...)
			got := out
			if tc.code != 0 {
				got = errOut
			}
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, out, errOut)
			}
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("%q missing from:\n%s", w, got)
				}
			}
			for _, w := range tc.notWanted {
				if strings.Contains(got, w) {
					t.Errorf("%q should not be in:\n%s", w, got)
				}
			}
		})
	}
}

// TestHelpListsEveryFlag: `lianxin help` shows every flag of every command,
// as each command declares it.
func TestHelpListsEveryFlag(t *testing.T) {
	var out strings.Builder
	if code := run(context.Background(), []string{"help"}, func(string) string { return "" }, nil, &out, io.Discard); code != 0 {
		t.Fatalf("help: exit %d", code)
	}
	help := out.String()
	for _, c := range commands {
		if !strings.Contains(help, "lianxin "+c.name) {
			t.Errorf("help does not show the command %q", c.name)
		}
		if c.flags == nil {
			continue
		}
		c.flags(new(options)).VisitAll(func(f *flag.Flag) {
			if !strings.Contains(help, "--"+f.Name) {
				t.Errorf("help does not show %s's flag --%s", c.name, f.Name)
			}
		})
	}
	for _, flagName := range []string{"--status", "--station", "--limit", "--dry-run", "--dead", "--pending", "--sent"} {
		if !strings.Contains(help, flagName) {
			t.Errorf("help does not show %s", flagName)
		}
	}
}

// TestStaffActOnTheQueue: until the console exists, staff take a queued case
// from the command line: they see the queue, give the case to a deputy, or
// answer the resident. Each is one transition with its timeline entry and
// its notices, by the same rules as in chat.
func TestStaffActOnTheQueue(t *testing.T) {
	cfg := testConfig(t)
	servicetest.WithStaff(t, &cfg)
	ts := startService(t, cfg)
	c := ts.Client(wxsim.Safe)
	const resident = "oCLIStaffResident00000001"
	say(t, c, resident, "人工")
	cases, err := ts.DB.StaffQueue(context.Background(), []string{""})
	if err != nil || len(cases) != 1 {
		t.Fatalf("the district queue: %v %v", cases, err)
	}
	number, short := cases[0].Number, lianxin.ShortNumber(cases[0].Number)
	env := ts.Env()
	staffEnv := func(k string) string {
		if k == "USER" {
			return "clerk-li"
		}
		return env(k)
	}
	cli := func(args ...string) (int, string, string) {
		var out, errOut strings.Builder
		code := run(context.Background(), args, staffEnv, strings.NewReader(""), &out, &errOut)
		return code, out.String(), errOut.String()
	}
	mustRun := func(args ...string) string {
		t.Helper()
		code, out, errOut := cli(args...)
		if code != 0 {
			t.Fatalf("lianxin %s: exit %d: %s", strings.Join(args, " "), code, errOut)
		}
		return out
	}
	if out := mustRun("cases", "list", "--queue"); !strings.Contains(out, number) {
		t.Errorf("list --queue does not show %s:\n%s", number, out)
	}
	if out := mustRun("cases", "list", "--queue", "--station", "saiyu"); strings.Contains(out, number) {
		t.Errorf("list --queue --station saiyu shows the district's %s:\n%s", number, out)
	}
	mustContain(t, mustRun("cases", "show", short), "staff queue")

	// Answering the resident: they are told, the case is taken up.
	mustContain(t, mustRun("cases", "reply", short, "您好，我们明天上午给您回电话。"), number)
	got, _ := ts.DB.Case(context.Background(), number)
	last := got.Events[len(got.Events)-1]
	if got.Status != lianxin.StatusAccepted || last.Type != lianxin.EventStaffAnswered || last.Actor != "staff:clerk-li" {
		t.Errorf("after reply: status %s, last event %+v", got.Status, last)
	}
	if n := noticesTo(t, ts, resident); len(n) != 1 || !strings.Contains(n[0], "您好，我们明天上午给您回电话。") || !strings.Contains(n[0], number) {
		t.Errorf("the resident's notices: %q", n)
	}

	// Refusals say why and change nothing.
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"cases", "assign", short, "d-nobody"}, `no deputy "d-nobody"`},
		{[]string{"cases", "assign", "KQ20990101-0001", "d-pt-02"}, "no case"},
		{[]string{"cases", "reply", short, " "}, "the reply is empty"},
		{[]string{"cases", "assign", short}, "usage"},
	} {
		if code, _, errOut := cli(tc.args...); code != 1 || !strings.Contains(errOut, tc.want) {
			t.Errorf("lianxin %s: exit %d %q, want a refusal saying %q", strings.Join(tc.args, " "), code, errOut, tc.want)
		}
	}

	// Giving it to a deputy: told as of a new case, the resident too; the
	// case leaves the queue.
	mustContain(t, mustRun("cases", "assign", short, "d-pt-02", "--by", "李文书"), number, "李示范")
	got, _ = ts.DB.Case(context.Background(), number)
	last = lastStaffEvent(got)
	if got.AssigneeID != "d-pt-02" || got.NeedsStaff || last.Type != lianxin.EventAssigned || last.Actor != "staff:李文书" {
		t.Errorf("after assign: assignee %q, needs staff %v, last event %+v", got.AssigneeID, got.NeedsStaff, last)
	}
	if n := noticesTo(t, ts, "deputy:d-pt-02"); len(n) != 1 || !strings.Contains(n[0], number) || !strings.Contains(n[0], "李文书") {
		t.Errorf("the deputy's notices: %q", n)
	}
	if n := noticesTo(t, ts, resident); len(n) != 2 || !strings.Contains(n[1], "李示范代表") {
		t.Errorf("the resident's notices: %q", n)
	}
	if out := mustRun("cases", "list", "--queue"); strings.Contains(out, number) {
		t.Errorf("%s is still in the queue:\n%s", number, out)
	}
	// And now, as in chat, only the deputy it is given to acts on it.
	deputy := "oCLIStaffDeputy000000001"
	code, _, err := ts.DB.CreateInvite(context.Background(), "d-pt-02", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	mustContain(t, say(t, c, deputy, "绑定 "+code), "成功")
	mustContain(t, say(t, c, deputy, "详情 "+short), number)

	// Both staff actions are in the audit log, as the console's are: who ran
	// the command, on which case, what they typed.
	log, err := ts.DB.AuditLog(context.Background(), lianxin.AuditFilter{Subject: number, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	var entries []string
	for _, e := range log {
		entries = append(entries, e.Actor+" "+e.Action+" "+e.Detail)
	}
	if want := []string{"cli:clerk-li assign d-pt-02 李文书", "cli:clerk-li answer 您好，我们明天上午给您回电话。"}; strings.Join(entries, "|") != strings.Join(want, "|") {
		t.Errorf("audit log of %s (newest first) = %q, want %q", number, entries, want)
	}
}

// noticesTo returns the texts queued for a recipient, oldest first.
func noticesTo(t *testing.T, ts *testService, recipient string) []string {
	t.Helper()
	rows, err := ts.DB.Outbox(context.Background(), 500)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i := len(rows) - 1; i >= 0; i-- {
		if rows[i].Recipient == recipient {
			var p lianxin.NotifyPayload
			json.Unmarshal([]byte(rows[i].Payload), &p)
			out = append(out, p.Text)
		}
	}
	return out
}

// lastStaffEvent is the newest timeline entry staff read that residents do
// not (the resident's own wording of a change follows it).
func lastStaffEvent(c *lianxin.Case) lianxin.Event {
	for i := len(c.Events) - 1; i >= 0; i-- {
		if c.Events[i].Internal() {
			return c.Events[i]
		}
	}
	return lianxin.Event{}
}
