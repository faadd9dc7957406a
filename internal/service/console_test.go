package service_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lianxin/lianxin"
	"github.com/lianxin/lianxin/internal/wxtest/wxsim"
)

const testPassword = "correct horse battery"

// TestConsoleSignedOutRedirects: logged out, every console page (and every
// action) sends the browser to the sign-in page.
func TestConsoleSignedOutRedirects(t *testing.T) {
	s := startService(t, testConfig(t))
	b := s.Browser(t)
	for _, path := range []string{"/console/", "/console/cases", "/console/cases?status=registered", "/console/cases/KQ20261127-0001",
		"/console/media/1", "/console/media/1/thumb", "/console/new", "/console/outbox", "/console/audit", "/console/templates",
		"/console/directory", "/console/no-such-page"} {
		code, _ := s.Get(t, b, path)
		resp, _ := b.Get(s.Server.URL + path)
		resp.Body.Close()
		if code != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/console/login?next=") {
			t.Errorf("GET %s signed out: HTTP %d to %q, want 303 to the login", path, code, resp.Header.Get("Location"))
		}
	}
	for _, path := range []string{"/console/cases/KQ20261127-0001/answer", "/console/cases/assign", "/console/new", "/console/logout",
		"/console/cases/KQ20261127-0001/phone", "/console/outbox/1/retry"} {
		code, loc, _ := s.Post(t, b, path, url.Values{"text": {"x"}})
		if code != http.StatusSeeOther || !strings.HasPrefix(loc, "/console/login") {
			t.Errorf("POST %s signed out: HTTP %d to %q, want 303 to the login", path, code, loc)
		}
	}
	code, body := s.Get(t, b, "/console/login")
	if code != 200 || !strings.Contains(body, `name="username"`) || !strings.Contains(body, `name="password"`) {
		t.Fatalf("login page: %d %s", code, body)
	}
}

