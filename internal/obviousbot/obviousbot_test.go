package obviousbot

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/lianxin/lianxin/bot/wxcrypt"
	"github.com/lianxin/lianxin/internal/testenv"
	"github.com/lianxin/lianxin/internal/wxtest/wxsim"
)

// testLog sends the bot's error log to the test's log.
type testLog struct{ t testing.TB }

func (w testLog) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// harness is a bot behind a real HTTP server, a WeChat player in AES safe
// mode pointed at it, real Redis and a real SQLite file.
type harness struct {
	bot    *Bot
	client *wxsim.Client
	rdb    *redis.Client
	prefix string
}

func newHarness(t testing.TB, rdb *redis.Client) *harness {
	t.Helper()
	id := testenv.Prefix(t) // its keys are deleted when the test ends
	if rdb == nil {
		rdb = testenv.Redis(t)
	}
	key := wxsim.NewAESKey()
	cfg := Config{
		AppID: "wx" + id, Token: "token-" + id, AESKey: key,
		Redis: rdb, KeyPrefix: "obvious:" + id + ":", DBPath: testenv.DBPath(t),
		Log: slog.New(slog.NewTextHandler(testLog{t}, nil)),
	}
	bot, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bot.Close() })
	srv := httptest.NewServer(bot)
	t.Cleanup(srv.Close) // runs before bot.Close: cleanups run last-in first-out
	return &harness{
		bot: bot, rdb: rdb, prefix: cfg.KeyPrefix,
		client: &wxsim.Client{URL: srv.URL, Token: cfg.Token, AppID: cfg.AppID, AESKey: key, Account: "gh_obvious", Mode: wxsim.Safe},
	}
}

