package service_test

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lianxin/lianxin"
	"github.com/lianxin/lianxin/internal/servicetest"
	"github.com/lianxin/lianxin/internal/testenv"
	"github.com/lianxin/lianxin/internal/wxtest/photos"
	"github.com/lianxin/lianxin/internal/wxtest/wxsim"
)

// consoleFixture is a running service with a chat case (KQ…) at the
// 水滩 point of 平潭街 and an account for each role.
type consoleFixture struct {
	*servicetest.Running
	number string
	admin  *http.Client
	clerk  *http.Client // 平潭街 staff
	deputy *http.Client // 郑示范 (d-st-02), whom the case was routed to
}

func newConsoleFixture(t *testing.T, clock ...*testenv.Clock) *consoleFixture {
	t.Helper()
	s := startService(t, testConfig(t), clock...)
	f := &consoleFixture{Running: s, number: s.ReportCase(t, "oPagesResident")}
	s.AddUser(t, "admin", lianxin.RoleAdmin, "", "", testPassword)
	s.AddUser(t, "pt-clerk", lianxin.RoleStaff, "pingtanjie", "", testPassword)
	s.AddUser(t, "zheng", lianxin.RoleDeputy, "", "d-st-02", testPassword)
	f.admin = s.Login(t, "admin", testPassword)
	f.clerk = s.Login(t, "pt-clerk", testPassword)
	f.deputy = s.Login(t, "zheng", testPassword)
	return f
}

// seen is the case's version on its page, for a form.
func (f *consoleFixture) seen(t *testing.T, b *http.Client, number string) string {
	t.Helper()
	code, page := f.Get(t, b, "/console/cases/"+number)
	m := regexp.MustCompile(`name="seen" value="(\d+)"`).FindStringSubmatch(page)
	if code != 200 || m == nil {
		t.Fatalf("case page %s: HTTP %d without a form", number, code)
	}
	return m[1]
}

func (f *consoleFixture) act(t *testing.T, b *http.Client, number, verb string, form url.Values) (int, string) {
	t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("seen", f.seen(t, b, number))
	form.Set("token", verb+time.Now().String())
	code, loc, body := f.Post(t, b, "/console/cases/"+number+"/"+verb, form)
	if code == http.StatusSeeOther {
		return code, loc
	}
	return code, body
}

