// Package registertest builds registers for the register's tests, its
// benchmark and its demo: October 2026 scripted case by case through the
// store's own calls (the figures the tests check by hand), and registers of
// any size filled in bulk through SQL that fires the same triggers.
package registertest

import (
	"context"
	"fmt"
	"time"

	"github.com/lianxin/lianxin"
	"github.com/lianxin/lianxin/configs"
	"github.com/lianxin/lianxin/store"
)

// CST is the stations' time zone in the fixtures.
var CST = time.FixedZone("CST", 8*3600)

// Data is the station data the fixtures use: the sample directory and
// categories shipped in configs/.
func Data() (*lianxin.Directory, lianxin.Categories, error) {
	b, err := configs.ReadData("", "categories.yaml")
	if err != nil {
		return nil, nil, err
	}
	cats, err := configs.LoadCategories(b)
	if err != nil {
		return nil, nil, err
	}
	if b, err = configs.ReadData("", "directory.yaml"); err != nil {
		return nil, nil, err
	}
	dir, err := configs.LoadDirectory(b, cats.Keys())
	if err != nil {
		return nil, nil, err
	}
	return dir, cats, nil
}

// At is a time in the stations' zone: At(10, 5, 9, 30) is 5 October 2026 09:30.
func At(month, day, hour, minute int) time.Time {
	return time.Date(2026, time.Month(month), day, hour, minute, 0, 0, CST)
}

// script plays cases into a store with its clock set to each step's time.
type script struct {
	ctx   context.Context
	db    *store.DB
	cats  lianxin.Categories
	cases map[string]*lianxin.Case
	err   error
}

func (s *script) at(t time.Time) { s.db.Now = func() time.Time { return t } }

func (s *script) create(name string, t time.Time, category, station, deputy string, loc lianxin.Location) {
	if s.err != nil {
		return
	}
	s.at(t)
	cat, _ := s.cats.ByKey(category)
	r := lianxin.Report{SourceKey: "seed:" + name, OpenID: "oResident" + name + "xxxxxxxx", Category: cat,
		Description: descriptions[category], Location: loc, StationID: station, Phone: "1380000" + fmt.Sprintf("%04d", len(s.cases)+1),
		Anonymous: Anonymous[name]}
	var assign lianxin.Assigner
	if deputy != "" {
		assign = func(lianxin.AssignView, string) (lianxin.Assignment, error) {
			return lianxin.Assignment{AssigneeID: deputy}, nil
		}
	}
	c, _, err := s.db.CreateCase(s.ctx, lianxin.CaseNumbering{Prefix: "KQ", Location: CST}, r,
		[]lianxin.Event{{Type: lianxin.EventCreated, Actor: "resident"}}, nil, assign)
	if err != nil {
		s.err = fmt.Errorf("case %s: %w", name, err)
		return
	}
	s.cases[name] = c
}

// do moves case name to status (or leaves it, ""), with a timeline entry
// of type by actor, at t.
func (s *script) do(name string, t time.Time, status lianxin.Status, typ, actor, text string) {
	if s.err != nil {
		return
	}
	s.at(t)
	tr := lianxin.Transition{CaseID: s.cases[name].ID, Status: status, Events: []lianxin.Event{{Type: typ, Actor: actor, Text: text}}}
	if _, err := s.db.Transition(s.ctx, tr); err != nil {
		s.err = fmt.Errorf("case %s %s: %w", name, typ, err)
	}
}

// rate records a rating as the chat does: 不满意 reopens the case.
func (s *script) rate(name string, t time.Time, rating string) {
	if s.err != nil {
		return
	}
	s.at(t)
	tr := lianxin.Transition{CaseID: s.cases[name].ID, Satisfaction: rating, Events: []lianxin.Event{{Type: lianxin.EventRated, Actor: "resident", Text: rating}}}
	if rating == lianxin.Unsatisfied {
		tr.Status = lianxin.StatusReopened
		tr.Events = append(tr.Events, lianxin.Event{Type: lianxin.EventReopened, Actor: "resident"})
	}
	if _, err := s.db.Transition(s.ctx, tr); err != nil {
		s.err = fmt.Errorf("case %s rated: %w", name, err)
	}
}

var descriptions = map[string]string{
	"heating":    "家里暖气不热，室温只有十几度，老人受不了。",
	"sanitation": "小区门口垃圾堆了好几天没人清运，味道很大。",
	"property":   "楼道灯坏了一个多月，物业一直不来修。",
	"other":      "想咨询一下老旧小区改造什么时候轮到我们小区。",
	"roads":      "路面塌了一个坑，晚上走路容易摔倒。",
	"elderly":    "独居老人家里没人照顾，希望社区上门看看。",
}

// Anonymous are the October cases whose resident asked to stay anonymous.
var Anonymous = map[string]bool{"C": true}

// Point inside an area of the sample directory, for the map.
func pt(lat, lng float64) lianxin.Location {
	return lianxin.Location{Lat: lat, Lng: lng, Label: "矿区"}
}