// TestConsoleCaseFromChat is the must-show: a case filed in chat
// with two photos appears in the list; its page shows both photos (served
// as images to the signed-in session only) and the timeline; an answer
// typed in the console reaches the resident through the outbox; a staff
// user of another station gets 404 for the page, the photos and actions.
func TestConsoleCaseFromChat(t *testing.T) {
	cfg := testConfig(t)
	fw := withFakeWeChat(t, &cfg)
	s := startService(t, cfg)
	c := s.Client(wxsim.Safe)
	user := "oConsoleResident"
	say(t, c, user, "报事")
	say(t, c, user, "2")
	say(t, c, user, "3号楼2单元暖气一直不热,屋里才十四五度")
	for range 2 {
		id := fw.AddGeneratedPhoto(37.8561, 113.5727)
		send(t, c, wxsim.Image(user, id, fw.PicURL(id)))
	}
	say(t, c, user, "完成")
	send(t, c, wxsim.Location(user, 37.8560, 113.5726, "水滩社区3号楼"))
	say(t, c, user, "13812345678")
	reply := say(t, c, user, "确认")
	number := regexp.MustCompile(`KQ\d{8}-\d{4}`).FindString(reply)
	if number == "" {
		t.Fatalf("no case number in %q", reply)
	}
	ctx := context.Background()
	waitFor(t, 20*time.Second, "both photos stored", func() bool {
		got, err := s.DB.Case(ctx, number)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, a := range got.Attachments {
			if a.Status == lianxin.AttachmentStored {
				n++
			}
		}
		return n == 2
	})

	s.AddUser(t, "pt-clerk", lianxin.RoleStaff, "pingtanjie", "", testPassword)
	s.AddUser(t, "sy-clerk", lianxin.RoleStaff, "saiyu", "", testPassword)
	clerk := s.Login(t, "pt-clerk", testPassword)

	code, list := s.Get(t, clerk, "/console/cases")
	if code != 200 || !strings.Contains(list, number) || !strings.Contains(list, "照片2") {
		t.Fatalf("case list (HTTP %d) lacks %s with two photos:\n%s", code, number, list)
	}
	code, page := s.Get(t, clerk, "/console/cases/"+number)
	if code != 200 {
		t.Fatalf("case page: HTTP %d\n%s", code, page)
	}
	imgs := regexp.MustCompile(`<img src="(/console/media/\d+/thumb)"`).FindAllStringSubmatch(page, -1)
	if len(imgs) != 2 {
		t.Fatalf("case page shows %d photos, want 2:\n%s", len(imgs), page)
	}
	for _, want := range []string{"暖气一直不热", "办理记录", "群众可见", "内部", "138****5678"} {
		if !strings.Contains(page, want) {
			t.Errorf("case page lacks %q", want)
		}
	}
	if strings.Contains(page, "13812345678") {
		t.Errorf("case page shows the full phone number before «显示»")
	}
	var photoPaths []string
	for _, m := range imgs {
		photoPaths = append(photoPaths, m[1], strings.TrimSuffix(m[1], "/thumb"))
	}
	for _, p := range photoPaths {
		resp, err := clerk.Get(s.Server.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/jpeg" {
			t.Errorf("GET %s signed in: HTTP %d %s, want a JPEG", p, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	}

	// Another station's clerk: not found, for the page, the photos and an action.
	other := s.Login(t, "sy-clerk", testPassword)
	if code, _ := s.Get(t, other, "/console/cases/"+number); code != http.StatusNotFound {
		t.Errorf("another station's clerk got HTTP %d for the case page, want 404", code)
	}
	for _, p := range photoPaths {
		if code, _ := s.Get(t, other, p); code != http.StatusNotFound {
			t.Errorf("another station's clerk got HTTP %d for %s, want 404", code, p)
		}
	}
	if _, list := s.Get(t, other, "/console/cases"); strings.Contains(list, number) {
		t.Errorf("another station's clerk sees %s in the list", number)
	}
	seen := regexp.MustCompile(`name="seen" value="(\d+)"`).FindStringSubmatch(page)[1]
	if code, _, _ := s.Post(t, other, "/console/cases/"+number+"/answer", url.Values{"seen": {seen}, "text": {"不该发出"}}); code != http.StatusNotFound {
		t.Errorf("another station's clerk got HTTP %d answering the case, want 404", code)
	}

	// The phone's «显示» shows the number and is audited.
	code, _, shown := s.Post(t, clerk, "/console/cases/"+number+"/phone", nil)
	if code != 200 || !strings.Contains(shown, "13812345678") {
		t.Errorf("«显示»: HTTP %d, number shown: %v", code, strings.Contains(shown, "13812345678"))
	}
	log, err := s.DB.AuditLog(ctx, lianxin.AuditFilter{Subject: number})
	if err != nil || len(log) == 0 || log[0].Action != lianxin.AuditViewPhone || log[0].Actor != "user:pt-clerk" {
		t.Errorf("audit log for %s: %+v %v", number, log, err)
	}

	// An answer typed in the console reaches the resident.
	code, loc, body := s.Post(t, clerk, "/console/cases/"+number+"/answer", url.Values{"seen": {seen}, "token": {"t1"}, "text": {"师傅明天上午到3号楼排查管道。"}})
	if code != http.StatusSeeOther {
		t.Fatalf("answer: HTTP %d %s\n%s", code, loc, body)
	}
	waitSent(t, fw, user, "师傅明天上午到3号楼排查管道", number)
	_, page = s.Get(t, clerk, "/console/cases/"+number)
	if !strings.Contains(page, "师傅明天上午到3号楼排查管道") || !strings.Contains(page, "pt-clerk") {
		t.Errorf("the answer is not on the timeline with who gave it")
	}

	// The same form again (the page was stale): refused, the text kept.
	code, _, body = s.Post(t, clerk, "/console/cases/"+number+"/progress", url.Values{"seen": {seen}, "token": {"t2"}, "text": {"第二次的话"}})
	if code != http.StatusConflict || !strings.Contains(body, "已有变化") || !strings.Contains(body, "第二次的话") {
		t.Errorf("stale form: HTTP %d, says so: %v, keeps text: %v", code, strings.Contains(body, "已有变化"), strings.Contains(body, "第二次的话"))
	}
	// Bad input: a clear message next to the field.
	_, page = s.Get(t, clerk, "/console/cases/"+number)
	seen = regexp.MustCompile(`name="seen" value="(\d+)"`).FindStringSubmatch(page)[1]
	code, _, body = s.Post(t, clerk, "/console/cases/"+number+"/progress", url.Values{"seen": {seen}, "text": {"  "}})
	if code != http.StatusBadRequest || !strings.Contains(body, "请填写内容") {
		t.Errorf("empty progress: HTTP %d, message shown: %v", code, strings.Contains(body, "请填写内容"))
	}
}
