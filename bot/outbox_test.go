package bot_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lianxin/lianxin"
	"github.com/lianxin/lianxin/bot"
	"github.com/lianxin/lianxin/bot/wxapi"
	"github.com/lianxin/lianxin/internal/queue"
	"github.com/lianxin/lianxin/internal/testenv"
	"github.com/lianxin/lianxin/internal/wxtest/fakewx"
	"github.com/lianxin/lianxin/internal/wxtest/photos"
	"github.com/lianxin/lianxin/store"
)

// outboxEnv is one deployment: a fake WeChat (with robot key "robot-key"),
// an SQLite file, an API client sharing its token through Redis.
type outboxEnv struct {
	fake   *fakewx.Server
	db     *store.DB
	api    *wxapi.Client
	clk    *testenv.Clock
	dbPath string
	robot  string // the robot's webhook URL, on the real host
}

func newOutboxEnv(t *testing.T) *outboxEnv {
	t.Helper()
	fake := fakewx.New(fakewx.Options{RobotKeys: []string{"robot-key"}})
	if err := fake.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fake.Close() })
	e := &outboxEnv{fake: fake, clk: testenv.NewClock(time.Now().UTC().Truncate(time.Second)), dbPath: testenv.DBPath(t),
		robot: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=robot-key"}
	e.db = e.open(t)
	api, err := wxapi.New(wxapi.Config{
		AppID: "wx" + testenv.Prefix(t), AppSecret: "secret", Base: fake.URL(), Redis: testenv.Redis(t), Timeout: 5 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	e.api = api
	return e
}

func (e *outboxEnv) open(t *testing.T) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), e.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	db.Now = e.clk.Now
	t.Cleanup(func() { db.Close() })
	return db
}

