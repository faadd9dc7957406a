package fakewx_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lianxin/lianxin/internal/wxtest/photos"

	"github.com/lianxin/lianxin/internal/wxtest/fakewx"
)

const (
	testAppID  = "wx5c2f1f6e3b9a0d11"
	testSecret = "3f0c9a1e5b7d2c4e6a8b0d1f3e5c7a9b"
)

// clock is an injectable Options.Now so expiry tests need no sleeping.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2024, 12, 3, 8, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func start(t *testing.T, opts fakewx.Options) *fakewx.Server {
	t.Helper()
	if opts.AppID == "" {
		opts.AppID, opts.AppSecret = testAppID, testSecret
	}
	s := fakewx.New(opts)
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// wxResp holds every field the tests read from WeChat's JSON answers.
type wxResp struct {
	ErrCode     int    `json:"errcode"`
	ErrMsg      string `json:"errmsg"`
	AccessToken string `json:"access_token"`
	ExpiresIn   int64  `json:"expires_in"`
	MsgID       int64  `json:"msgid"`
}

func do(t *testing.T, method, u string, body any) (*http.Response, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, raw
}

func decode(t *testing.T, raw []byte) wxResp {
	t.Helper()
	var r wxResp
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatalf("not JSON: %q: %v", raw, err)
	}
	return r
}

func getToken(t *testing.T, s *fakewx.Server) wxResp {
	t.Helper()
	q := url.Values{"grant_type": {"client_credential"}, "appid": {testAppID}, "secret": {testSecret}}
	_, raw := do(t, http.MethodGet, s.URL()+fakewx.PathToken+"?"+q.Encode(), nil)
	r := decode(t, raw)
	if r.ErrCode != 0 || r.AccessToken == "" {
		t.Fatalf("token: %s", raw)
	}
	return r
}

func textMsg(openid, content string) map[string]any {
	return map[string]any{"touser": openid, "msgtype": "text", "text": map[string]string{"content": content}}
}

// sendText posts a customer-service text and returns WeChat's answer.
func sendText(t *testing.T, s *fakewx.Server, token, openid, content string) wxResp {
	t.Helper()
	_, raw := do(t, http.MethodPost, s.URL()+fakewx.PathCustomSend+"?access_token="+url.QueryEscape(token), textMsg(openid, content))
	return decode(t, raw)
}

func wantErrCode(t *testing.T, got wxResp, code int) {
	t.Helper()
	if got.ErrCode != code {
		t.Fatalf("errcode = %d (%q), want %d", got.ErrCode, got.ErrMsg, code)
	}
}

func TestTokenIssuanceSupersedesWithoutGrace(t *testing.T) {
	t.Parallel()
	s := start(t, fakewx.Options{})

	a := getToken(t, s)
	if a.ExpiresIn != 7200 {
		t.Errorf("expires_in = %d, want 7200", a.ExpiresIn)
	}
	wantErrCode(t, sendText(t, s, a.AccessToken, "oResident1", "暖气不热"), 0)

	// A second process asks for a token: with no grace the first one dies at
	// once, and WeChat says "not latest" (40001), not "expired".
	b := getToken(t, s)
	if a.AccessToken == b.AccessToken {
		t.Fatal("second /cgi-bin/token returned the same token")
	}
	r := sendText(t, s, a.AccessToken, "oResident1", "暖气不热")
	wantErrCode(t, r, 40001)
	if !strings.Contains(r.ErrMsg, "not latest") {
		t.Errorf("errmsg = %q", r.ErrMsg)
	}
	wantErrCode(t, sendText(t, s, b.AccessToken, "oResident1", "暖气不热"), 0)
	if n := s.TokenIssued(); n != 2 {
		t.Errorf("TokenIssued = %d, want 2", n)
	}
	if n := len(s.Sent()); n != 2 {
		t.Errorf("delivered %d messages, want 2", n)
	}
}

func TestTokenGraceAndExpiry(t *testing.T) {
	t.Parallel()
	clk := newClock()
	s := start(t, fakewx.Options{TokenGrace: fakewx.RealTokenGrace, TokenTTL: time.Hour, Now: clk.Now})

	a := getToken(t, s)
	if a.ExpiresIn != 3600 {
		t.Errorf("expires_in = %d, want 3600", a.ExpiresIn)
	}
	b := getToken(t, s)
	clk.Add(4 * time.Minute)
	wantErrCode(t, sendText(t, s, a.AccessToken, "o1", "x"), 0) // within grace
	clk.Add(time.Minute)
	wantErrCode(t, sendText(t, s, a.AccessToken, "o1", "x"), 40001)
	clk.Add(55 * time.Minute)
	wantErrCode(t, sendText(t, s, b.AccessToken, "o1", "x"), 42001)
}