// send posts m and fails the test unless an encrypted text reply came back.
func (h *harness) send(t testing.TB, m wxsim.Message) string {
	t.Helper()
	got, err := h.try(m)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// try is send for goroutines other than the test's, which must not call Fatal.
func (h *harness) try(m wxsim.Message) (string, error) {
	r, err := h.client.Send(context.Background(), m)
	if err != nil {
		return "", fmt.Errorf("%s %q: %w", m.Type, m.Content, err)
	}
	if r.Status != http.StatusOK || r.Empty() || !r.Encrypted || r.MsgType != "text" {
		return "", fmt.Errorf("%s %q: HTTP %d, encrypted %v, type %q: %s", m.Type, m.Content, r.Status, r.Encrypted, r.MsgType, r.Body)
	}
	if r.To != m.From {
		return "", fmt.Errorf("reply to %q, want %q", r.To, m.From)
	}
	return r.Content, nil
}

// fixedDay is a Friday in the heating season; 10:00 in Beijing.
var fixedDay = time.Date(2026, 11, 27, 2, 0, 0, 0, time.UTC)

func TestReportConversation(t *testing.T) {
	h := newHarness(t, nil)
	h.bot.now = func() time.Time { return fixedDay }
	script := wxsim.ReportScript{Prefix: "happy", Strict: true}
	// What each of the nine replies must say, in order.
	want := [][]string{
		{"【选择类别】请选择问题类别,回复数字:\n1 物业管理\n2 供暖\n", "10 意见建议与其他"},
		{"【问题描述】请简单说说是什么问题"},
		{"【上传照片】请拍照上传现场照片(最多9张)"},
		{"已收到第1张照片,还可以再发8张;发完请回复「完成」。"},
		{"已收到第2张照片,还可以再发7张;发完请回复「完成」。"},
		{"【所在位置】请发送位置"},
		{"已记下位置:阳泉市矿区水滩社区3号楼。\n【联系电话】请留下11位手机号"},
		{"【确认提交】请核对您反映的内容:", "1. 类别:供暖", "2. 描述:3号楼2单元暖气一直不热", "3. 照片:2张", "4. 位置:阳泉市矿区水滩社区3号楼", "5. 电话:未留", "回复「确认」提交"},
		{"提交成功!编号 KQ20261127-0001。", "4小时内受理"},
	}
	var ids []int64
	for i, w := range want {
		m := script.Next(0, i)
		ids = append(ids, m.MsgID)
		got := h.send(t, m)
		for _, s := range w {
			if !strings.Contains(got, s) {
				t.Fatalf("reply %d to %s %q:\n%s\nwant it to contain %q", i, m.Type, m.Content, got, s)
			}
		}
	}

	ctx := context.Background()
	if n, err := h.bot.Cases(ctx); err != nil || n != 1 {
		t.Fatalf("Cases = %d, %v; want 1", n, err)
	}
	var c struct {
		Number, Category, Description, Photos, Location, Phone, OpenID string
		Lat, Lng                                                       float64
	}
	err := h.bot.db.QueryRowxContext(ctx, `SELECT number, category, description, photos, location, phone, openid, lat, lng FROM cases`).
		Scan(&c.Number, &c.Category, &c.Description, &c.Photos, &c.Location, &c.Phone, &c.OpenID, &c.Lat, &c.Lng)
	if err != nil {
		t.Fatal(err)
	}
	user := script.User(0)
	if c.Number != "KQ20261127-0001" || c.Category != "heating" || c.OpenID != user || c.Phone != "" ||
		c.Location != "阳泉市矿区水滩社区3号楼" || c.Lat != 37.856 || c.Lng != 113.5726 ||
		!strings.HasPrefix(c.Description, "3号楼2单元") ||
		c.Photos != fmt.Sprintf(`["http://mmbiz.qpic.cn/BENCH_%s_3","http://mmbiz.qpic.cn/BENCH_%[1]s_4"]`, user) {
		t.Fatalf("case row: %+v", c)
	}
	// Every message has its row, under its MsgId.
	var got []int64
	if err := h.bot.db.SelectContext(ctx, &got, `SELECT msg_id FROM messages WHERE openid = ? ORDER BY id`, user); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != fmt.Sprint(ids) {
		t.Fatalf("message rows %v, want %v", got, ids)
	}
	// The finished report leaves no session behind.
	if n, err := h.rdb.Exists(ctx, h.prefix+"session:"+user).Result(); err != nil || n != 0 {
		t.Fatalf("session after submit: exists=%d %v", n, err)
	}
	// A second report the same day takes the next number.
	for i := range wxsim.ReportSteps - 1 {
		h.send(t, script.Next(0, i))
	}
	if got := h.send(t, script.Next(0, wxsim.ReportSteps-1)); !strings.Contains(got, "编号 KQ20261127-0002。") {
		t.Fatalf("second confirm: %q", got)
	}
}

func TestRetryIsDropped(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	m := wxsim.Text("oretry", "报事")
	// WeChat resends the very same request when the first answer is late.
	req, err := h.client.Build(m)
	if err != nil {
		t.Fatal(err)
	}
	first, err := h.client.Do(ctx, req)
	if err != nil || !strings.HasPrefix(first.Content, "【选择类别】") {
		t.Fatalf("first delivery: %v %q", err, first.Content)
	}
	again, err := h.client.Do(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if again.Status != http.StatusOK || !again.Empty() || string(again.Body) != "success" {
		t.Fatalf("retry: HTTP %d %q, want 200 \"success\"", again.Status, again.Body)
	}
	var rows int
	if err := h.bot.db.GetContext(ctx, &rows, `SELECT COUNT(*) FROM messages WHERE msg_id = ?`, m.MsgID); err != nil {
		t.Fatal(err)
	}
	if rows != 1 {
		t.Fatalf("%d message rows for MsgId %d, want 1", rows, m.MsgID)
	}
	// The retry did not move the conversation: the category step is next.
	if got := h.send(t, wxsim.Text("oretry", "2")); !strings.HasPrefix(got, "【问题描述】") {
		t.Fatalf("after the retry, 2 answered %q", got)
	}
}

func TestResidentsDoNotInterfere(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	type resident struct {
		openid, category, key, description string
	}
	residents := []resident{
		{"oalice", "2", "heating", "3号楼2单元暖气一直不热,屋里才十四五度"},
		{"obob", "道路设施", "roads", "河滩小区门口的下水井盖丢了,晚上很危险"},
	}
	// Both talk at once, each message by message; the race detector
	// watches the shared bot.
	var wg sync.WaitGroup
	for _, r := range residents {
		wg.Go(func() {
			var summary string
			steps := []wxsim.Message{
				wxsim.Text(r.openid, "报事"),
				wxsim.Text(r.openid, r.category),
				wxsim.Text(r.openid, r.description),
				wxsim.Image(r.openid, "m-"+r.openid, "http://mmbiz.qpic.cn/"+r.openid),
				wxsim.Text(r.openid, "完成"),
				wxsim.Text(r.openid, r.openid+"家楼下3号楼"),
				wxsim.Text(r.openid, "138 1234 5678"),
			}
			for _, m := range append(steps, wxsim.Text(r.openid, "跳过")) {
				got, err := h.try(m)
				if err != nil {
					t.Error(err)
					return
				}
				summary = got
			}
			// 跳过 at the confirm step is not an answer: the summary
			// comes back, and it must be this resident's own.
			for _, s := range []string{"2. 描述:" + r.description, "3. 照片:1张", "4. 位置:" + r.openid + "家楼下3号楼", "5. 电话:138****5678"} {
				if !strings.Contains(summary, s) {
					t.Errorf("%s's summary lacks %q:\n%s", r.openid, s, summary)
				}
			}
			if got, err := h.try(wxsim.Text(r.openid, "确认")); err != nil || !strings.Contains(got, "提交成功") {
				t.Errorf("%s confirm: %q %v", r.openid, got, err)
			}
		})
	}
	wg.Wait()
	var rows []struct {
		Number      string `db:"number"`
		OpenID      string `db:"openid"`
		Category    string `db:"category"`
		Description string `db:"description"`
		Phone       string `db:"phone"`
	}
	if err := h.bot.db.SelectContext(ctx, &rows, `SELECT number, openid, category, description, phone FROM cases ORDER BY openid`); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].Number == rows[1].Number {
		t.Fatalf("cases: %+v", rows)
	}
	for i, r := range []resident{residents[0], residents[1]} {
		if rows[i].OpenID != r.openid || rows[i].Category != r.key || rows[i].Description != r.description || rows[i].Phone != "13812345678" {
			t.Errorf("case %d: %+v, want %+v", i, rows[i], r)
		}
	}
}

func TestOffThePath(t *testing.T) {
	h := newHarness(t, nil)
	u := "ostray"
	for _, tc := range []struct {
		m    wxsim.Message
		want string // the reply starts with it
	}{
		{wxsim.Event(u, "subscribe", ""), "您好,欢迎来到"},
		{wxsim.Text(u, "你好"), "没太明白您的意思。\n请回复数字或文字"},
		{wxsim.Text(u, "进度"), "您还没有反映过问题。"},
		{wxsim.Text(u, "1"), "【选择类别】"},
		{wxsim.Text(u, "12"), "没有这个选项。\n【选择类别】"},
		{wxsim.Text(u, "安全隐患"), "【问题描述】"},
		{wxsim.Text(u, "煤气味"), "说得太简单了,请至少写5个字。\n【问题描述】"},
		{wxsim.Voice(u, "v1", "楼道里一股煤气味好几天了"), "【上传照片】"},
		{wxsim.Text(u, "完成"), "还没有收到照片。\n【上传照片】"},
		{wxsim.Text(u, "跳过"), "【所在位置】"},
		{wxsim.Text(u, "家"), "地址太简单了"},
		{wxsim.Text(u, "水滩社区7号楼"), "已记下位置:水滩社区7号楼。\n【联系电话】"},
		{wxsim.Text(u, "12345"), "手机号格式不对"},
		{wxsim.Text(u, "+86 13812345678"), "【确认提交】"},
		{wxsim.Text(u, "修改 9"), "没有第9项,请回复「修改」加1到5之间的数字。"},
		{wxsim.Text(u, "修改 4"), "【所在位置】"},
		{wxsim.Location(u, 37.85, 113.57, ""), "已记下位置:37.8500,113.5700。\n【确认提交】"},
		{wxsim.Text(u, "取消"), "已取消本次反映。"},
		{wxsim.Text(u, "确认"), "没太明白您的意思。"},
	} {
		if got := h.send(t, tc.m); !strings.HasPrefix(got, tc.want) {
			t.Fatalf("%s %q answered:\n%s\nwant it to start with %q", tc.m.Type, tc.m.Content+tc.m.Recognition, got, tc.want)
		}
	}
	if n, err := h.bot.Cases(context.Background()); err != nil || n != 0 {
		t.Fatalf("Cases = %d, %v after a cancelled report", n, err)
	}
}

// The SDK's server does the protocol: the URL check, and refusing a request
// whose signature does not verify.
func TestProtocolChecks(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	req, err := h.client.Build(wxsim.Text("oforger", "报事"))
	if err != nil {
		t.Fatal(err)
	}
	req.Query.Set("signature", strings.Repeat("0", 40))
	r, err := h.client.Do(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != http.StatusBadRequest {
		t.Fatalf("forged signature: HTTP %d %s", r.Status, r.Body)
	}
	ts, nonce := "1700000000", "42"
	resp, err := http.Get(h.client.URL + "?echostr=hello&timestamp=" + ts + "&nonce=" + nonce +
		"&signature=" + wxcrypt.Signature(h.client.Token, ts, nonce))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body := make([]byte, 16)
	n, _ := resp.Body.Read(body)
	if resp.StatusCode != http.StatusOK || string(body[:n]) != "hello" {
		t.Fatalf("URL check: HTTP %d %q", resp.StatusCode, body[:n])
	}
}

// BenchmarkObviousBot drives the bot as `lianxin bench` drives its servers:
// 32 senders, each a resident filing nine-message reports one after another,
// AES safe mode, over loopback HTTP. ns/op is per message.
func BenchmarkObviousBot(b *testing.B) {
	// A Redis client as the SDK's README and go-redis's would set one up:
	// default options.
	rdb := redis.NewClient(&redis.Options{Addr: testenv.RedisAddr(b)})
	b.Cleanup(func() { rdb.Close() })
	h := newHarness(b, rdb)
	h.bot.log = slog.New(slog.DiscardHandler)
	ctx := context.Background()
	const senders = 32
	// Whole conversations for every sender, so every one ends in a case.
	whole := senders * wxsim.ReportSteps
	n := (b.N + whole - 1) / whole * whole
	// Warm up: connections, SQLite's page cache, Redis.
	if st := wxsim.Load(ctx, h.client, wxsim.ReportScript{Prefix: "warm", Strict: true}, senders, whole); st.Errors > 0 {
		b.Fatalf("warm-up: %d errors", st.Errors)
	}
	before, err := h.bot.Cases(ctx)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	st := wxsim.Load(ctx, h.client, wxsim.ReportScript{Prefix: fmt.Sprintf("n%d", n), Strict: true}, senders, n)
	b.StopTimer()
	if st.Errors > 0 {
		b.Fatalf("%d of %d messages failed", st.Errors, st.Messages)
	}
	after, err := h.bot.Cases(ctx)
	if err != nil {
		b.Fatal(err)
	}
	if after-before != n/wxsim.ReportSteps {
		b.Fatalf("%d cases from %d conversations", after-before, n/wxsim.ReportSteps)
	}
	b.ReportMetric(float64(st.Elapsed.Nanoseconds())/float64(st.Messages), "ns/op")
	b.ReportMetric(st.PerSecond(), "msg/s")
	b.ReportMetric(float64(st.P99.Microseconds())/1000, "p99-ms")
}
