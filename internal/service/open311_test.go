package service_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/lianxin/lianxin"
	"github.com/lianxin/lianxin/internal/wxtest/wxsim"
)

func open311Get(t *testing.T, s *testService, path string) (int, string) {
	t.Helper()
	resp, err := s.Server.Client().Get(s.Server.URL + "/open311/v2/" + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func open311Post(t *testing.T, s *testService, path string, form url.Values) (int, string) {
	t.Helper()
	resp, err := s.Server.Client().PostForm(s.Server.URL+"/open311/v2/"+path, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestOpen311RequestToStatus: a 12345 hotline files through Open311 with
// its API key; the request is a case in the register with the client's
// name as its source, routed by its location to the deputy who handles
// heating there, with deadlines like a chat case. The deputy accepts and
// closes it in chat; the public view then says closed with the answer as
// status_notes, and holds no personal data. Private cases are absent.
// Bad keys and bad requests get GeoReport's error format, in JSON and XML.
func TestOpen311RequestToStatus(t *testing.T) {
	cfg := testConfig(t)
	fw := withFakeWeChat(t, &cfg)
	s := startService(t, cfg)
	ctx := context.Background()
	c := s.Client(wxsim.Safe)
	const deputy = "oOpen311Deputy00000000000001"
	bindDeputy(t, s, c, deputy, "d-st-02")
	key, _, err := s.DB.CreateOpen311Key(ctx, "12345热线", lianxin.AuditEntry{Actor: "test"})
	if err != nil {
		t.Fatal(err)
	}

	// Discovery and services.
	code, body := open311Get(t, s, "discovery.json")
	if code != 200 || !strings.Contains(body, `"specification":"http://wiki.open311.org/GeoReport_v2"`) {
		t.Fatalf("discovery: HTTP %d %s", code, body)
	}
	if code, body := open311Get(t, s, "discovery.xml"); code != 200 || !strings.Contains(body, "<discovery>") {
		t.Fatalf("discovery.xml: HTTP %d %s", code, body)
	}
	code, body = open311Get(t, s, "services.json")
	var services []struct {
		Code string `json:"service_code"`
		Name string `json:"service_name"`
	}
	if err := json.Unmarshal([]byte(body), &services); code != 200 || err != nil || len(services) < 5 {
		t.Fatalf("services: HTTP %d %v %s", code, err, body)
	}
	mustContain(t, body, `"service_code":"heating"`)
	if code, body := open311Get(t, s, "services.xml"); code != 200 || !strings.Contains(body, "<service_code>heating</service_code>") {
		t.Fatalf("services.xml: HTTP %d %s", code, body)
	}
	if code, body := open311Get(t, s, "services/heating.json"); code != 200 || !strings.Contains(body, `"attributes":[]`) {
		t.Fatalf("a service's definition: HTTP %d %s", code, body)
	}
	if code, body := open311Get(t, s, "services/nosuch.json"); code != 404 || !strings.Contains(body, `[{"code":404,"description":`) {
		t.Fatalf("an unknown service: HTTP %d %s", code, body)
	}

	// Bad keys and bad requests.
	good := url.Values{"api_key": {key}, "service_code": {"heating"}, "lat": {"37.8560"}, "long": {"113.5726"},
		"address_string": {"水滩社区3号楼"}, "description": {"3号楼2单元暖气不热，屋里才十四度"}, "phone": {"138-1234-5678"},
		"first_name": {"大妈"}, "last_name": {"李"}, "email": {"li@example.cn"}, "media_url": {"https://example.cn/p/1.jpg"}}
	with := func(k, v string) url.Values {
		f := url.Values{}
		for kk, vv := range good {
			f[kk] = vv
		}
		if v == "" {
			f.Del(k)
		} else {
			f.Set(k, v)
		}
		return f
	}
	for _, bad := range []struct {
		form   url.Values
		status int
		says   string
	}{
		{with("api_key", ""), 403, "api_key is required"},
		{with("api_key", "lx311_wrong"), 403, "api_key is not valid"},
		{with("service_code", ""), 400, "service_code is required"},
		{with("service_code", "nosuch"), 400, "no service_code nosuch"},
		{with("description", ""), 400, "description is required"},
		{with("lat", "95"), 400, "lat and long"},
		{with("media_url", "file:///etc/passwd"), 400, "media_url"},
	} {
		code, body := open311Post(t, s, "requests.json", bad.form)
		var errs []struct {
			Code        int    `json:"code"`
			Description string `json:"description"`
		}
		if err := json.Unmarshal([]byte(body), &errs); code != bad.status || err != nil || len(errs) != 1 || errs[0].Code != bad.status ||
			!strings.Contains(errs[0].Description, bad.says) {
			t.Errorf("POST %v: HTTP %d %s; want %d saying %q", bad.form, code, body, bad.status, bad.says)
		}
	}
	if code, body := open311Post(t, s, "requests.xml", with("api_key", "lx311_wrong")); code != 403 ||
		!strings.Contains(body, "<errors>") || !strings.Contains(body, "<code>403</code>") {
		t.Errorf("an XML error: HTTP %d %s", code, body)
	}

	// The request is filed.
	code, body = open311Post(t, s, "requests.json", good)
	var filed []struct {
		ID string `json:"service_request_id"`
	}
	if err := json.Unmarshal([]byte(body), &filed); code != http.StatusCreated || err != nil || len(filed) != 1 {
		t.Fatalf("POST: HTTP %d %v %s", code, err, body)
	}
	number := filed[0].ID
	got := caseRecord(t, s, number)
	if got.Source != "12345热线" || got.StationID != "shuitan" || got.AssigneeID != "d-st-02" || got.CategoryKey != "heating" ||
		got.ContactName != "李大妈" || got.Phone != "13812345678" || got.ResolveDue == nil {
		t.Fatalf("the case filed: %+v", got)
	}
	mustContain(t, got.Description, "暖气不热", "联系邮箱：li@example.cn", "照片链接：https://example.cn/p/1.jpg")
	// The deputy is told as for a chat case, and handles it in chat.
	waitSent(t, fw, deputy, "新反映", number)
	mustContain(t, say(t, c, deputy, "受理 "+number), "已受理")
	code, body = open311Get(t, s, "requests/"+number+".json")
	if code != 200 || !strings.Contains(body, `"status":"open"`) {
		t.Fatalf("while open: HTTP %d %s", code, body)
	}
	mustContain(t, say(t, c, deputy, "办结 "+number+" 已更换暖气阀门，室温恢复到20度"), "已办结")

	code, body = open311Get(t, s, "requests/"+number+".json")
	var views []map[string]any
	if err := json.Unmarshal([]byte(body), &views); code != 200 || err != nil || len(views) != 1 {
		t.Fatalf("GET request: HTTP %d %v %s", code, err, body)
	}
	v := views[0]
	if v["status"] != "closed" || !strings.Contains(v["status_notes"].(string), "已更换暖气阀门") || v["service_code"] != "heating" ||
		v["agency_responsible"] != "水滩社区人大代表联络点" || v["requested_datetime"] == "" {
		t.Errorf("the public view: %s", body)
	}
	for _, private := range []string{"李", "1381234", "li@example", "暖气不热", "3号楼"} {
		if strings.Contains(body, private) {
			t.Errorf("the public view shows %q: %s", private, body)
		}
	}
	if code, body := open311Get(t, s, "requests/"+number+".xml"); code != 200 || !strings.Contains(body, "<status>closed</status>") {
		t.Errorf("GET request XML: HTTP %d %s", code, body)
	}
	if code, body := open311Get(t, s, "requests.json?status=closed"); code != 200 || !strings.Contains(body, number) {
		t.Errorf("GET requests: HTTP %d %s", code, body)
	}
	if code, body := open311Get(t, s, "requests/KQ20000101-0001.json"); code != 404 || !strings.Contains(body, `"code":404`) {
		t.Errorf("an unknown request: HTTP %d %s", code, body)
	}
	if code, body := open311Get(t, s, "requests.json?start_date=yesterday"); code != 400 || !strings.Contains(body, "start_date") {
		t.Errorf("a bad date: HTTP %d %s", code, body)
	}

	// A private case is absent from the public view.
	admin := lianxin.User{Username: "admin", Role: lianxin.RoleAdmin}
	if _, err := s.Engine.Act(ctx, lianxin.CaseAction{Verb: lianxin.ActPrivate, Number: number, On: true, Actor: admin,
		Scope: lianxin.Scope{All: true}, IdemKey: "private-1"}); err != nil {
		t.Fatalf("marking private: %v", err)
	}
	if code, _ := open311Get(t, s, "requests/"+number+".json"); code != 404 {
		t.Errorf("a private case: HTTP %d, want 404", code)
	}
	if _, body := open311Get(t, s, "requests.json"); strings.Contains(body, number) {
		t.Errorf("a private case is listed: %s", body)
	}
}

// TestOpen311KeysInTheConsole: an admin makes a client's key in the
// console (shown once), the key files a request, revoking stops it; staff
// may not see the page.
func TestOpen311KeysInTheConsole(t *testing.T) {
	cfg := testConfig(t)
	s := startService(t, cfg)
	s.AddUser(t, "admin", lianxin.RoleAdmin, "", "", testPassword)
	s.AddUser(t, "pt-clerk", lianxin.RoleStaff, "pingtanjie", "", testPassword)
	admin := s.Login(t, "admin", testPassword)
	if code, _ := s.Get(t, s.Login(t, "pt-clerk", testPassword), "/console/open311"); code != http.StatusForbidden {
		t.Errorf("staff on the keys page: HTTP %d", code)
	}
	if code, _, page := s.Post(t, admin, "/console/open311", url.Values{"name": {" "}}); code != http.StatusBadRequest || !strings.Contains(page, "请填写接入系统的名称") {
		t.Errorf("no name: HTTP %d", code)
	}
	code, _, page := s.Post(t, admin, "/console/open311", url.Values{"name": {"网上信访"}})
	m := regexp.MustCompile(`<b class="code">(lx311_[^<]+)</b>`).FindStringSubmatch(page)
	if code != 200 || m == nil {
		t.Fatalf("making a key: HTTP %d\n%s", code, page)
	}
	form := url.Values{"api_key": {m[1]}, "service_code": {"roads"}, "address_string": {"平潭街"}, "description": {"路面塌陷一个大坑"}}
	if code, body := open311Post(t, s, "requests.json", form); code != http.StatusCreated {
		t.Fatalf("filing with the console's key: HTTP %d %s", code, body)
	}
	_, page = s.Get(t, admin, "/console/open311")
	mustContain(t, page, "网上信访", "使用中")
	id := regexp.MustCompile(`action="/console/open311/(\d+)/revoke"`).FindStringSubmatch(page)
	if code, _, _ := s.Post(t, admin, "/console/open311/"+id[1]+"/revoke", nil); code != http.StatusSeeOther {
		t.Fatalf("revoking: HTTP %d", code)
	}
	if code, _ := open311Post(t, s, "requests.json", form); code != http.StatusForbidden {
		t.Errorf("a revoked key: HTTP %d", code)
	}
	if _, page := s.Get(t, admin, "/console/audit"); !strings.Contains(page, "生成开放接口密钥") || !strings.Contains(page, "停用开放接口密钥") {
		t.Error("the audit log lacks the key's making or revoking")
	}
}