func TestTokenErrors(t *testing.T) {
	t.Parallel()
	s := start(t, fakewx.Options{})
	tok := func(q url.Values) wxResp {
		_, raw := do(t, http.MethodGet, s.URL()+fakewx.PathToken+"?"+q.Encode(), nil)
		return decode(t, raw)
	}
	wantErrCode(t, tok(url.Values{"grant_type": {"client_credential"}, "appid": {"wxWRONG"}, "secret": {testSecret}}), 40013)
	wantErrCode(t, tok(url.Values{"grant_type": {"client_credential"}, "appid": {testAppID}, "secret": {"wrong"}}), 40125)
	wantErrCode(t, tok(url.Values{"grant_type": {"password"}, "appid": {testAppID}, "secret": {testSecret}}), 40002)
	wantErrCode(t, tok(url.Values{"grant_type": {"client_credential"}, "secret": {testSecret}}), 41002)
	if n := s.TokenIssued(); n != 0 {
		t.Errorf("TokenIssued = %d after only failures", n)
	}

	_, raw := do(t, http.MethodPost, s.URL()+fakewx.PathCustomSend, textMsg("o1", "x"))
	wantErrCode(t, decode(t, raw), 41001)
	wantErrCode(t, sendText(t, s, "never-issued", "o1", "x"), 40001)
	_, raw = do(t, http.MethodGet, s.URL()+fakewx.PathCustomSend+"?access_token="+s.IssueToken(), nil)
	wantErrCode(t, decode(t, raw), 43002)
}

func TestStableToken(t *testing.T) {
	t.Parallel()
	clk := newClock()
	s := start(t, fakewx.Options{Now: clk.Now})
	stable := func(force bool) wxResp {
		_, raw := do(t, http.MethodPost, s.URL()+fakewx.PathStableToken, map[string]any{
			"grant_type": "client_credential", "appid": testAppID, "secret": testSecret, "force_refresh": force,
		})
		return decode(t, raw)
	}

	a := stable(false)
	wantErrCode(t, a, 0)
	clk.Add(10 * time.Minute)
	again := stable(false)
	if again.AccessToken != a.AccessToken {
		t.Fatal("normal mode issued a new token while the old one was valid")
	}
	if again.ExpiresIn != 7200-600 {
		t.Errorf("expires_in = %d, want the remaining 6600", again.ExpiresIn)
	}

	// /cgi-bin/token and stable_token are isolated from each other.
	getToken(t, s)
	wantErrCode(t, sendText(t, s, a.AccessToken, "o1", "x"), 0)

	b := stable(true)
	if b.AccessToken == a.AccessToken {
		t.Fatal("force_refresh returned the old token")
	}
	wantErrCode(t, sendText(t, s, a.AccessToken, "o1", "x"), 40001)
	wantErrCode(t, sendText(t, s, b.AccessToken, "o1", "x"), 0)

	s.ExpireTokens()
	wantErrCode(t, sendText(t, s, b.AccessToken, "o1", "x"), 42001)
	c := stable(false)
	if c.AccessToken == b.AccessToken || c.ExpiresIn != 7200 {
		t.Fatalf("after expiry normal mode gave %+v", c)
	}
	if n := s.TokenIssued(); n != 4 {
		t.Errorf("TokenIssued = %d, want 4 (stable, plain, forced, after expiry)", n)
	}

	_, raw := do(t, http.MethodGet, s.URL()+fakewx.PathStableToken, nil)
	wantErrCode(t, decode(t, raw), 43002)
	resp, raw := do(t, http.MethodPost, s.URL()+fakewx.PathStableToken, "not an object")
	wantErrCode(t, decode(t, raw), 47001)
	if resp.StatusCode != http.StatusOK {
		t.Errorf("WeChat errors come with HTTP 200, got %d", resp.StatusCode)
	}
}