// TestConsolePages: every page answers its users with what they read, the
// security headers on it, and refuses the roles it is not for.
func TestConsolePages(t *testing.T) {
	f := newConsoleFixture(t)
	for _, tc := range []struct {
		who   *http.Client
		path  string
		wants []string
	}{
		{f.admin, "/console/cases", []string{"案件登记簿", f.number, "待受理"}},
		{f.admin, "/console/cases?queue=unassigned", []string{"队列：待分派"}},
		{f.admin, "/console/cases?queue=staff", []string{"队列：人工"}},
		{f.admin, "/console/cases?queue=district", []string{"队列：区级队列"}},
		{f.admin, "/console/cases?queue=overdue", []string{"队列：超期"}},
		{f.admin, "/console/cases?queue=rating", []string{"队列：待评价"}},
		{f.admin, "/console/cases?status=registered&station=pingtanjie&category=heating&sla=green&source=wechat&from=2020-01-01&to=2099-12-31&sort=due&q=暖气", []string{f.number}},
		{f.admin, "/console/cases/" + f.number, []string{"暖气一直不热", "办理记录", "工作人员操作", "指派给"}},
		{f.admin, "/console/new", []string{"登记来访、来电", `name="photos"`}},
		{f.admin, "/console/templates", []string{"答复模板"}},
		{f.admin, "/console/directory", []string{"郑示范", "水滩社区", "供热站", "供暖"}},
		{f.admin, "/console/directory?edit=category:heating", []string{"修改类别", `name="accept_hours"`}},
		{f.admin, "/console/outbox", []string{"通知发送"}},
		{f.admin, "/console/outbox?status=pending", []string{"待发送"}},
		{f.admin, "/console/audit", []string{"操作日志", "登录"}},
		{f.admin, "/console/users", []string{"pt-clerk", "联络站工作人员", "新增用户"}},
		{f.clerk, "/console/cases", []string{f.number}},
		{f.clerk, "/console/directory", []string{"生成绑定码"}},
		{f.deputy, "/console/cases", []string{f.number}},
		{f.deputy, "/console/cases/" + f.number, []string{"受理", "答复", "转办", "进展", "办结", "退回"}},
	} {
		resp, err := tc.who.Get(f.Server.URL + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		buf.ReadFrom(resp.Body)
		resp.Body.Close()
		body := buf.String()
		if resp.StatusCode != 200 {
			t.Errorf("GET %s: HTTP %d", tc.path, resp.StatusCode)
			continue
		}
		for _, w := range tc.wants {
			if !strings.Contains(body, w) {
				t.Errorf("GET %s lacks %q", tc.path, w)
			}
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("GET %s: CSP %q", tc.path, csp)
		}
		if strings.Contains(body, "<script>") || strings.Contains(body, " style=") || strings.Contains(body, "onclick") {
			t.Errorf("GET %s has inline script or style, which the CSP forbids", tc.path)
		}
	}
	// What each role may not open.
	for _, tc := range []struct {
		who  *http.Client
		path string
		want int
	}{
		{f.deputy, "/console/new", 403}, {f.deputy, "/console/templates", 403}, {f.deputy, "/console/directory", 403},
		{f.deputy, "/console/outbox", 403}, {f.deputy, "/console/audit", 403},
		{f.clerk, "/console/outbox", 403}, {f.clerk, "/console/audit", 403}, {f.clerk, "/console/users", 403},
		{f.clerk, "/console/cases?status=nonsense", 400}, {f.clerk, "/console/cases?from=yesterday", 400},
		{f.clerk, "/console/cases/KQ20990101-0001", 404}, {f.clerk, "/console/nowhere", 404},
	} {
		if code, _ := f.Get(t, tc.who, tc.path); code != tc.want {
			t.Errorf("GET %s: HTTP %d, want %d", tc.path, code, tc.want)
		}
	}
	// A deputy's menu holds the queues that can hold their cases (超期,
	// 待评价), not the staff's (人工, 待分派, 区级队列: always 0 for them,
	// clutter on a phone); staff see them all.
	_, deputyPage := f.Get(t, f.deputy, "/console/cases")
	_, clerkPage := f.Get(t, f.clerk, "/console/cases")
	for _, q := range lianxin.Queues {
		link := `href="/console/cases?queue=` + q + `"`
		mine := q == lianxin.QueueOverdue || q == lianxin.QueueRating
		if strings.Contains(deputyPage, link) != mine {
			t.Errorf("a deputy's menu: queue %s shown %v, want %v", q, !mine, mine)
		}
		if !strings.Contains(clerkPage, link) {
			t.Errorf("a clerk's menu lacks queue %s", q)
		}
	}
	// Staff-only actions are refused to a deputy, even on their own case.
	if code, _ := f.act(t, f.deputy, f.number, "reroute", url.Values{"category": {"roads"}}); code != 403 {
		t.Errorf("a deputy re-routing: HTTP %d, want 403", code)
	}
	// Static files are served with a content hash and cached for good.
	_, page := f.Get(t, f.admin, "/console/cases")
	css := regexp.MustCompile(`href="(/console/static/[0-9a-f]+/console.css)"`).FindStringSubmatch(page)
	if css == nil {
		t.Fatal("no stylesheet link")
	}
	resp, _ := f.admin.Get(f.Server.URL + css[1])
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Cache-Control"), "immutable") {
		t.Errorf("stylesheet: HTTP %d, %q", resp.StatusCode, resp.Header.Get("Cache-Control"))
	}
}

