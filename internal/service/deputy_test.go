package service_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lianxin/lianxin/internal/wxtest/photos"

	"github.com/lianxin/lianxin/internal/testenv"

	"github.com/lianxin/lianxin"
	"github.com/lianxin/lianxin/internal/wxtest/fakewx"
	"github.com/lianxin/lianxin/internal/wxtest/wxsim"
)

// waitSent waits until WeChat has delivered a message to `to` containing all
// the fragments, and returns it.
func waitSent(t *testing.T, fw *fakewx.Server, to string, fragments ...string) fakewx.Sent {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var found fakewx.Sent
	err := fw.WaitSent(ctx, func(sent []fakewx.Sent) bool {
		for _, s := range sent {
			if s.To != to {
				continue
			}
			ok := true
			for _, f := range fragments {
				ok = ok && strings.Contains(s.Text, f)
			}
			if ok {
				found = s
				return true
			}
		}
		return false
	})
	if err != nil {
		var got []string
		for _, s := range fw.Sent() {
			got = append(got, s.Kind+" "+s.To+": "+s.Text)
		}
		t.Fatalf("no message to %s containing %q; sent:\n%s", to, fragments, strings.Join(got, "\n"))
	}
	return found
}

func bindDeputy(t *testing.T, ts *testService, c *wxsim.Client, openid, deputyID string) {
	t.Helper()
	code, _, err := ts.DB.CreateInvite(context.Background(), deputyID, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	mustContain(t, say(t, c, openid, "绑定 "+code), "成功")
}

// TestDeputyLoopThroughWeChat is the whole loop through the real webhook and
// the fake WeChat API: bind → case → the right deputy notified → 受理 →
// resident told → 办结 → resident rates → status, with refusals for a deputy
// it does not belong to and 不满意 reopening the case.
func TestDeputyLoopThroughWeChat(t *testing.T) {
	cfg := testConfig(t)
	fw := withFakeWeChat(t, &cfg)
	ts := startService(t, cfg)
	c := ts.Client(wxsim.Safe)
	const (
		resident = "oLoopResident000000000001"
		deputy   = "oLoopDeputy00000000000001"
		other    = "oLoopOther000000000000001"
		head     = "oLoopHead0000000000000001"
	)
	bindDeputy(t, ts, c, deputy, "d-st-02") // heating specialist at 水滩社区
	bindDeputy(t, ts, c, other, "d-st-03")
	bindDeputy(t, ts, c, head, "d-pt-01") // head of 平潭街 station, which 水滩 belongs to
	// The head has not written for more than 48 hours: WeChat refuses
	// customer-service messages to them, so they get the template.
	fw.Set45015(head, true)

	number := ts.ReportCase(t, resident)
	waitSent(t, fw, deputy, "新反映", number, "受理 1")

	mustContain(t, say(t, c, other, "受理 1"), "不归您办理")
	mustContain(t, say(t, c, other, "办结 "+number+" 已处理"), "不归您办理")

	mustContain(t, say(t, c, deputy, "受理 1"), "已受理")
	waitSent(t, fw, resident, number, "受理")
	mustContain(t, say(t, c, deputy, "办结 1 已更换阀门,室温恢复到20度"), "已办结")
	rating := waitSent(t, fw, resident, number, "已办结", "满意")
	if !strings.Contains(rating.Text, "已更换阀门") {
		t.Errorf("the resident should read the deputy's words: %q", rating.Text)
	}

	mustContain(t, say(t, c, resident, "3"), "重新交办", "哪里没解决好")
	mustContain(t, say(t, c, resident, "卧室还是只有16度"), "已转告代表")
	waitSent(t, fw, deputy, "重办", number, "卧室还是只有16度")
	tpl := waitSent(t, fw, head, number)
	if tpl.Kind != fakewx.KindTemplate || tpl.TemplateID != "TPL_case_notice" {
		t.Errorf("the head, outside the 48-hour window, got a %s message, want the template", tpl.Kind)
	}

	show := func() (status, satisfaction, assignee string) {
		c, err := ts.DB.Case(context.Background(), number)
		if err != nil {
			t.Fatal(err)
		}
		return string(c.Status), c.Satisfaction, c.AssigneeID
	}
	if st, sat, who := show(); st != "reopened" || sat != "unsatisfied" || who != "d-st-02" {
		t.Errorf("after 不满意: status %s satisfaction %s assignee %s", st, sat, who)
	}
	say(t, c, deputy, "受理 1")
	say(t, c, deputy, "办结 1 再次排气检修,复测22度")
	waitSent(t, fw, resident, "再次排气")
	mustContain(t, say(t, c, resident, "1"), "感谢")
	if st, sat, _ := show(); st != "resolved" || sat != "satisfied" {
		t.Errorf("after rating 满意: status %s satisfaction %s", st, sat)
	}
}

// TestNotificationsSurviveAnAPIOutage: WeChat's send API is down while
// deputies act; once it is back every notification arrives, and none twice,
// except the 【新反映】 asking the deputy to accept cases they have accepted
// meanwhile: those are dropped as stale.
func TestNotificationsSurviveAnAPIOutage(t *testing.T) {
	cfg := testConfig(t)
	fw := withFakeWeChat(t, &cfg)
	ts := startService(t, cfg)
	c := ts.Client(wxsim.Safe)
	const deputy = "oOutageDeputy000000000001"
	bindDeputy(t, ts, c, deputy, "d-st-02")

	fw.SetDown(fakewx.PathCustomSend, true)
	var numbers []string
	for i := range 3 {
		resident := fmt.Sprintf("oOutageResident%010d", i)
		n := ts.ReportCase(t, resident)
		numbers = append(numbers, n)
		mustContain(t, say(t, c, deputy, "受理 "+n), "已受理")
		mustContain(t, say(t, c, deputy, "进展 "+n+" 明天上门"), "进展")
	}
	if sent := fw.Sent(); len(sent) != 0 {
		t.Fatalf("sent while the API was down: %v", sent)
	}
	fw.SetDown(fakewx.PathCustomSend, false)
	for i, n := range numbers {
		resident := fmt.Sprintf("oOutageResident%010d", i)
		waitSent(t, fw, resident, n, "受理")
		waitSent(t, fw, resident, n, "明天上门")
	}
	// Give any duplicate the chance to show: wait until the outbox is drained.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		rows, err := ts.DB.Outbox(ctx, 100)
		if err != nil {
			t.Fatal(err)
		}
		pending := 0
		for _, r := range rows {
			if r.Status == lianxin.OutboxPending {
				pending++
			}
		}
		if pending == 0 {
			break
		}
		if err := fw.WaitCalls(ctx, func(c []fakewx.Call) bool { return len(c) > 0 }); err != nil {
			t.Fatalf("outbox not drained: %d rows left", pending)
		}
	}
	seen := map[string]int{}
	for _, s := range fw.Sent() {
		seen[s.To+"|"+s.Text]++
	}
	for k, n := range seen {
		if n > 1 {
			t.Errorf("delivered %d times: %s", n, k)
		}
	}
	if len(seen) != 6 {
		t.Errorf("%d distinct messages delivered, want 6 (3 cases × accepted, progress)", len(seen))
	}
	rows, _ := ts.DB.OutboxWithStatus(ctx, lianxin.OutboxDropped, 100)
	if len(rows) != 3 {
		t.Errorf("%d notices dropped, want the 3 【新反映】 of cases accepted meanwhile", len(rows))
	}
	for k := range seen {
		if strings.Contains(k, "新反映") {
			t.Errorf("a stale 【新反映】 went out: %s", k)
		}
	}
}