func TestMediaGet(t *testing.T) {
	t.Parallel()
	s := start(t, fakewx.Options{})
	tok := s.IssueToken()
	photo := photos.JPEGWithGPS(64, 48, 37.8569, 113.5839)
	id := fakewx.NewMediaID()
	if len(id) != 64 {
		t.Fatalf("media id %q has %d chars, want 64", id, len(id))
	}
	s.AddMedia(id, "image/jpeg", photo)

	resp, body := do(t, http.MethodGet, s.URL()+fakewx.PathMediaGet+"?access_token="+tok+"&media_id="+id, nil)
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, photo) {
		t.Fatalf("status %d, %d bytes, want the %d photo bytes", resp.StatusCode, len(body), len(photo))
	}
	if ct := resp.Header.Get("Content-Type"); ct != "image/jpeg" {
		t.Errorf("Content-Type = %q", ct)
	}
	if cd := resp.Header.Get("Content-Disposition"); cd != `attachment; filename="`+id+`.jpg"` {
		t.Errorf("Content-Disposition = %q", cd)
	}

	resp, body = do(t, http.MethodGet, s.URL()+fakewx.PathMediaGet+"?access_token="+tok+"&media_id=nope", nil)
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Errorf("error Content-Type = %q, want JSON", resp.Header.Get("Content-Type"))
	}
	r := decode(t, body)
	if r.ErrCode != 40007 || r.ErrMsg != "invalid media_id" {
		t.Errorf("unknown media: %s", body)
	}
	_, body = do(t, http.MethodGet, s.URL()+fakewx.PathMediaGet+"?access_token="+tok, nil)
	wantErrCode(t, decode(t, body), 41006)
	_, body = do(t, http.MethodGet, s.URL()+fakewx.PathMediaGet+"?media_id="+id, nil)
	wantErrCode(t, decode(t, body), 41001)

	voice := s.AddVoice()
	resp, body = do(t, http.MethodGet, s.URL()+fakewx.PathMediaGet+"?access_token="+tok+"&media_id="+voice, nil)
	if resp.Header.Get("Content-Type") != "audio/amr" || !bytes.HasPrefix(body, []byte("#!AMR\n")) {
		t.Errorf("voice: %q, %q...", resp.Header.Get("Content-Type"), body[:min(len(body), 8)])
	}
}

func TestMediaExpiresAfterThreeDays(t *testing.T) {
	t.Parallel()
	clk := newClock()
	s := start(t, fakewx.Options{Now: clk.Now, TokenTTL: 100 * time.Hour})
	tok := s.IssueToken()
	id := s.AddGeneratedPhoto(37.85, 113.58)
	clk.Add(73 * time.Hour)
	_, body := do(t, http.MethodGet, s.URL()+fakewx.PathMediaGet+"?access_token="+tok+"&media_id="+id, nil)
	wantErrCode(t, decode(t, body), 40007)
}

func TestUploadAndPicURL(t *testing.T) {
	t.Parallel()
	s := start(t, fakewx.Options{})
	photo := photos.JPEGWithGPS(32, 32, 37.86, 113.58)

	type uploaded struct {
		Type    string `json:"type"`
		MediaID string `json:"media_id"`
		PicURL  string `json:"pic_url"`
	}
	resp, err := http.Post(s.URL()+fakewx.PathUploadMedia, "image/jpeg", bytes.NewReader(photo))
	if err != nil {
		t.Fatal(err)
	}
	var up uploaded
	json.NewDecoder(resp.Body).Decode(&up)
	resp.Body.Close()
	if up.Type != "image" || len(up.MediaID) != 64 || up.PicURL != s.PicURL(up.MediaID) {
		t.Fatalf("upload answered %+v", up)
	}
	resp, body := do(t, http.MethodGet, up.PicURL, nil)
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, photo) || resp.Header.Get("Content-Type") != "image/jpeg" {
		t.Fatalf("pic: %d %q %d bytes", resp.StatusCode, resp.Header.Get("Content-Type"), len(body))
	}
	if resp, _ := do(t, http.MethodGet, s.PicURL("missing"), nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("missing pic: %d", resp.StatusCode)
	}

	// Multipart, with the field name WeChat's own upload uses.
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	h := make(map[string][]string)
	h["Content-Disposition"] = []string{`form-data; name="media"; filename="v.amr"`}
	h["Content-Type"] = []string{"audio/amr"}
	part, _ := mw.CreatePart(h)
	part.Write(fakewx.VoiceAMR())
	mw.Close()
	resp, err = http.Post(s.URL()+fakewx.PathUploadMedia+"?media_id=voice-1", mw.FormDataContentType(), &form)
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(resp.Body).Decode(&up)
	resp.Body.Close()
	if up.Type != "voice" || up.MediaID != "voice-1" {
		t.Fatalf("multipart upload answered %+v", up)
	}
	if ct, data, ok := s.Media("voice-1"); !ok || ct != "audio/amr" || !bytes.Equal(data, fakewx.VoiceAMR()) {
		t.Errorf("registered %q %d bytes ok=%v", ct, len(data), ok)
	}
	// Control endpoints are not WeChat calls; the pictures are.
	if n := len(s.CallsTo(fakewx.PathUploadMedia)); n != 0 {
		t.Errorf("uploads recorded as calls: %d", n)
	}
	if n := len(s.Calls()); n != 2 {
		t.Errorf("recorded %d calls, want the 2 picture fetches", n)
	}
}

