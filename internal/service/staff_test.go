package service_test

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lianxin/lianxin"
	"github.com/lianxin/lianxin/internal/servicetest"
	"github.com/lianxin/lianxin/internal/testenv"
	"github.com/lianxin/lianxin/internal/transcript"
	"github.com/lianxin/lianxin/internal/wxtest/wxsim"
)

// robotPosts returns what was queued for a group robot, oldest first.
func robotPosts(t *testing.T, ts *testService, webhook string) []string {
	t.Helper()
	rows, err := ts.DB.Outbox(context.Background(), 500)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i := len(rows) - 1; i >= 0; i-- {
		if rows[i].Recipient == webhook {
			var p lianxin.RobotPayload
			json.Unmarshal([]byte(rows[i].Payload), &p)
			out = append(out, p.Content)
		}
	}
	return out
}

var caseNumber = regexp.MustCompile(`KQ\d{8}-\d{4}`)

// TestStaffQueueReachesAPerson: a case that needs a person, because the
// resident asked for one (人工) or because every deputy returned it, is in
// its station's staff queue (the district's without a station); the staff
// of that queue are told; the resident is told who will contact them and
// when; and the case is supervised like any other, its staff reminded.
func TestStaffQueueReachesAPerson(t *testing.T) {
	cfg := testConfig(t)
	servicetest.WithStaff(t, &cfg)
	clock := testenv.NewClock(transcript.Start) // Friday 2026-11-27 10:00
	ts := startService(t, cfg, clock)
	ctx := context.Background()
	c := ts.Client(wxsim.Safe)
	pingtanjie := []string{"pingtanjie", "shuitan", "dongyaofang"}
	queued := func(t *testing.T, units []string, number string) *lianxin.Case {
		t.Helper()
		cases, err := ts.DB.StaffQueue(ctx, units)
		if err != nil {
			t.Fatal(err)
		}
		i := slices.IndexFunc(cases, func(c lianxin.Case) bool { return c.Number == number })
		if i < 0 {
			t.Fatalf("%s is not in the staff queue of %v", number, units)
		}
		if cases[i].AssigneeID != "" || !cases[i].NeedsStaff {
			t.Errorf("%s in the queue: assignee %q, needs staff %v", number, cases[i].AssigneeID, cases[i].NeedsStaff)
		}
		return &cases[i]
	}

	for i, tc := range []struct {
		name string
		// play gets the case into a queue and returns what the resident
		// was told about who will contact them.
		play   func(t *testing.T, user string) (number, told string)
		units  []string // the queue it is in
		staff  string   // who is told
		robot  bool     // the station's staff robot too
		reason string
		who    []string // in what the resident was told
	}{
		{"人工 in a report at a point of 平潭街", func(t *testing.T, user string) (string, string) {
			send(t, c, wxsim.Location(user, 37.8560, 113.5726, "水滩社区3号楼"))
			say(t, c, user, "2")
			say(t, c, user, "暖气片漏水好几天了，家里有老人，想找人当面说说")
			reply := say(t, c, user, "人工")
			return caseNumber.FindString(reply), reply
		}, pingtanjie, servicetest.StationStaff, true, "群众请求人工服务",
			// The station's reception: monthly on the 15th, and on Tuesdays and Thursdays; next is Tuesday 12月1日.
			[]string{"平潭街街道人大代表联络站的工作人员", "每月15日 9:00–11:30", "12月1日（周二）9:00–11:30", "矿区平潭街街道办事处一楼"}},
		{"人工 with no report", func(t *testing.T, user string) (string, string) {
			reply := say(t, c, user, "人工")
			number := caseNumber.FindString(reply)
			again := say(t, c, user, "人工")
			if caseNumber.FindString(again) != number || !strings.Contains(again, "已登记") {
				t.Errorf("人工 again: %q, want the same request %s", again, number)
			}
			return number, reply
		}, []string{""}, servicetest.DistrictStaff, false, "群众请求人工服务",
			[]string{"矿区人大常委会代表联络工作室的工作人员", "工作日 8:30–17:30"}},
		{"returned by every deputy of a station without staff", func(t *testing.T, user string) (string, string) {
			// 贵石沟: 尤示范 (heating) and the head 秦样例.
			send(t, c, wxsim.Location(user, 37.8730, 113.5760, "贵石沟小区"))
			for _, step := range []string{"2", "暖气一直不热，屋里才十四五度", "跳过", "13812345678"} {
				say(t, c, user, step)
			}
			number := caseNumber.FindString(say(t, c, user, "确认"))
			for i, deputy := range []string{"d-gsg-02", "d-gsg-01"} {
				openid := "oStaffQueueDeputy" + deputy[2:] + "0000000"
				bindDeputy(t, ts, c, openid, deputy)
				mustContain(t, say(t, c, openid, "退回 "+lianxin.ShortNumber(number)+" 不归我管"), "已退回")
				if i == 1 {
					break
				}
			}
			told := noticesTo(t, ts, user)
			if len(told) == 0 {
				t.Fatal("the resident was not told")
			}
			return number, told[len(told)-1]
		}, []string{"guishigou"}, servicetest.DistrictStaff, false, "代表都已退回",
			[]string{"已转交工作人员", "矿区人大常委会代表联络工作室的工作人员", "工作日 8:30–17:30"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			user := fmt.Sprintf("oStaffQueueResident%02d000000000", i)
			number, told := tc.play(t, user)
			if number == "" {
				t.Fatalf("no case number in what the resident was told: %q", told)
			}
			mustContain(t, told, tc.who...)
			queued(t, tc.units, number)
			notices := noticesTo(t, ts, tc.staff)
			if countContaining(notices, number) != 1 || countContaining(notices, tc.reason) == 0 || countContaining(notices, "【待人工处理】") == 0 {
				t.Errorf("the staff (%s) were told: %q", tc.staff, notices)
			}
			if posts := robotPosts(t, ts, servicetest.StationRobot); tc.robot != (countContaining(posts, number) == 1) {
				t.Errorf("the station's staff robot: %q (want a post: %v)", posts, tc.robot)
			}
		})
	}

	// 督办: a queued case is supervised like any other. The heating case at
	// 水滩 must be taken up within 4 hours: its staff are reminded at three
	// quarters of that, and when it has passed, the station head is told too.
	t.Run("supervised like any case", func(t *testing.T) {
		cases, err := ts.DB.StaffQueue(ctx, pingtanjie)
		if err != nil || len(cases) != 1 {
			t.Fatalf("平潭街's queue: %v %v", cases, err)
		}
		number := cases[0].Number
		step := func(d time.Duration, what string, staff, robot, head int) {
			t.Helper()
			clock.Add(d)
			if _, err := ts.Supervisor.Poll(ctx); err != nil {
				t.Fatal(err)
			}
			got := []int{countContaining(noticesTo(t, ts, servicetest.StationStaff), what),
				countContaining(robotPosts(t, ts, servicetest.StationRobot), what),
				countContaining(noticesTo(t, ts, "deputy:d-pt-01"), what)}
			if want := []int{staff, robot, head}; !slices.Equal(got, want) {
				t.Errorf("after +%s: %q sent to the staff, their robot and the station head %v times, want %v",
					clock.Now().Sub(transcript.Start), what, got, want)
			}
		}
		step(3*time.Hour+time.Minute, "【督办提醒】"+number, 1, 1, 0)
		step(time.Hour, "【超期督办】"+number, 1, 1, 1)
		step(time.Hour, "【超期督办】"+number, 1, 1, 1) // once
	})
}

// Without staff in the directory a queued case is still supervised: the
// station head is reminded, as for any case without a deputy.
func TestStaffQueueWithoutStaffRemindsTheHead(t *testing.T) {
	clock := testenv.NewClock(transcript.Start)
	ts := startService(t, testConfig(t), clock)
	c := ts.Client(wxsim.Safe)
	const user = "oStaffQueueNoStaff000000001"
	send(t, c, wxsim.Location(user, 37.8560, 113.5726, "水滩社区3号楼"))
	say(t, c, user, "2")
	say(t, c, user, "暖气片漏水好几天了，家里有老人，想找人当面说说")
	number := caseNumber.FindString(say(t, c, user, "人工"))
	clock.Add(3*time.Hour + time.Minute)
	if _, err := ts.Supervisor.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := noticesTo(t, ts, "deputy:d-pt-01"); countContaining(got, number) != 1 {
		t.Errorf("the station head was told: %q, want one reminder about %s", got, number)
	}
}