// TestPhotosAreStoredWithoutSlowingTheWebhook: WeChat's media API answers
// slowly; residents' photos are acknowledged at once, then fetched, stripped
// of EXIF and GPS, and stored.
func TestPhotosAreStoredWithoutSlowingTheWebhook(t *testing.T) {
	cfg := testConfig(t)
	fw := withFakeWeChat(t, &cfg)
	ts := startService(t, cfg)
	c := ts.Client(wxsim.Safe)
	const user = "oPhotoResident0000000001"
	fw.SetLatency(fakewx.PathMediaGet, 2*time.Second)
	var ids []string
	for range 3 {
		id := fw.AddGeneratedPhoto(37.8561, 113.5727) // a phone photo with the resident's home in its EXIF
		ids = append(ids, id)
		r := send(t, c, wxsim.Image(user, id, fw.PicURL(id)))
		if r.Status != 200 || !strings.Contains(r.Content, "照片") {
			t.Fatalf("photo: HTTP %d %q", r.Status, r.Content)
		}
		// The reply does not wait for the 2-second download.
		if r.Latency > time.Second {
			t.Errorf("the webhook took %s to acknowledge a photo while media/get is slow", r.Latency)
		}
	}
	for _, step := range []string{"2", "3号楼2单元暖气一直不热,屋里才十四五度", "完成", "水滩社区3号楼", "跳过"} {
		say(t, c, user, step)
	}
	mustContain(t, say(t, c, user, "确认"), "提交成功")

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := fw.WaitCalls(ctx, func(calls []fakewx.Call) bool {
		ok := 0
		for _, call := range calls {
			if call.Path == fakewx.PathMediaGet && call.Status == 200 {
				ok++
			}
		}
		return ok >= len(ids)
	}); err != nil {
		t.Fatalf("photos were not fetched: %v", err)
	}
	cases, _ := ts.DB.Cases(ctx, lianxin.CaseFilter{OpenID: user})
	// The worker marks a photo stored right after fetching it; wait for the rows.
	var got *lianxin.Case
	for {
		var err error
		got, err = ts.DB.Case(ctx, cases[0].Number)
		if err != nil {
			t.Fatal(err)
		}
		stored := 0
		for _, a := range got.Attachments {
			if a.Status == lianxin.AttachmentStored {
				stored++
			}
		}
		if stored == len(ids) {
			break
		}
		if err := fw.WaitCalls(ctx, func(c []fakewx.Call) bool { return true }); ctx.Err() != nil {
			t.Fatalf("photos not stored in time: %+v %v", got.Attachments, err)
		}
	}
	for _, a := range got.Attachments {
		b, err := os.ReadFile(filepath.Join(cfg.DataDir, a.Path))
		if err != nil {
			t.Fatalf("attachment %d: %v", a.ID, err)
		}
		if photos.HasEXIF(b) || photos.HasGPS(b) {
			t.Errorf("attachment %d still carries EXIF/GPS", a.ID)
		}
		if a.ThumbPath == "" || a.SHA256 == "" || a.Mime != "image/jpeg" {
			t.Errorf("attachment %d: %+v", a.ID, a)
		}
	}
}