func template(openid, clientMsgID string) map[string]any {
	return map[string]any{
		"touser":      openid,
		"template_id": "tpl-case-progress",
		"url":         "https://example.org/case/42",
		"data": map[string]any{
			"remark":    map[string]string{"value": "感谢您的反映"},
			"keyword10": map[string]string{"value": "十"},
			"keyword2":  map[string]string{"value": "已转办供热站"},
			"first":     map[string]string{"value": "您反映的问题有新进展"},
			"keyword1":  map[string]string{"value": "暖气不热"},
		},
		"client_msg_id": clientMsgID,
	}
}

func TestTemplateDedupeByClientMsgID(t *testing.T) {
	t.Parallel()
	s := start(t, fakewx.Options{})
	u := s.URL() + fakewx.PathTemplateSend + "?access_token=" + s.IssueToken()

	_, raw := do(t, http.MethodPost, u, template("oResident1", "case42-progress-1"))
	first := decode(t, raw)
	wantErrCode(t, first, 0)
	if first.MsgID == 0 {
		t.Fatalf("no msgid: %s", raw)
	}
	_, raw = do(t, http.MethodPost, u, template("oResident1", "case42-progress-1"))
	if again := decode(t, raw); again.MsgID != first.MsgID {
		t.Errorf("repeat got msgid %d, want %d", again.MsgID, first.MsgID)
	}
	_, raw = do(t, http.MethodPost, u, template("oResident1", "case42-progress-2"))
	if other := decode(t, raw); other.MsgID == first.MsgID {
		t.Error("a new client_msg_id reused the msgid")
	}

	sent := s.Sent()
	if len(sent) != 2 {
		t.Fatalf("delivered %d, want 2: %+v", len(sent), sent)
	}
	m := sent[0]
	if m.Kind != fakewx.KindTemplate || m.To != "oResident1" || m.TemplateID != "tpl-case-progress" ||
		m.ClientMsgID != "case42-progress-1" || m.MsgID != first.MsgID || m.URL != "https://example.org/case/42" {
		t.Errorf("sent = %+v", m)
	}
	want := "first: 您反映的问题有新进展\nkeyword1: 暖气不热\nkeyword2: 已转办供热站\nkeyword10: 十\nremark: 感谢您的反映"
	if m.Text != want {
		t.Errorf("text =\n%s\nwant\n%s", m.Text, want)
	}

	_, raw = do(t, http.MethodPost, u, template("", "x"))
	wantErrCode(t, decode(t, raw), 40003)
}

func TestCustomSendShapes(t *testing.T) {
	t.Parallel()
	s := start(t, fakewx.Options{})
	u := s.URL() + fakewx.PathCustomSend + "?access_token=" + s.IssueToken()
	news := map[string]any{"touser": "o1", "msgtype": "news", "news": map[string]any{"articles": []map[string]string{
		{"title": "您的事项已办结", "description": "点击查看", "url": "https://example.org/c/1", "picurl": ""},
	}}}
	_, raw := do(t, http.MethodPost, u, news)
	wantErrCode(t, decode(t, raw), 0)
	sent := s.Sent()
	if len(sent) != 1 || sent[0].MsgType != "news" || sent[0].Text != "您的事项已办结\n点击查看\nhttps://example.org/c/1" {
		t.Fatalf("sent = %+v", sent)
	}
	_, raw = do(t, http.MethodPost, u, map[string]any{"touser": "o1", "msgtype": "hologram"})
	wantErrCode(t, decode(t, raw), 40008)
	_, raw = do(t, http.MethodPost, u, textMsg("o1", ""))
	wantErrCode(t, decode(t, raw), 44004)
}