// October seeds the register whose October 2026 figures the tests check by
// hand (see the table in report/stats_test.go), and returns the cases by
// the letter the table uses. It leaves the store's clock at 5 November
// 2026 12:00, after some of them moved on in November.
func October(ctx context.Context, db *store.DB) (map[string]*lianxin.Case, error) {
	_, cats, err := Data()
	if err != nil {
		return nil, err
	}
	s := &script{ctx: ctx, db: db, cats: cats, cases: map[string]*lianxin.Case{}}
	dep := func(id string) string { return lianxin.DeputyRecipient(id) }
	// G: all in September; counts nowhere in October.
	s.create("G", At(9, 10, 9, 0), "heating", "shuitan", "d-st-02", pt(37.8560, 113.5720))
	s.do("G", At(9, 10, 10, 0), lianxin.StatusAccepted, lianxin.EventAccepted, dep("d-st-02"), "")
	s.do("G", At(9, 12, 9, 0), lianxin.StatusResolved, lianxin.EventResolved, dep("d-st-02"), "已修复")
	s.rate("G", At(9, 12, 12, 0), lianxin.Satisfied)
	// H: resolved in September, rated in October.
	s.create("H", At(9, 20, 9, 0), "elderly", "guishigou", "d-gsg-02", pt(37.8730, 113.5760))
	s.do("H", At(9, 20, 10, 0), lianxin.StatusAccepted, lianxin.EventAccepted, dep("d-gsg-02"), "")
	s.do("H", At(9, 25, 9, 0), lianxin.StatusResolved, lianxin.EventResolved, dep("d-gsg-02"), "社区已安排志愿者每周上门")
	// A: registered 30 September 20:00, carried into October, late twice.
	s.create("A", At(9, 30, 20, 0), "heating", "shuitan", "d-st-02", pt(37.8555, 113.5710))
	s.do("A", At(10, 1, 1, 0), lianxin.StatusAccepted, lianxin.EventAccepted, dep("d-st-02"), "")
	s.rate("H", At(10, 2, 9, 0), lianxin.FairlySatisfied)
	s.do("A", At(10, 3, 10, 0), lianxin.StatusResolved, lianxin.EventResolved, dep("d-st-02"), "供热站已排气，室温恢复到20度")
	s.rate("A", At(10, 3, 12, 0), lianxin.Satisfied)
	// B: answered on the spot the same day.
	s.create("B", At(10, 5, 9, 0), "heating", "shuitan", "d-st-02", pt(37.8570, 113.5730))
	s.do("B", At(10, 5, 10, 0), lianxin.StatusAccepted, lianxin.EventAnswered, dep("d-st-02"), "已联系物业，今天下午来人查看")
	s.do("B", At(10, 5, 15, 0), lianxin.StatusResolved, lianxin.EventResolved, dep("d-st-02"), "阀门已调整，暖气正常")
	s.rate("B", At(10, 6, 9, 0), lianxin.FairlySatisfied)
	// K: roads, on time, never rated.
	s.create("K", At(10, 8, 9, 0), "roads", "saiyu", "d-sy-03", pt(37.8700, 113.5580))
	s.do("K", At(10, 8, 15, 0), lianxin.StatusAccepted, lianxin.EventAccepted, dep("d-sy-03"), "")
	s.do("K", At(10, 9, 9, 0), lianxin.StatusResolved, lianxin.EventResolved, dep("d-sy-03"), "已设置警示标志并回填")
	// C: forwarded, resolved late, 不满意 (重办), resolved again on time, 满意.
	s.create("C", At(10, 10, 9, 0), "sanitation", "dongyaofang", "d-dyf-02", pt(37.8600, 113.5810))
	s.do("C", At(10, 10, 12, 0), lianxin.StatusAccepted, lianxin.EventAccepted, dep("d-dyf-02"), "")
	s.do("C", At(10, 11, 9, 0), lianxin.StatusForwarded, lianxin.EventForwarded, dep("d-dyf-02"), "环境卫生服务中心 请尽快清运")
	s.do("C", At(10, 14, 9, 0), "", lianxin.EventProgress, dep("d-dyf-02"), "环卫车辆检修，已协调临时车辆")
	s.do("C", At(10, 20, 9, 0), lianxin.StatusResolved, lianxin.EventResolved, dep("d-dyf-02"), "已清运")
	s.rate("C", At(10, 20, 10, 0), lianxin.Unsatisfied)
	s.do("C", At(10, 20, 11, 0), lianxin.StatusAccepted, lianxin.EventAccepted, dep("d-dyf-02"), "")
	s.do("C", At(10, 22, 9, 0), lianxin.StatusResolved, lianxin.EventResolved, dep("d-dyf-02"), "已清运并增设垃圾箱，环卫每日清运")
	s.rate("C", At(10, 23, 9, 0), lianxin.Satisfied)
	// J: cancelled before its accept deadline.
	s.create("J", At(10, 12, 9, 0), "roads", "saiyu", "d-sy-03", lianxin.Location{})
	s.do("J", At(10, 12, 12, 0), lianxin.StatusCancelled, "cancelled", "staff", "重复反映")
	// I: the district queue, nobody takes it up.
	s.create("I", At(10, 15, 10, 0), "other", "", "", lianxin.Location{Address: "矿区某小区"})
	// D: not taken up before its deadline; taken up in November.
	s.create("D", At(10, 28, 9, 0), "property", "saiyu", "d-sy-02", pt(37.8680, 113.5560))
	// E: late on 31 October (Beijing time), taken up on 1 November.
	s.create("E", At(10, 31, 22, 0), "heating", "pingtanjie", "d-pt-02", pt(37.8520, 113.5800))
	// F: 1 November 07:00 in Beijing is still 31 October in UTC: November's.
	s.create("F", At(11, 1, 7, 0), "heating", "saiyu", "d-sy-02", pt(37.8650, 113.5600))
	s.do("E", At(11, 1, 1, 0), lianxin.StatusAccepted, lianxin.EventAccepted, dep("d-pt-02"), "")
	s.do("D", At(11, 2, 9, 0), lianxin.StatusAccepted, lianxin.EventAccepted, dep("d-sy-02"), "")
	s.do("D", At(11, 3, 9, 0), lianxin.StatusResolved, lianxin.EventResolved, dep("d-sy-02"), "物业已更换楼道灯")
	s.rate("D", At(11, 3, 10, 0), lianxin.Unsatisfied)
	s.at(At(11, 5, 12, 0))
	return s.cases, s.err
}