// TestDeputyOutsideTheWindowGetsTheTemplate: a deputy who last wrote more
// than 48 hours ago is reached by template message directly, without a
// customer-service message WeChat would refuse.
func TestDeputyOutsideTheWindowGetsTheTemplate(t *testing.T) {
	cfg := testConfig(t)
	fw := withFakeWeChat(t, &cfg)
	// The service's clock runs 50 hours behind: what it records as the
	// deputy's last message is 50 hours old when the notification goes out.
	clock := testenv.NewClock(time.Now().Add(-50 * time.Hour))
	ts := startService(t, cfg, clock)
	c := ts.Client(wxsim.Safe)
	const deputy = "oWindowDeputy00000000001"
	bindDeputy(t, ts, c, deputy, "d-st-02")
	number := ts.ReportCase(t, "oWindowResident000000001")
	got := waitSent(t, fw, deputy, number)
	if got.Kind != fakewx.KindTemplate {
		t.Errorf("notification went out as %s, want the template", got.Kind)
	}
	for _, call := range fw.CallsTo(fakewx.PathCustomSend) {
		if strings.Contains(string(call.Body), deputy) {
			t.Errorf("a customer-service message was tried first: %s", call.Body)
		}
	}
}

// TestReturnedCaseGoesToAnotherDeputy: 退回 re-routes to a colleague, never
// back to whoever returned it; when nobody is left it goes to the staff.
func TestReturnedCaseGoesToAnotherDeputy(t *testing.T) {
	ts := startService(t, testConfig(t))
	c := ts.Client(wxsim.Safe)
	number := ts.ReportCase(t, "oReturnResident000000001")
	deputies := map[string]string{}
	for _, id := range []string{"d-st-01", "d-st-02", "d-st-03", "d-st-04", "d-pt-01", "d-pt-02", "d-pt-03", "d-pt-04", "d-pt-05", "d-pt-06", "d-pt-07"} {
		openid := "oReturn_" + id
		bindDeputy(t, ts, c, openid, id)
		deputies[id] = openid
	}
	seen := map[string]bool{}
	for i := 0; i < 20; i++ {
		got, err := ts.DB.Case(context.Background(), number)
		if err != nil {
			t.Fatal(err)
		}
		if got.AssigneeID == "" {
			if !got.NeedsStaff {
				t.Error("a case nobody can take must be flagged for staff")
			}
			break
		}
		if seen[got.AssigneeID] {
			t.Fatalf("returned to %s, who had already returned it", got.AssigneeID)
		}
		seen[got.AssigneeID] = true
		reply := say(t, c, deputies[got.AssigneeID], "退回 "+number+" 不是我联系的片区")
		mustContain(t, reply, "已退回")
	}
	if len(seen) < 2 {
		t.Errorf("only %d deputies saw the case", len(seen))
	}
}