func TestRobotWebhook(t *testing.T) {
	t.Parallel()
	s := start(t, fakewx.Options{RobotKeys: []string{"station-pingtan"}, RobotPerMinute: 2})
	send := func(key string, body any) wxResp {
		_, raw := do(t, http.MethodPost, s.URL()+fakewx.PathWebhookSend+"?key="+key, body)
		return decode(t, raw)
	}
	wantErrCode(t, send("station-pingtan", map[string]any{"msgtype": "text", "text": map[string]any{"content": "新事项：水滩社区路面破损"}}), 0)
	wantErrCode(t, send("station-pingtan", map[string]any{"msgtype": "markdown", "markdown": map[string]any{"content": "**超时** 1 件"}}), 0)
	wantErrCode(t, send("station-pingtan", map[string]any{"msgtype": "text", "text": map[string]any{"content": "third"}}), 45009)
	wantErrCode(t, send("other", map[string]any{"msgtype": "text", "text": map[string]any{"content": "x"}}), 93000)
	wantErrCode(t, send("station-pingtan", map[string]any{"msgtype": "markdown", "markdown": map[string]any{"content": strings.Repeat("长", 1400)}}), 40058)

	sent := s.Sent()
	if len(sent) != 2 || sent[0].Kind != fakewx.KindRobot || sent[0].To != "station-pingtan" ||
		sent[0].Text != "新事项：水滩社区路面破损" || sent[1].MsgType != "markdown" {
		t.Errorf("sent = %+v", sent)
	}
}

func TestLatencyHonoursClientTimeout(t *testing.T) {
	t.Parallel()
	s := start(t, fakewx.Options{})
	tok := s.IssueToken()
	s.SetLatency(fakewx.PathCustomSend, time.Hour)

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	b, _ := json.Marshal(textMsg("o1", "x"))
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.URL()+fakewx.PathCustomSend+"?access_token="+tok, bytes.NewReader(b))
	began := time.Now()
	if _, err := http.DefaultClient.Do(req); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want deadline exceeded", err)
	}
	if d := time.Since(began); d > 5*time.Second {
		t.Errorf("client waited %v", d)
	}
	// The server notices the client left, gives up, and delivers nothing.
	wait, cancelWait := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancelWait()
	err := s.WaitCalls(wait, func(cs []fakewx.Call) bool { return len(cs) == 1 && cs[0].Status == 499 })
	if err != nil {
		t.Fatalf("abandoned call not recorded as 499: %v, %+v", err, s.Calls())
	}
	if len(s.Sent()) != 0 {
		t.Error("an abandoned call delivered its message")
	}

	// Latency elsewhere is unaffected; removing it restores the path.
	_, raw := do(t, http.MethodGet, s.URL()+fakewx.PathMediaGet+"?access_token="+tok+"&media_id=x", nil)
	wantErrCode(t, decode(t, raw), 40007)
	s.SetLatency(fakewx.PathCustomSend, 0)
	wantErrCode(t, sendText(t, s, tok, "o1", "x"), 0)
}