// TestConsoleSessionSecurity: cross-origin posts are refused, sign-in
// guesses are limited per user (in the database), a session ends after
// its idle timeout and at sign-out, and the cookie is HttpOnly and Lax.
func TestConsoleSessionSecurity(t *testing.T) {
	clock := testenv.NewClock(time.Now())
	f := newConsoleFixture(t, clock)

	req, _ := http.NewRequest(http.MethodPost, f.Server.URL+"/console/cases/"+f.number+"/note", strings.NewReader("text=x"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := f.clerk.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site POST: HTTP %d, want 403", resp.StatusCode)
	}

	b := f.Browser(t)
	for i := range 5 {
		code, _, _ := f.Post(t, b, "/console/login", url.Values{"username": {"pt-clerk"}, "password": {"wrong password " + string(rune('a'+i))}})
		if code != http.StatusUnauthorized {
			t.Fatalf("wrong password %d: HTTP %d", i, code)
		}
	}
	code, _, body := f.Post(t, b, "/console/login", url.Values{"username": {"pt-clerk"}, "password": {testPassword}})
	if code != http.StatusTooManyRequests || !strings.Contains(body, "15分钟后再试") {
		t.Errorf("sixth try within 15 minutes: HTTP %d", code)
	}
	// Per address too: guesses spread over many names are counted together.
	other := f.Browser(t)
	for i := range 20 {
		f.Post(t, other, "/console/login", url.Values{"username": {"guess" + strconv.Itoa(i)}, "password": {"wrong password"}})
	}
	if code, _, _ := f.Post(t, other, "/console/login", url.Values{"username": {"admin"}, "password": {testPassword}}); code != http.StatusTooManyRequests {
		t.Errorf("after 20 failures from one address: HTTP %d, want 429", code)
	}
	clock.Add(16 * time.Minute)
	resp, err = b.PostForm(f.Server.URL+"/console/login", url.Values{"username": {"pt-clerk"}, "password": {testPassword}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("after the window: HTTP %d", resp.StatusCode)
	}
	cookie := resp.Header.Get("Set-Cookie")
	if !strings.Contains(cookie, "HttpOnly") || !strings.Contains(cookie, "SameSite=Lax") || !strings.Contains(cookie, "Path=/console/") {
		t.Errorf("session cookie %q", cookie)
	}

	// Idle past the timeout (2 h): signed out.
	if code, _ := f.Get(t, b, "/console/cases"); code != 200 {
		t.Fatalf("signed in: HTTP %d", code)
	}
	clock.Add(2*time.Hour + time.Minute)
	if code, _ := f.Get(t, b, "/console/cases"); code != http.StatusSeeOther {
		t.Errorf("after the idle timeout: HTTP %d, want the login", code)
	}
	// Sign-out ends the session for good.
	c2 := f.Login(t, "pt-clerk", testPassword)
	if code, _, _ := f.Post(t, c2, "/console/logout", nil); code != http.StatusSeeOther {
		t.Fatalf("logout: HTTP %d", code)
	}
	if code, _ := f.Get(t, c2, "/console/cases"); code != http.StatusSeeOther {
		t.Errorf("after logout: HTTP %d", code)
	}
}

// TestConsoleStaffActions: the staff verbs each change the case in one go
// with its timeline entry and audit entry, and tell whom they must.
func TestConsoleStaffActions(t *testing.T) {
	f := newConsoleFixture(t)
	ctx := context.Background()
	c := f.Client(wxsim.Safe)

	// An internal note: on the timeline, never in the resident's 进度.
	if code, _ := f.act(t, f.clerk, f.number, "note", url.Values{"text": {"已电话联系，群众说晚上在家"}}); code != 303 {
		t.Fatalf("note: HTTP %d", code)
	}
	if got := say(t, c, "oPagesResident", "进度 "+f.number); strings.Contains(got, "晚上在家") {
		t.Errorf("the resident reads the internal note: %q", got)
	}
	// Bulk assign to a named deputy.
	code, loc, _ := f.Post(t, f.clerk, "/console/cases/assign", url.Values{"case": {f.number}, "deputy": {"d-st-03"}, "back": {"/console/cases"}})
	if code != 303 || !strings.Contains(loc, "done=assigned") {
		t.Fatalf("bulk assign: HTTP %d %s", code, loc)
	}
	got, _ := f.DB.Case(ctx, f.number)
	if got.AssigneeID != "d-st-03" {
		t.Fatalf("after assigning: %s", got.AssigneeID)
	}
	// Re-route to another category: routed again (a specialist of roads).
	if code, _ := f.act(t, f.clerk, f.number, "reroute", url.Values{"category": {"roads"}}); code != 303 {
		t.Fatalf("reroute: HTTP %d", code)
	}
	got, _ = f.DB.Case(ctx, f.number)
	if got.CategoryKey != "roads" || got.AssigneeID != "d-st-04" {
		t.Errorf("after re-routing: %s %s, want roads d-st-04", got.CategoryKey, got.AssigneeID)
	}
	// Private.
	if code, _ := f.act(t, f.clerk, f.number, "private", url.Values{"on": {"1"}}); code != 303 {
		t.Fatalf("private: HTTP %d", code)
	}
	if got, _ = f.DB.Case(ctx, f.number); !got.Private {
		t.Error("not private")
	}
	// Merge a second report of the same resident's neighbour into it.
	other := f.ReportCase(t, "oPagesNeighbour")
	code, loc = f.act(t, f.clerk, other, "merge", url.Values{"duplicate": {f.number}})
	if code != 303 {
		t.Fatalf("merge: HTTP %d %s", code, loc)
	}
	dup, _ := f.DB.Case(ctx, other)
	if dup.Status != lianxin.StatusCancelled || dup.MergedInto != f.number {
		t.Errorf("merged case: %s into %q", dup.Status, dup.MergedInto)
	}
	msgs, _ := f.DB.Outbox(ctx, 100)
	told := map[string]bool{}
	for _, m := range msgs {
		if strings.Contains(m.Payload, "合并办理") {
			told[m.Recipient] = true
		}
	}
	if !told["oPagesResident"] || !told["oPagesNeighbour"] {
		t.Errorf("both residents told of the merge: %v", told)
	}
	// Merge into a case that does not exist: said next to the field.
	third := f.ReportCase(t, "oPagesThird")
	if code, body := f.act(t, f.clerk, third, "merge", url.Values{"duplicate": {"KQ20990101-0001"}}); code != 400 || !strings.Contains(body, "没有找到这个编号") {
		t.Errorf("merge into nothing: HTTP %d", code)
	}
	// Block the sender: their next report goes to staff, no deputy told.
	if code, _ := f.act(t, f.clerk, third, "block", url.Values{"on": {"1"}, "text": {"辱骂代表"}}); code != 303 {
		t.Fatalf("block: HTTP %d", code)
	}
	next := f.ReportCase(t, "oPagesThird")
	blocked, _ := f.DB.Case(ctx, next)
	if !blocked.NeedsStaff || blocked.AssigneeID != "" {
		t.Errorf("a blocked sender's report: staff %v, deputy %q", blocked.NeedsStaff, blocked.AssigneeID)
	}
	if _, list := f.Get(t, f.clerk, "/console/cases?queue=staff"); !strings.Contains(list, next) {
		t.Errorf("the blocked sender's report is not in the 人工 queue")
	}
	// A clerk answers it: it has had its person and leaves the queue.
	if code, _ := f.act(t, f.clerk, next, "answer", url.Values{"text": {"您反映的情况已记录，工作人员会电话联系您。"}}); code != 303 {
		t.Fatalf("answer: HTTP %d", code)
	}
	if _, list := f.Get(t, f.clerk, "/console/cases?queue=staff"); strings.Contains(list, next) {
		t.Errorf("an answered 人工 case stays in the queue")
	}
	// Resolve, then reopen (重办): deputy told.
	if code, _ := f.act(t, f.clerk, f.number, "resolve", url.Values{"text": {"路面已修好"}}); code != 303 {
		t.Fatalf("resolve: HTTP %d", code)
	}
	if code, _ := f.act(t, f.clerk, f.number, "reopen", url.Values{"text": {"群众说又塌了"}}); code != 303 {
		t.Fatalf("reopen: HTTP %d", code)
	}
	if got, _ = f.DB.Case(ctx, f.number); got.Status != lianxin.StatusReopened {
		t.Errorf("after reopening: %s", got.Status)
	}
	// 转办 to a department and 退回 by staff, as the deputy would in chat.
	if code, _ := f.act(t, f.clerk, f.number, "forward", url.Values{"department": {"road_maintenance"}, "text": {"请尽快修补"}}); code != 303 {
		t.Fatalf("forward: HTTP %d", code)
	}
	if got, _ = f.DB.Case(ctx, f.number); got.Status != lianxin.StatusForwarded {
		t.Errorf("after forwarding: %s", got.Status)
	}
	if code, body := f.act(t, f.clerk, f.number, "forward", url.Values{"department": {""}}); code != 400 || !strings.Contains(body, "请选择转办部门") {
		t.Errorf("forward without a department: HTTP %d", code)
	}
	was := got.AssigneeID
	if code, _ := f.act(t, f.clerk, f.number, "return", url.Values{"text": {"不是这位代表的片区"}}); code != 303 {
		t.Fatalf("return: HTTP %d", code)
	}
	if got, _ = f.DB.Case(ctx, f.number); got.AssigneeID == was || got.Status != lianxin.StatusRegistered {
		t.Errorf("after returning: %s %s", got.AssigneeID, got.Status)
	}
	// Every one of those is in the audit log.
	log, _ := f.DB.AuditLog(ctx, lianxin.AuditFilter{Subject: f.number, Limit: 100})
	done := map[string]bool{}
	for _, a := range log {
		done[a.Action] = true
	}
	for _, v := range []string{"note", "assign", "reroute", "private", "resolve", "reopen", "forward", "return"} {
		if !done[v] {
			t.Errorf("no audit entry for %s (have %v)", v, done)
		}
	}
}

// TestConsoleHiddenPhoto: a hidden photo is gone for staff and deputies and
// kept for admins, whose looking is audited.
func TestConsoleHiddenPhoto(t *testing.T) {
	cfg := testConfig(t)
	fw := withFakeWeChat(t, &cfg)
	s := startService(t, cfg)
	c := s.Client(wxsim.Safe)
	user := "oHiddenPhoto"
	say(t, c, user, "报事")
	say(t, c, user, "2")
	say(t, c, user, "3号楼2单元暖气一直不热,屋里才十四五度")
	id := fw.AddGeneratedPhoto(37.8561, 113.5727)
	send(t, c, wxsim.Image(user, id, fw.PicURL(id)))
	say(t, c, user, "完成")
	send(t, c, wxsim.Location(user, 37.8560, 113.5726, "水滩社区3号楼"))
	say(t, c, user, "跳过")
	number := regexp.MustCompile(`KQ\d{8}-\d{4}`).FindString(say(t, c, user, "确认"))
	var attID int64
	waitFor(t, 20*time.Second, "photo stored", func() bool {
		got, _ := s.DB.Case(context.Background(), number)
		if len(got.Attachments) == 1 && got.Attachments[0].Status == lianxin.AttachmentStored {
			attID = got.Attachments[0].ID
			return true
		}
		return false
	})
	s.AddUser(t, "admin", lianxin.RoleAdmin, "", "", testPassword)
	s.AddUser(t, "pt-clerk", lianxin.RoleStaff, "pingtanjie", "", testPassword)
	admin, clerk := s.Login(t, "admin", testPassword), s.Login(t, "pt-clerk", testPassword)
	f := &consoleFixture{Running: s}
	photo := "/console/media/" + itoa(attID)
	if code, _ := f.act(t, clerk, number, "hide_photo", url.Values{"attachment": {itoa(attID)}, "text": {"拍到了邻居的脸"}}); code != 303 {
		t.Fatalf("hide: HTTP %d", code)
	}
	if code, _ := s.Get(t, clerk, photo); code != 404 {
		t.Errorf("staff see a hidden photo: HTTP %d", code)
	}
	if _, page := s.Get(t, clerk, "/console/cases/"+number); !strings.Contains(page, "照片已隐藏") {
		t.Error("the case page does not say the photo is hidden")
	}
	if code, _ := s.Get(t, admin, photo); code != 200 {
		t.Errorf("an admin cannot see the original: HTTP %d", code)
	}
	log, _ := s.DB.AuditLog(context.Background(), lianxin.AuditFilter{Action: lianxin.AuditViewHidden})
	if len(log) != 1 || log[0].Actor != "user:admin" {
		t.Errorf("the admin's look is not audited: %+v", log)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestConsoleWalkIn: a walk-in with a photo from the computer is routed like
// a chat case; a form with a mistake comes back with everything typed and
// the photo already kept.
func TestConsoleWalkIn(t *testing.T) {
	f := newConsoleFixture(t)
	post := func(fields map[string]string, photo []byte) (int, string, string) {
		t.Helper()
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		for k, v := range fields {
			mw.WriteField(k, v)
		}
		if photo != nil {
			w, _ := mw.CreateFormFile("photos", "现场.jpg")
			w.Write(photo)
		}
		mw.Close()
		resp, err := f.clerk.Post(f.Server.URL+"/console/new", mw.FormDataContentType(), &buf)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body bytes.Buffer
		body.ReadFrom(resp.Body)
		return resp.StatusCode, resp.Header.Get("Location"), body.String()
	}
	code, _, body := post(map[string]string{"source": "call", "category": "roads", "description": "坑", "name": "张大爷",
		"phone": "12345", "station": "dongyaofang"}, photos.JPEGWithGPS(400, 300, 37.85, 113.57))
	if code != 400 {
		t.Fatalf("a short description and a bad phone: HTTP %d", code)
	}
	for _, want := range []string{"至少5个字", "电话格式不对", `value="张大爷"`, `value="12345"`, "已收到 1 张照片"} {
		if !strings.Contains(body, want) {
			t.Errorf("the returned form lacks %q", want)
		}
	}
	uploaded := regexp.MustCompile(`name="uploaded" value="(\d+)"`).FindStringSubmatch(body)
	if uploaded == nil {
		t.Fatal("the kept photo is not carried in the form")
	}
	code, loc, _ := post(map[string]string{"source": "call", "category": "roads", "description": "东窑房社区门口路面塌了一个坑",
		"name": "张大爷", "phone": "0353-1234567", "station": "dongyaofang", "uploaded": uploaded[1]}, nil)
	if code != 303 {
		t.Fatalf("walk-in: HTTP %d %s", code, loc)
	}
	number := regexp.MustCompile(`KQ\d{8}-\d{4}`).FindString(loc)
	got, err := f.DB.Case(context.Background(), number)
	if err != nil {
		t.Fatal(err)
	}
	if got.Source != lianxin.SourceCall || got.ContactName != "张大爷" || got.StationID != "dongyaofang" || got.AssigneeID == "" ||
		len(got.Attachments) != 1 || got.Attachments[0].Status != lianxin.AttachmentStored || got.AcceptDue == nil {
		t.Errorf("walk-in case: %+v", got)
	}
	if _, list := f.Get(t, f.clerk, "/console/cases?source=call"); !strings.Contains(list, number) || strings.Contains(list, f.number) {
		t.Errorf("the source filter does not pick the call out")
	}
}

// TestConsoleTemplatesAndDirectory: response templates are edited and
// offered on a case of their category; directory edits go through the
// import's validation; deactivating a deputy moves their open cases.
func TestConsoleTemplatesAndDirectory(t *testing.T) {
	f := newConsoleFixture(t)
	ctx := context.Background()
	if code, _, _ := f.Post(t, f.clerk, "/console/templates", url.Values{"category": {"heating"}, "title": {"已派维修"}, "body": {"您好，供热站已派师傅上门。"}}); code != 303 {
		t.Fatalf("template: HTTP %d", code)
	}
	if code, _, body := f.Post(t, f.clerk, "/console/templates", url.Values{"title": {""}, "body": {"x"}}); code != 400 || !strings.Contains(body, "请填写标题") {
		t.Errorf("a template without a title: HTTP %d", code)
	}
	_, page := f.Get(t, f.clerk, "/console/cases/"+f.number)
	m := regexp.MustCompile(`href="\?template=(\d+)#act"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("the heating template is not offered on a heating case")
	}
	if _, page = f.Get(t, f.clerk, "/console/cases/"+f.number+"?template="+m[1]); !strings.Contains(page, "供热站已派师傅上门。</textarea>") {
		t.Error("choosing the template does not fill the answer (without JavaScript)")
	}

	// A category's deadline, edited.
	code, _, _ := f.Post(t, f.admin, "/console/directory/edit/category/heating", url.Values{"name": {"供暖"}, "accept_hours": {"2"}, "resolve_days": {"3"},
		"keywords": {"暖气^3\n供暖^3\n不热"}})
	if code != 303 {
		t.Fatalf("category edit: HTTP %d", code)
	}
	_, cats, _ := f.DB.LoadDirectory(ctx)
	if c, _ := cats.ByKey("heating"); c.AcceptHours != 2 || len(c.Keywords) != 3 {
		t.Errorf("heating after the edit: %+v", c)
	}
	// Two heads in one station: refused by the import's rules, said in Chinese.
	code, _, body := f.Post(t, f.admin, "/console/directory/edit/deputy/d-st-02", url.Values{"name": {"郑示范"}, "level": {"区级"},
		"station": {"shuitan"}, "head": {"1"}})
	if code != 400 || !strings.Contains(body, "与目录规则冲突") {
		t.Errorf("a second head: HTTP %d", code)
	}
	if code, _, _ := f.Post(t, f.clerk, "/console/directory/edit/category/heating", url.Values{"name": {"x"}}); code != 403 {
		t.Errorf("staff editing the directory: HTTP %d", code)
	}
	// Deactivate the deputy with the open case: it moves to a colleague.
	before, _ := f.DB.Case(ctx, f.number)
	code, loc, _ := f.Post(t, f.admin, "/console/directory/deputies/"+before.AssigneeID+"/deactivate", nil)
	if code != 303 || !strings.Contains(loc, "moved=1") {
		t.Fatalf("deactivate: HTTP %d %s", code, loc)
	}
	after, _ := f.DB.Case(ctx, f.number)
	if after.AssigneeID == before.AssigneeID || after.AssigneeID == "" {
		t.Errorf("the open case stayed with %s", after.AssigneeID)
	}
	// A binding code for a deputy of the clerk's station.
	if code, _, body := f.Post(t, f.clerk, "/console/directory/deputies/d-st-03/invite", nil); code != 200 || !regexp.MustCompile(`绑定 \d{6}`).MatchString(body) {
		t.Errorf("invite: HTTP %d", code)
	}
}

// TestConsoleUsers: admins add, disable and re-key accounts in the console
// with the CLI's rules; a refused form keeps what was typed but never the
// password.
func TestConsoleUsers(t *testing.T) {
	f := newConsoleFixture(t)
	code, _, body := f.Post(t, f.admin, "/console/users", url.Values{"username": {"sy-clerk"}, "role": {"staff"}, "station": {"saiyu"}, "password": {"short"}})
	if code != 400 || !strings.Contains(body, "密码至少10个字符") || !strings.Contains(body, `value="sy-clerk"`) || strings.Contains(body, `value="short"`) {
		t.Errorf("a short password: HTTP %d", code)
	}
	if code, _, body := f.Post(t, f.admin, "/console/users", url.Values{"username": {"pt-clerk"}, "role": {"staff"}, "station": {"saiyu"}, "password": {testPassword}}); code != 400 || !strings.Contains(body, "已经有人用了") {
		t.Errorf("a taken name: HTTP %d", code)
	}
	if code, _, _ := f.Post(t, f.admin, "/console/users", url.Values{"username": {"sy-clerk"}, "role": {"staff"}, "station": {"saiyu"}, "password": {testPassword}}); code != 303 {
		t.Fatalf("add: HTTP %d", code)
	}
	sy := f.Login(t, "sy-clerk", testPassword)
	if _, list := f.Get(t, sy, "/console/cases"); strings.Contains(list, f.number) {
		t.Error("the new 赛鱼 clerk sees a 平潭街 case")
	}
	if code, _, _ := f.Post(t, f.admin, "/console/users/sy-clerk/disable", nil); code != 303 {
		t.Fatalf("disable: HTTP %d", code)
	}
	if code, _ := f.Get(t, sy, "/console/cases"); code != 303 {
		t.Errorf("a disabled account stays signed in: HTTP %d", code)
	}
	if code, _, _ := f.Post(t, f.clerk, "/console/users/sy-clerk/enable", nil); code != 403 {
		t.Errorf("staff managing users: HTTP %d", code)
	}
}

// TestConsoleOutboxRetry: a notification given up is shown with its reason
// and goes back in the queue on an admin's retry, audited.
func TestConsoleOutboxRetry(t *testing.T) {
	f := newConsoleFixture(t)
	ctx := context.Background()
	if err := f.DB.Enqueue(ctx, "test:dead", lianxin.OutboxText, "oDeadRecipient0001", lianxin.TextPayload{Text: "一条发不出去的通知"}, nil); err != nil {
		t.Fatal(err)
	}
	msgs, err := f.DB.ClaimOutbox(ctx, "test", time.Now().Add(time.Hour), time.Minute, 100)
	if err != nil {
		t.Fatal(err)
	}
	var id int64
	for _, m := range msgs {
		if m.IdemKey == "test:dead" {
			id = m.ID
			if err := f.DB.MarkOutboxDead(ctx, m.ID, "test", "45015 用户48小时未互动"); err != nil {
				t.Fatal(err)
			}
		} else {
			f.DB.RetryOutbox(ctx, m.ID, "test", time.Now(), "")
		}
	}
	if _, page := f.Get(t, f.admin, "/console/outbox"); !strings.Contains(page, "一条发不出去的通知") || !strings.Contains(page, "45015") {
		t.Fatalf("the dead notification and its reason are not shown")
	}
	if code, _, _ := f.Post(t, f.admin, "/console/outbox/"+strconv.FormatInt(id, 10)+"/retry", nil); code != 303 {
		t.Fatalf("retry: HTTP %d", code)
	}
	m, _ := f.DB.OutboxMessage(ctx, id)
	if m.Status != lianxin.OutboxPending || m.Attempts != 0 {
		t.Errorf("after retry: %s, %d attempts", m.Status, m.Attempts)
	}
	if code, _, _ := f.Post(t, f.admin, "/console/outbox/"+strconv.FormatInt(id, 10)+"/retry", nil); code != 404 {
		t.Errorf("retrying a row that is not dead: HTTP %d", code)
	}
	if log, _ := f.DB.AuditLog(ctx, lianxin.AuditFilter{Action: lianxin.AuditOutboxRetry}); len(log) != 1 {
		t.Errorf("retry audited: %+v", log)
	}
}