// TestDeputiesAreToldWhenNoticesOnlyQueue: without an AppSecret nothing can
// be sent, and while WeChat's send API is down nothing goes out; in both
// cases a deputy's action is acknowledged as queued, not as «已通知群众».
func TestDeputiesAreToldWhenNoticesOnlyQueue(t *testing.T) {
	t.Run("no AppSecret", func(t *testing.T) {
		ts := startService(t, testConfig(t))
		c := ts.Client(wxsim.Safe)
		const deputy = "oQueuedDeputy0000000001"
		bindDeputy(t, ts, c, deputy, "d-st-02")
		ts.ReportCase(t, "oQueuedResident000000001")
		r := say(t, c, deputy, "受理 1")
		mustContain(t, r, "已受理", "排队")
		if strings.Contains(r, "已通知群众") {
			t.Errorf("told «已通知群众» with nothing able to send: %q", r)
		}
	})
	t.Run("API down", func(t *testing.T) {
		cfg := testConfig(t)
		fw := withFakeWeChat(t, &cfg)
		ts := startService(t, cfg)
		c := ts.Client(wxsim.Safe)
		const deputy, resident = "oDownDeputy000000000001", "oDownResident00000000001"
		bindDeputy(t, ts, c, deputy, "d-st-02")
		fw.SetDown(fakewx.PathCustomSend, true)
		number := ts.ReportCase(t, resident)
		// The new-case notice to the deputy has failed at least once.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for {
			rows, err := ts.DB.Outbox(ctx, 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) > 0 && rows[len(rows)-1].LastError != "" {
				break
			}
			if err := fw.WaitCalls(ctx, func(c []fakewx.Call) bool { return len(c) > 0 }); err != nil {
				t.Fatalf("no failed send: %v", err)
			}
		}
		r := say(t, c, deputy, "受理 1")
		mustContain(t, r, "已受理", "排队")
		fw.SetDown(fakewx.PathCustomSend, false)
		waitSent(t, fw, resident, number, "受理")
		// WeChat took it; the worker records that it delivers again once
		// the send returns, which may be a moment after WeChat has it.
		waitFor(t, 10*time.Second, "the outbox to know WeChat takes messages again", ts.Outbox.Delivering)
		mustContain(t, say(t, c, deputy, "进展 1 明天上门"), "已通知群众")
	})
}

// TestNoStaleInstructions: WeChat's send API is down when a case comes in;
// meanwhile its deputy returns it and a colleague takes it. When WeChat is
// back, the first deputy is not asked to accept a case that is no longer
// theirs; the colleague is.
func TestNoStaleInstructions(t *testing.T) {
	cfg := testConfig(t)
	fw := withFakeWeChat(t, &cfg)
	ts := startService(t, cfg)
	c := ts.Client(wxsim.Safe)
	deputies := map[string]string{"d-st-02": "oStaleDeputy0000000002", "d-st-03": "oStaleDeputy0000000003", "d-st-04": "oStaleDeputy0000000004"}
	for id, openid := range deputies {
		bindDeputy(t, ts, c, openid, id)
	}
	fw.SetDown(fakewx.PathCustomSend, true)
	number := ts.ReportCase(t, "oStaleResident0000000001")
	mustContain(t, say(t, c, deputies["d-st-02"], "退回 1 不是我联系的片区"), "已退回")
	got, err := ts.DB.Case(context.Background(), number)
	if err != nil {
		t.Fatal(err)
	}
	fw.SetDown(fakewx.PathCustomSend, false)
	waitSent(t, fw, deputies[got.AssigneeID], "新反映", number)
	// Everything that was due has gone or been dropped.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		rows, err := ts.DB.OutboxWithStatus(ctx, lianxin.OutboxPending, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) == 0 {
			break
		}
		if err := fw.WaitCalls(ctx, func(c []fakewx.Call) bool { return len(c) > 0 }); err != nil {
			t.Fatalf("%d rows still pending", len(rows))
		}
	}
	for _, s := range fw.Sent() {
		if s.To == deputies["d-st-02"] && strings.Contains(s.Text, "新反映") {
			t.Errorf("the deputy who returned the case was asked to accept it: %q", s.Text)
		}
	}
}