func TestCloseEndsInjectedLatency(t *testing.T) {
	t.Parallel()
	s := fakewx.New(fakewx.Options{})
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	s.SetLatency("", time.Hour)
	errc := make(chan error, 1)
	go func() {
		resp, err := http.Get(s.URL() + fakewx.PathToken)
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	// Close must not wait out the hour whether or not the request has
	// reached the handler yet.
	began := time.Now()
	s.Close()
	if d := time.Since(began); d > 5*time.Second {
		t.Errorf("Close took %v", d)
	}
	if err := <-errc; err == nil {
		t.Error("request under latency succeeded after Close")
	}
}

func TestFailNextAndDown(t *testing.T) {
	t.Parallel()
	s := start(t, fakewx.Options{})
	tok := s.IssueToken()
	u := s.URL() + fakewx.PathCustomSend + "?access_token=" + tok

	s.FailNext(fakewx.PathCustomSend, 2, http.StatusInternalServerError)
	for range 2 {
		if resp, _ := do(t, http.MethodPost, u, textMsg("o1", "x")); resp.StatusCode != 500 {
			t.Fatalf("status %d, want 500", resp.StatusCode)
		}
	}
	wantErrCode(t, sendText(t, s, tok, "o1", "x"), 0)
	if n := len(s.Sent()); n != 1 {
		t.Errorf("failed calls delivered: %d sent", n)
	}

	s.SetDown("", true)
	for _, p := range []string{fakewx.PathToken, fakewx.PathCustomSend, fakewx.PathPic + "x"} {
		if resp, _ := do(t, http.MethodGet, s.URL()+p, nil); resp.StatusCode != 503 {
			t.Errorf("%s while down: %d", p, resp.StatusCode)
		}
	}
	s.SetDown("", false)
	wantErrCode(t, sendText(t, s, tok, "o1", "x"), 0)

	statuses := []int{}
	for _, c := range s.CallsTo(fakewx.PathCustomSend) {
		statuses = append(statuses, c.Status)
	}
	if fmt.Sprint(statuses) != "[500 500 200 503 200]" {
		t.Errorf("recorded statuses %v", statuses)
	}
}

func TestFailRateIsReproducible(t *testing.T) {
	t.Parallel()
	pattern := func() string {
		s := start(t, fakewx.Options{Seed: 42})
		s.SetFailRate(fakewx.PathToken, 0.5)
		var b strings.Builder
		for range 40 {
			resp, _ := do(t, http.MethodGet, s.URL()+fakewx.PathToken, nil)
			b.WriteString(map[bool]string{true: "x", false: "."}[resp.StatusCode == 500])
		}
		return b.String()
	}
	p1, p2 := pattern(), pattern()
	if p1 != p2 {
		t.Fatalf("same seed, different failures:\n%s\n%s", p1, p2)
	}
	if !strings.Contains(p1, "x") || !strings.Contains(p1, ".") {
		t.Errorf("p=0.5 gave %s", p1)
	}
}

func TestExpireTokens(t *testing.T) {
	t.Parallel()
	s := start(t, fakewx.Options{})
	a := getToken(t, s)
	wantErrCode(t, sendText(t, s, a.AccessToken, "o1", "x"), 0)
	s.ExpireTokens()
	r := sendText(t, s, a.AccessToken, "o1", "x")
	wantErrCode(t, r, 42001)
	if r.ErrMsg != "access_token expired" {
		t.Errorf("errmsg %q", r.ErrMsg)
	}
	wantErrCode(t, sendText(t, s, getToken(t, s).AccessToken, "o1", "x"), 0)
}

func Test45015AndWeChatLevelFaults(t *testing.T) {
	t.Parallel()
	s := start(t, fakewx.Options{})
	tok := s.IssueToken()

	s.Set45015("oGone", true)
	r := sendText(t, s, tok, "oGone", "您的事项已办结")
	wantErrCode(t, r, 45015)
	if r.ErrMsg != "response out of time limit or subscription is canceled" {
		t.Errorf("errmsg %q", r.ErrMsg)
	}
	wantErrCode(t, sendText(t, s, tok, "oHere", "x"), 0)
	s.Set45015("", true)
	wantErrCode(t, sendText(t, s, tok, "oHere", "x"), 45015)
	s.Set45015("", false)
	s.Set45015("oGone", false)
	wantErrCode(t, sendText(t, s, tok, "oGone", "x"), 0)

	s.SetRateLimited(fakewx.PathCustomSend, 1)
	wantErrCode(t, sendText(t, s, tok, "o1", "x"), 45009)
	s.FailNextErrCode("", 1, -1, "")
	r = sendText(t, s, tok, "o1", "x")
	wantErrCode(t, r, -1)
	if r.ErrMsg != "system error" {
		t.Errorf("errmsg %q", r.ErrMsg)
	}
	wantErrCode(t, sendText(t, s, tok, "o1", "x"), 0)
	if n := len(s.Sent()); n != 3 {
		t.Errorf("sent %d, want 3", n)
	}
	if cs := s.CallsTo(fakewx.PathCustomSend); cs[0].ErrCode != 45015 || cs[len(cs)-1].ErrCode != 0 {
		t.Errorf("recorded errcodes: first %d last %d", cs[0].ErrCode, cs[len(cs)-1].ErrCode)
	}
}

func TestFailAfterNextDeliversButLosesTheAnswer(t *testing.T) {
	t.Parallel()
	s := start(t, fakewx.Options{})
	u := s.URL() + fakewx.PathTemplateSend + "?access_token=" + s.IssueToken()
	s.FailAfterNext(fakewx.PathTemplateSend, 1, http.StatusBadGateway)
	if resp, _ := do(t, http.MethodPost, u, template("oDeputy", "notify-7")); resp.StatusCode != 502 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	// The retry an outbox makes: same client_msg_id, no second delivery.
	_, raw := do(t, http.MethodPost, u, template("oDeputy", "notify-7"))
	r := decode(t, raw)
	sent := s.Sent()
	if len(sent) != 1 || r.MsgID != sent[0].MsgID {
		t.Errorf("sent %d, retry msgid %d", len(sent), r.MsgID)
	}
}

func TestWaitSentWakesWithoutPolling(t *testing.T) {
	t.Parallel()
	s := start(t, fakewx.Options{})
	tok := s.IssueToken()
	go func() {
		for i := range 3 {
			resp, err := http.Post(s.URL()+fakewx.PathCustomSend+"?access_token="+tok, "application/json",
				strings.NewReader(fmt.Sprintf(`{"touser":"o%d","msgtype":"text","text":{"content":"c%d"}}`, i, i)))
			if err == nil {
				resp.Body.Close()
			}
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.WaitSent(ctx, func(m []fakewx.Sent) bool { return len(m) == 3 }); err != nil {
		t.Fatal(err)
	}

	short, cancelShort := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancelShort()
	if err := s.WaitSent(short, func(m []fakewx.Sent) bool { return len(m) == 4 }); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v", err)
	}

	s.Reset()
	if len(s.Sent()) != 0 || len(s.Calls()) != 0 || s.TokenIssued() != 0 {
		t.Error("Reset kept records")
	}
	wantErrCode(t, sendText(t, s, tok, "o1", "x"), 0) // tokens survive Reset
	if cs := s.Calls(); len(cs) != 1 || cs[0].Seq != 4 {
		t.Errorf("after Reset: %+v (Seq must keep counting)", cs)
	}
}

func TestCallsLongPollAndEvents(t *testing.T) {
	t.Parallel()
	s := start(t, fakewx.Options{})
	tok := s.IssueToken()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL()+fakewx.PathEvents, nil)
	stream, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Body.Close()
	if ct := stream.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}

	wantErrCode(t, sendText(t, s, tok, "oResident", "楼道灯坏了"), 0)

	sc := bufio.NewScanner(stream.Body)
	var data string
	for sc.Scan() {
		if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			data = d
			break
		}
	}
	var ev struct {
		Seq    int    `json:"seq"`
		Path   string `json:"path"`
		Body   string `json:"body"`
		Status int    `json:"status"`
	}
	if err := json.Unmarshal([]byte(data), &ev); err != nil {
		t.Fatalf("event %q: %v", data, err)
	}
	if ev.Seq != 1 || ev.Path != fakewx.PathCustomSend || !strings.Contains(ev.Body, "楼道灯坏了") || ev.Status != 200 {
		t.Errorf("event = %+v", ev)
	}

	// Long-poll: nothing after seq 1 yet, so this waits for the next call.
	got := make(chan []json.RawMessage, 1)
	go func() {
		resp, err := http.Get(s.URL() + fakewx.PathCalls + "?since=1&wait=5s")
		var out []json.RawMessage
		if err == nil {
			json.NewDecoder(resp.Body).Decode(&out)
			resp.Body.Close()
		}
		got <- out
	}()
	wantErrCode(t, sendText(t, s, tok, "oResident", "second"), 0)
	if out := <-got; len(out) != 1 || !strings.Contains(string(out[0]), `"seq":2`) {
		t.Errorf("long-poll got %s", out)
	}

	resp, raw := do(t, http.MethodGet, s.URL()+fakewx.PathSent, nil)
	if resp.StatusCode != 200 || !strings.Contains(string(raw), `"text":"楼道灯坏了"`) || !strings.Contains(string(raw), `"raw":{`) {
		t.Errorf("sent view: %s", raw)
	}

	// Closing the server ends the stream.
	s.Close()
	for sc.Scan() {
	}
}

func TestUnknownPathIs404AndRecorded(t *testing.T) {
	t.Parallel()
	s := start(t, fakewx.Options{})
	resp, _ := do(t, http.MethodGet, s.URL()+"/cgi-bin/menu/create", nil)
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("status %d", resp.StatusCode)
	}
	if cs := s.CallsTo("/cgi-bin/menu/create"); len(cs) != 1 {
		t.Errorf("calls %+v", cs)
	}
}