func (e *outboxEnv) worker(t *testing.T, db bot.OutboxStore, mod func(*bot.OutboxConfig)) *bot.OutboxWorker {
	t.Helper()
	cfg := bot.OutboxConfig{
		Pacing: queue.Pacing{Now: e.clk.Now, Rand: func() float64 { return 0.5 }}, TemplateID: "tpl-default",
		RobotURL: func(key string) (string, bool) {
			if key == "station-pingtan" {
				return e.robot, true
			}
			return "", false
		},
	}
	if mod != nil {
		mod(&cfg)
	}
	w, err := bot.NewOutboxWorker(db, e.api, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func (e *outboxEnv) enqueue(t *testing.T, key, kind, to string, payload any) int64 {
	t.Helper()
	ctx := context.Background()
	if err := e.db.Enqueue(ctx, key, kind, to, payload, nil); err != nil {
		t.Fatal(err)
	}
	rows, err := e.db.Outbox(ctx, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.IdemKey == key {
			return r.ID
		}
	}
	t.Fatalf("enqueued %s not found", key)
	return 0
}

func (e *outboxEnv) row(t *testing.T, id int64) *lianxin.OutboxMessage {
	t.Helper()
	m, err := e.db.OutboxMessage(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func pollOutbox(t *testing.T, w *bot.OutboxWorker, want int) {
	t.Helper()
	n, err := w.Poll(context.Background())
	if err != nil || n != want {
		t.Fatalf("Poll = %d, %v; want %d", n, err, want)
	}
}

// deliveries counts what WeChat delivered, by recipient and text.
func deliveries(s *fakewx.Server) map[string]int {
	out := map[string]int{}
	for _, m := range s.Sent() {
		out[m.To+"|"+m.Text]++
	}
	return out
}

func TestOutboxDeliversOnce(t *testing.T) {
	t.Parallel()
	e := newOutboxEnv(t)
	w := e.worker(t, e.db, nil)
	ids := []int64{
		e.enqueue(t, "k1", lianxin.OutboxText, "oResident1", lianxin.TextPayload{Text: "您反映的事项已登记，编号 KQ20261127-0007"}),
		e.enqueue(t, "k2", lianxin.OutboxText, "oResident1", lianxin.NotifyPayload{Text: "代表已受理"}),
		e.enqueue(t, "k3", lianxin.OutboxTemplate, "oDeputy1", lianxin.TemplatePayload{TemplateID: "tpl-new-case", URL: "https://example.org/c/7", Data: map[string]string{"first": "新事项待受理", "keyword1": "KQ20261127-0007"}}),
		e.enqueue(t, "k4", lianxin.OutboxRobot, e.robot, lianxin.RobotPayload{MsgType: "markdown", Content: "**新事项** KQ20261127-0007"}),
		e.enqueue(t, "k5", lianxin.OutboxRobot, "station-pingtan", lianxin.RobotPayload{MsgType: "text", Content: "今日新登记 1 件"}),
	}
	pollOutbox(t, w, 5)
	got := deliveries(e.fake)
	for _, want := range []string{
		"oResident1|您反映的事项已登记，编号 KQ20261127-0007", "oResident1|代表已受理",
		"oDeputy1|first: 新事项待受理\nkeyword1: KQ20261127-0007",
		"robot-key|**新事项** KQ20261127-0007", "robot-key|今日新登记 1 件",
	} {
		if got[want] != 1 {
			t.Errorf("delivered %q %d times, want once (all: %v)", want, got[want], got)
		}
	}
	var order []string
	for _, m := range e.fake.Sent() {
		if m.To == "oResident1" {
			order = append(order, m.Text)
		}
	}
	if len(order) != 2 || order[0] != "您反映的事项已登记，编号 KQ20261127-0007" {
		t.Errorf("resident got %q, want the registration first", order)
	}
	for i, via := range []string{bot.ViaCustom, bot.ViaCustom, bot.ViaTemplate, bot.ViaRobot, bot.ViaRobot} {
		if r := e.row(t, ids[i]); r.Status != lianxin.OutboxSent || r.Via != via || r.SentAt == nil || r.Attempts != 1 {
			t.Errorf("row %d: %+v", ids[i], r)
		}
	}
	for _, m := range e.fake.Sent() {
		if m.Kind == fakewx.KindTemplate && m.ClientMsgID != wxapi.ClientMsgID("k3") {
			t.Errorf("template client_msg_id %q, want ClientMsgID(idem key)", m.ClientMsgID)
		}
	}
	pollOutbox(t, w, 0)
}

// TestOutboxAPIDownThenBack: every message waits out the outage and is
// delivered once after it, in order per recipient.
func TestOutboxAPIDownThenBack(t *testing.T) {
	t.Parallel()
	e := newOutboxEnv(t)
	w := e.worker(t, e.db, nil)
	const recipients, each = 5, 3
	for i := range each {
		for r := range recipients {
			e.enqueue(t, fmt.Sprintf("k%d-%d", r, i), lianxin.OutboxText, fmt.Sprintf("oResident%d", r), lianxin.TextPayload{Text: fmt.Sprintf("第%d条", i+1)})
		}
	}
	e.fake.SetDown("", true)
	pollOutbox(t, w, recipients) // the head of each recipient's queue, and only that
	e.clk.Add(3 * time.Second)   // backoff 5 s at attempt 1, jitter at its midpoint: 3.75 s
	pollOutbox(t, w, 0)
	e.clk.Add(time.Second)
	pollOutbox(t, w, recipients)

	e.fake.SetDown("", false)
	e.clk.Add(10 * time.Second)
	pollOutbox(t, w, recipients*each)
	got := deliveries(e.fake)
	if len(got) != recipients*each {
		t.Errorf("%d distinct deliveries, want %d: %v", len(got), recipients*each, got)
	}
	for k, n := range got {
		if n != 1 {
			t.Errorf("%q delivered %d times", k, n)
		}
	}
	last := map[string]string{}
	for _, m := range e.fake.Sent() {
		if m.Text <= last[m.To] {
			t.Errorf("%s got %q after %q", m.To, m.Text, last[m.To])
		}
		last[m.To] = m.Text
	}
	rows, _ := e.db.Outbox(context.Background(), 100)
	for _, r := range rows {
		if r.Status != lianxin.OutboxSent {
			t.Errorf("row %d: %s, %s", r.ID, r.Status, r.LastError)
		}
	}
}

// TestOutboxTemplateFallback: outside the 48-hour window a text with a
// fallback goes out as its template; one without is dead with the reason.
func TestOutboxTemplateFallback(t *testing.T) {
	t.Parallel()
	e := newOutboxEnv(t)
	w := e.worker(t, e.db, nil)
	e.fake.Set45015("oDeputy1", true)
	withFallback := e.enqueue(t, "assign:7:deputy1", lianxin.OutboxText, "oDeputy1", lianxin.NotifyPayload{
		Text:     "新事项 KQ20261127-0007 待您受理，回复“受理”即可",
		Template: &lianxin.TemplatePayload{URL: "https://example.org/c/7", Data: map[string]string{"first": "新事项待受理", "keyword1": "KQ20261127-0007"}},
	})
	without := e.enqueue(t, "late-reply:1", lianxin.OutboxText, "oDeputy1", lianxin.TextPayload{Text: "收到"})
	pollOutbox(t, w, 2)

	sent := e.fake.Sent()
	if len(sent) != 1 || sent[0].Kind != fakewx.KindTemplate || sent[0].To != "oDeputy1" || sent[0].TemplateID != "tpl-default" ||
		sent[0].ClientMsgID != wxapi.ClientMsgID("assign:7:deputy1") || sent[0].URL != "https://example.org/c/7" {
		t.Fatalf("sent = %+v", sent)
	}
	if r := e.row(t, withFallback); r.Status != lianxin.OutboxSent || r.Via != bot.ViaTemplate {
		t.Errorf("with fallback: %+v", r)
	}
	if r := e.row(t, without); r.Status != lianxin.OutboxDead || !strings.Contains(r.LastError, "45015") || !strings.Contains(r.LastError, "no template fallback") {
		t.Errorf("without fallback: %+v", r)
	}
}

// TestOutboxPermanentErrorsAreDead: a refusal that retrying cannot change
// ends the row at once, with the reason.
func TestOutboxPermanentErrorsAreDead(t *testing.T) {
	t.Parallel()
	e := newOutboxEnv(t)
	w := e.worker(t, e.db, nil)
	e.fake.FailNextErrCode(fakewx.PathCustomSend, 1, 40003, "")
	cases := map[int64]string{
		e.enqueue(t, "k1", lianxin.OutboxText, "oNobody", lianxin.TextPayload{Text: "x"}):                                                                              "errcode 40003",
		e.enqueue(t, "k2", lianxin.OutboxRobot, "station-unknown", lianxin.RobotPayload{MsgType: "text", Content: "x"}):                                                "no robot webhook URL",
		e.enqueue(t, "k3", lianxin.OutboxRobot, "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=wrong-key", lianxin.RobotPayload{MsgType: "text", Content: "x"}): "errcode 93000",
		e.enqueue(t, "k4", lianxin.OutboxTemplate, "oDeputy2", "not an object"):                                                                                        "payload is not a template",
	}
	pollOutbox(t, w, 4)
	for id, want := range cases {
		if r := e.row(t, id); r.Status != lianxin.OutboxDead || !strings.Contains(r.LastError, want) || r.Attempts != 1 {
			t.Errorf("row %d: status %s, error %q; want dead with %q", id, r.Status, r.LastError, want)
		}
	}
	if strings.Contains(e.row(t, 3).LastError, "wrong-key") {
		t.Error("last_error shows the robot key")
	}
	if n := len(e.fake.Sent()); n != 0 {
		t.Errorf("%d delivered", n)
	}
}

// TestOutboxGivesUpAfterMaxAttempts: a send failing transiently is dead
// after MaxAttempts, with the last error.
func TestOutboxGivesUpAfterMaxAttempts(t *testing.T) {
	t.Parallel()
	e := newOutboxEnv(t)
	w := e.worker(t, e.db, func(c *bot.OutboxConfig) { c.MaxAttempts = 3 })
	id := e.enqueue(t, "k1", lianxin.OutboxText, "oResident1", lianxin.TextPayload{Text: "x"})
	e.fake.SetDown(fakewx.PathCustomSend, true)
	for range 3 {
		pollOutbox(t, w, 1)
		e.clk.Add(time.Hour)
	}
	pollOutbox(t, w, 0)
	if r := e.row(t, id); r.Status != lianxin.OutboxDead || r.Attempts != 3 || !strings.Contains(r.LastError, "gave up after 3 attempts") || !strings.Contains(r.LastError, "HTTP 503") {
		t.Errorf("row: %+v", r)
	}
}

// TestOutboxTemplateAnswerLost: WeChat delivered a template but its answer
// was lost; the retry carries the same client_msg_id, so the deputy gets it
// once.
func TestOutboxTemplateAnswerLost(t *testing.T) {
	t.Parallel()
	e := newOutboxEnv(t)
	w := e.worker(t, e.db, nil)
	id := e.enqueue(t, "assign:9", lianxin.OutboxTemplate, "oDeputy1", lianxin.TemplatePayload{Data: map[string]string{"first": "新事项"}})
	e.fake.FailAfterNext(fakewx.PathTemplateSend, 1, 502)
	pollOutbox(t, w, 1)
	if r := e.row(t, id); r.Status != lianxin.OutboxPending || !strings.Contains(r.LastError, "HTTP 502") {
		t.Fatalf("after the lost answer: %+v", r)
	}
	e.clk.Add(time.Minute)
	pollOutbox(t, w, 1)
	if r := e.row(t, id); r.Status != lianxin.OutboxSent {
		t.Errorf("after the retry: %+v", r)
	}
	if n := len(e.fake.CallsTo(fakewx.PathTemplateSend)); n != 2 {
		t.Errorf("%d template calls, want 2", n)
	}
	if n := len(e.fake.Sent()); n != 1 {
		t.Errorf("delivered %d times, want once", n)
	}
}

// TestOutboxTwoWorkersNoDoubleSend: two processes (two database handles,
// two workers) draining one outbox send each message exactly once, each
// recipient's in order.
func TestOutboxTwoWorkersNoDoubleSend(t *testing.T) {
	t.Parallel()
	e := newOutboxEnv(t)
	a := e.worker(t, e.db, func(c *bot.OutboxConfig) { c.Concurrency = 4 })
	b := e.worker(t, e.open(t), func(c *bot.OutboxConfig) { c.Concurrency = 4 })
	const recipients, each = 10, 4
	for i := range each {
		for r := range recipients {
			e.enqueue(t, fmt.Sprintf("k%d-%d", r, i), lianxin.OutboxText, fmt.Sprintf("oResident%02d", r), lianxin.TextPayload{Text: fmt.Sprintf("第%d条", i+1)})
		}
	}
	e.fake.SetLatency(fakewx.PathCustomSend, 5*time.Millisecond)
	var wg sync.WaitGroup
	var na, nb int
	wg.Go(func() { na, _ = a.Poll(context.Background()) })
	wg.Go(func() { nb, _ = b.Poll(context.Background()) })
	wg.Wait()
	// One worker may finish its pass while the other still holds a
	// recipient's earlier message; a second pass picks up what that freed.
	n2, _ := a.Poll(context.Background())
	t.Logf("worker a sent %d, b %d, then a %d", na, nb, n2)
	if na+nb+n2 != recipients*each {
		t.Errorf("attempted %d, want %d", na+nb+n2, recipients*each)
	}
	got := deliveries(e.fake)
	if len(got) != recipients*each {
		t.Errorf("%d distinct deliveries, want %d", len(got), recipients*each)
	}
	for k, n := range got {
		if n != 1 {
			t.Errorf("%q delivered %d times", k, n)
		}
	}
	last := map[string]string{}
	for _, m := range e.fake.Sent() {
		if m.Text <= last[m.To] {
			t.Errorf("%s got %q after %q", m.To, m.Text, last[m.To])
		}
		last[m.To] = m.Text
	}
}

// TestOutboxCrashedWorkerLeaseRunsOut: a send claimed by a process that died
// is delivered by another once the lease runs out (state is in SQLite).
func TestOutboxCrashedWorkerLeaseRunsOut(t *testing.T) {
	t.Parallel()
	e := newOutboxEnv(t)
	id := e.enqueue(t, "k1", lianxin.OutboxText, "oResident1", lianxin.TextPayload{Text: "x"})
	if rows, err := e.db.ClaimOutbox(context.Background(), "crashed", e.clk.Now(), 2*time.Minute, 10); err != nil || len(rows) != 1 {
		t.Fatalf("claim: %v, %v", rows, err)
	}
	w := e.worker(t, e.open(t), nil) // the process after a restart
	pollOutbox(t, w, 0)
	e.clk.Add(2*time.Minute + time.Second)
	pollOutbox(t, w, 1)
	if r := e.row(t, id); r.Status != lianxin.OutboxSent || r.Attempts != 2 {
		t.Errorf("row: %+v", r)
	}
}

// TestOutboxNotifyWakesRun: Run sends a newly queued message when notified,
// without waiting for its interval, and stops when its context ends.
func TestOutboxNotifyWakesRun(t *testing.T) {
	t.Parallel()
	e := newOutboxEnv(t)
	w := e.worker(t, e.db, func(c *bot.OutboxConfig) { c.Interval = time.Hour })
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		w.Run(ctx)
	}()
	defer func() {
		cancel()
		<-stopped
	}()
	wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer wcancel()
	for i := range 3 {
		e.enqueue(t, fmt.Sprintf("k%d", i), lianxin.OutboxText, "oResident1", lianxin.TextPayload{Text: fmt.Sprint(i)})
		w.Notify()
		if err := e.fake.WaitSent(wctx, func(s []fakewx.Sent) bool { return len(s) == i+1 }); err != nil {
			t.Fatalf("message %d not sent after Notify: %v", i, err)
		}
	}
}

// deputies is a directory where deputies bind during the test.
type deputies struct {
	mu    sync.Mutex
	bound map[string]string
}

func (d *deputies) DeputyOpenID(_ context.Context, id string) (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	openid, ok := d.bound[id]
	if !ok {
		return "", lianxin.Errorf(lianxin.ENOTFOUND, "no deputy %s", id)
	}
	return openid, nil
}

func (d *deputies) bind(id, openid string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.bound[id] = openid
}

// TestOutboxDeputyRecipient: a notice for a deputy who has not bound their
// WeChat waits, without using up attempts, and reaches them once they bind.
func TestOutboxDeputyRecipient(t *testing.T) {
	t.Parallel()
	e := newOutboxEnv(t)
	dir := &deputies{bound: map[string]string{"d-wang": ""}}
	w := e.worker(t, e.db, func(c *bot.OutboxConfig) { c.Deputies = dir; c.MaxAttempts = 2 })
	waiting := e.enqueue(t, "assign:1", lianxin.OutboxText, "deputy:d-wang", lianxin.NotifyPayload{Text: "新事项待受理"})
	gone := e.enqueue(t, "assign:2", lianxin.OutboxText, "deputy:d-left", lianxin.NotifyPayload{Text: "x"})
	for i := range 5 { // more than MaxAttempts: waiting is not failing
		want := 1
		if i == 0 {
			want = 2 // and the unknown deputy, once
		}
		pollOutbox(t, w, want)
		e.clk.Add(time.Minute)
		if r := e.row(t, gone); r.Status != lianxin.OutboxDead || !strings.Contains(r.LastError, "no deputy") {
			t.Fatalf("unknown deputy: %+v", r)
		}
		if r := e.row(t, waiting); r.Status != lianxin.OutboxPending || r.Attempts != 0 || !strings.Contains(r.LastError, "not bound") {
			t.Fatalf("unbound deputy: %+v", r)
		}
	}
	dir.bind("d-wang", "oDeputyWang")
	pollOutbox(t, w, 1)
	if r := e.row(t, waiting); r.Status != lianxin.OutboxSent {
		t.Errorf("after binding: %+v", r)
	}
	if got := deliveries(e.fake); got["oDeputyWang|新事项待受理"] != 1 || len(got) != 1 {
		t.Errorf("delivered %v", got)
	}
}

// TestOutboxDropsNoticesTheCaseHasOutgrown: a notice queued with a rule
// ("while case N is registered and assigned to D") is checked when it is
// sent; once the case has moved on (accepted, reassigned, closed) it is
// dropped with the reason instead of giving stale instructions.
func TestOutboxDropsNoticesTheCaseHasOutgrown(t *testing.T) {
	t.Parallel()
	e := newOutboxEnv(t)
	w := e.worker(t, e.db, func(c *bot.OutboxConfig) { c.Cases = e.db })
	ctx := context.Background()
	num := lianxin.CaseNumbering{Prefix: "KQ", Location: time.UTC}
	waiting := &lianxin.NoticeRule{Statuses: []lianxin.Status{lianxin.StatusRegistered, lianxin.StatusReopened}, Assignee: "d1"}
	newCase := func(source, text string) *lianxin.Case {
		r := lianxin.Report{SourceKey: source, OpenID: "oResident", Category: lianxin.Category{Key: "heating"}, Description: "暖气不热"}
		assign := func(lianxin.AssignView, string) (lianxin.Assignment, error) {
			return lianxin.Assignment{AssigneeID: "d1", Notices: []lianxin.Notice{{IdemKey: "new:" + source, Kind: lianxin.OutboxText,
				Recipient: "oDeputy1", Payload: lianxin.TextPayload{Text: text}, Valid: waiting}}}, nil
		}
		c, _, err := e.db.CreateCase(ctx, num, r, nil, nil, assign)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	still := newCase("gh:1", "【新反映】一 请受理")
	accepted := newCase("gh:2", "【新反映】二 请受理")
	moved := newCase("gh:3", "【新反映】三 请受理")
	other := "d2"
	for _, tr := range []lianxin.Transition{
		{CaseID: accepted.ID, Status: lianxin.StatusAccepted},
		{CaseID: moved.ID, Assignee: &other},
	} {
		if _, err := e.db.Transition(ctx, tr); err != nil {
			t.Fatal(err)
		}
	}
	_ = still
	pollOutbox(t, w, 3)
	got := deliveries(e.fake)
	if len(got) != 1 || got["oDeputy1|【新反映】一 请受理"] != 1 {
		t.Errorf("delivered %v; want only the notice for the case still waiting", got)
	}
	rows, _ := e.db.Outbox(ctx, 10)
	for _, r := range rows {
		if strings.Contains(r.Payload, "二") || strings.Contains(r.Payload, "三") {
			if r.Status != lianxin.OutboxDropped || !strings.Contains(r.LastError, "case") {
				t.Errorf("stale notice %s: %s %q", r.IdemKey, r.Status, r.LastError)
			}
		}
	}
}

// TestOutboxSendsPhotosAsImages: an OutboxMedia row uploads the stored
// photo once and sends it as an image; an upload WeChat no longer keeps is
// uploaded again; a photo still being fetched waits; one that never
// arrived is dropped.
func TestOutboxSendsPhotosAsImages(t *testing.T) {
	t.Parallel()
	e := newOutboxEnv(t)
	dataDir := t.TempDir()
	w := e.worker(t, e.db, func(c *bot.OutboxConfig) { c.Media, c.DataDir, c.Cases = e.db, dataDir, e.db })
	ctx := context.Background()
	attachment := func(key string) int64 {
		id, err := e.db.RegisterAttachment(ctx, &lianxin.Inbound{Account: "gh", OpenID: "oResident", Kind: lianxin.KindImage,
			MsgID: int64(len(key)) + 1000*int64(key[0]), CreateTime: e.clk.Now().Unix(), MediaID: key})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	stored, pending, failed := attachment("stored"), attachment("pending"), attachment("failed")
	jobs, err := e.db.ClaimAttachments(ctx, "media", e.clk.Now(), time.Minute, 10)
	if err != nil || len(jobs) != 3 {
		t.Fatalf("claim: %v %v", jobs, err)
	}
	photo := photos.JPEGWithGPS(32, 24, 0, 0)
	if err := os.MkdirAll(filepath.Join(dataDir, "media"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dataDir, "media", "a.jpg"), photo, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := e.db.MarkAttachmentStored(ctx, stored, "media", e.clk.Now(), lianxin.StoredMedia{Path: "media/a.jpg", Mime: "image/jpeg", Size: int64(len(photo))}); err != nil {
		t.Fatal(err)
	}
	if err := e.db.MarkAttachmentFailed(ctx, failed, "media", e.clk.Now(), "invalid media_id"); err != nil {
		t.Fatal(err)
	}
	if err := e.db.RetryAttachment(ctx, pending, "media", e.clk.Now(), e.clk.Now().Add(time.Hour), "HTTP 503"); err != nil {
		t.Fatal(err)
	}
	send := func(key string, id int64) int64 {
		return e.enqueue(t, key, lianxin.OutboxMedia, "oDeputy"+key, lianxin.MediaPayload{AttachmentID: id})
	}
	first, waiting, gone := send("1", stored), send("2", pending), send("3", failed)
	pollOutbox(t, w, 3)
	if r := e.row(t, first); r.Status != lianxin.OutboxSent {
		t.Errorf("stored photo: %+v", r)
	}
	if r := e.row(t, waiting); r.Status != lianxin.OutboxPending || r.Attempts != 0 {
		t.Errorf("photo still being fetched: %+v", r)
	}
	if r := e.row(t, gone); r.Status != lianxin.OutboxDropped || !strings.Contains(r.LastError, "never arrived") {
		t.Errorf("photo that never arrived: %+v", r)
	}
	sent := e.fake.Sent()
	if len(sent) != 1 || sent[0].MsgType != "image" || sent[0].To != "oDeputy1" {
		t.Fatalf("sent %+v", sent)
	}
	if n := len(e.fake.CallsTo(fakewx.PathMediaUpload)); n != 1 {
		t.Errorf("%d uploads, want 1", n)
	}
	// Reused while WeChat keeps it; uploaded again once it does not.
	send("4", stored)
	pollOutbox(t, w, 1)
	if n := len(e.fake.CallsTo(fakewx.PathMediaUpload)); n != 1 {
		t.Errorf("%d uploads after a second send, want the first reused", n)
	}
	if err := e.db.RememberUpload(ctx, stored, "GONE_FROM_WECHAT", e.clk.Now()); err != nil {
		t.Fatal(err)
	}
	again := send("5", stored)
	pollOutbox(t, w, 1)
	if r := e.row(t, again); r.Status != lianxin.OutboxSent || len(e.fake.CallsTo(fakewx.PathMediaUpload)) != 2 {
		t.Errorf("after WeChat let the upload go: %+v, %d uploads", r, len(e.fake.CallsTo(fakewx.PathMediaUpload)))
	}
}