// TestDeputySeesThePhotosAndHearsTheVoice: 详情 answers with the text at
// once and the case's photos and voice follow as image and voice messages,
// uploaded once as temporary media and reused by the next 详情; the
// new-case notice says how many photos there are.
func TestDeputySeesThePhotosAndHearsTheVoice(t *testing.T) {
	cfg := testConfig(t)
	fw := withFakeWeChat(t, &cfg)
	ts := startService(t, cfg)
	c := ts.Client(wxsim.Safe)
	const resident, deputy = "oMediaResident0000000001", "oMediaDeputy00000000001"
	bindDeputy(t, ts, c, deputy, "d-st-02")
	say(t, c, resident, "报事")
	say(t, c, resident, "2")
	voice := fw.AddVoice()
	mustContain(t, send(t, c, wxsim.Voice(resident, voice, "3号楼2单元暖气一直不热，屋里才十四五度")).Content, "【上传照片】")
	for range 2 {
		id := fw.AddGeneratedPhoto(37.8561, 113.5727)
		send(t, c, wxsim.Image(resident, id, fw.PicURL(id)))
	}
	say(t, c, resident, "完成")
	say(t, c, resident, "水滩社区3号楼")
	say(t, c, resident, "跳过")
	mustContain(t, say(t, c, resident, "确认"), "提交成功")
	waitSent(t, fw, deputy, "新反映", "照片：2张", "详情 1")

	// The photos must be stored before they can be sent on.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cases, _ := ts.DB.Cases(ctx, lianxin.CaseFilter{OpenID: resident})
	var stored *lianxin.Case
	for {
		got, err := ts.DB.Case(ctx, cases[0].Number)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, a := range got.Attachments {
			if a.Status == lianxin.AttachmentStored {
				n++
			}
		}
		if n == 3 {
			stored = got
			break
		}
		if err := fw.WaitCalls(ctx, func(c []fakewx.Call) bool { return true }); ctx.Err() != nil {
			t.Fatalf("attachments not stored: %+v %v", got.Attachments, err)
		}
	}

	r := send(t, c, wxsim.Text(deputy, "详情 1"))
	mustContain(t, r.Content, "照片：2张，语音1条", "随后")
	if r.Latency > time.Second {
		t.Errorf("详情 took %s: the media must not be on the webhook path", r.Latency)
	}
	media := waitMedia(t, fw, deputy, 3)
	if len(fw.CallsTo(fakewx.PathMediaUpload)) != 3 {
		t.Errorf("%d uploads, want 3", len(fw.CallsTo(fakewx.PathMediaUpload)))
	}
	// What the deputy gets is what was stored (the photos without EXIF).
	files := map[string]bool{}
	for _, a := range stored.Attachments {
		b, err := os.ReadFile(filepath.Join(cfg.DataDir, a.Path))
		if err != nil {
			t.Fatal(err)
		}
		files[string(b)] = true
	}
	kinds := map[string]int{}
	for _, m := range media {
		kinds[m.MsgType]++
		id := strings.TrimSuffix(strings.TrimPrefix(m.Text, "["+m.MsgType+" "), "]")
		if _, data, ok := fw.Media(id); !ok || !files[string(data)] {
			t.Errorf("%s %s is not one of the case's stored files", m.MsgType, id)
		}
	}
	if kinds["image"] != 2 || kinds["voice"] != 1 {
		t.Errorf("sent %v, want 2 images and 1 voice", kinds)
	}

	// Again: the uploads are reused while WeChat keeps them.
	send(t, c, wxsim.Text(deputy, "详情 1"))
	waitMedia(t, fw, deputy, 6)
	if n := len(fw.CallsTo(fakewx.PathMediaUpload)); n != 3 {
		t.Errorf("%d uploads after the second 详情, want the first 3 reused", n)
	}
}

// waitMedia waits until the deputy has been sent n image or voice messages.
func waitMedia(t *testing.T, fw *fakewx.Server, to string, n int) []fakewx.Sent {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var got []fakewx.Sent
	err := fw.WaitSent(ctx, func(sent []fakewx.Sent) bool {
		got = got[:0]
		for _, s := range sent {
			if s.To == to && (s.MsgType == "image" || s.MsgType == "voice") {
				got = append(got, s)
			}
		}
		return len(got) >= n
	})
	if err != nil {
		t.Fatalf("%d media messages to %s, want %d", len(got), to, n)
	}
	return got
}
