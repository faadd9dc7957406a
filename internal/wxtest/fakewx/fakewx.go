// Package fakewx owns the project's stand-in for WeChat's servers: a real
// HTTP server on loopback that answers the official-account API
// (api.weixin.qq.com: access_token, stable_token, media/get and media/upload,
// customer-service and template sends, sns/oauth2/access_token), web
// authorisation's page (open.weixin.qq.com/connect/oauth2/authorize: see
// oauth.go) and the WeCom group-robot webhook (qyapi.weixin.qq.com)
// with WeChat's own paths, JSON shapes and error codes. Tests and `lianxin sim`
// point the silenceper SDK at it through util.SetURIModifier (see
// [Server.URIModifier]), because the real servers cannot be reached from here.
//
// Besides answering, it records every call and every delivered message so tests
// can assert on them (and wait for them without sleeping), holds a registry of
// media a simulated resident "uploaded", and injects faults (latency, HTTP
// errors, expired tokens, WeChat error codes) at runtime.
//
// WeChat reports API errors as HTTP 200 with {"errcode":N,"errmsg":"..."};
// the fake does the same, and only the injected transport faults (FailNext,
// SetFailRate, SetDown, FailAfterNext) answer with a non-200 status. The SDK
// turns any non-200 into an error without reading the body, so the two kinds of
// failure look different to production code, as they do in real life.
//
// The WeChat error codes it answers:
//
//	40001  token never issued, or superseded longer ago than TokenGrace
//	       ("invalid credential, access_token is invalid or not latest")
//	41001  no access_token parameter
//	42001  token past expires_in, or ExpireTokens ("access_token expired")
//	40002 / 41002 / 41004 / 40013 / 40125  bad grant_type / no appid /
//	       no secret / wrong appid / wrong secret on the token endpoints
//	43001 / 43002  wrong HTTP method ("require GET/POST method")
//	47001  body is not the JSON expected ("data format error")
//	40007 / 41006  unknown or expired media_id / no media_id (media/get, and
//	               image and voice customer-service messages)
//	40004 / 41005  media/upload: type not image, voice, video or thumb / no file
//	40003 / 40037 / 40008  no touser / no template_id / unknown msgtype
//	44003 / 44004 / 45008  empty news / empty content / news with >1 article
//	45015  Set45015: outside the 48-hour window or unsubscribed
//	45009  SetRateLimited, or a robot over Options.RobotPerMinute
//	93000 / 40058  robot: bad webhook key / content over WeCom's limit
//	40029 / 40163 / 41008  web authorisation: invalid or expired code / code
//	       already used / no code (sns/oauth2/access_token)
//
// Error messages are WeChat's text without the " rid: ..." suffix real
// answers carry; code must branch on errcode, never on errmsg.
package fakewx

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Paths of the endpoints the fake serves, for CallsTo and the fault setters.
const (
	PathToken        = "/cgi-bin/token"
	PathStableToken  = "/cgi-bin/stable_token"
	PathMediaGet     = "/cgi-bin/media/get"
	PathMediaUpload  = "/cgi-bin/media/upload"
	PathCustomSend   = "/cgi-bin/message/custom/send"
	PathTemplateSend = "/cgi-bin/message/template/send"
	PathWebhookSend  = "/cgi-bin/webhook/send" // WeCom group robot (qyapi host)

	// PathPic is the prefix of the PicUrl fallback; a fault set on it applies
	// to every picture.
	PathPic = "/fakewx/pic/"

	// Control endpoints for the simulator. They are not WeChat's, are never
	// recorded and never subject to faults.
	PathUploadMedia = "/fakewx/media"
	PathCalls       = "/fakewx/calls"
	PathSent        = "/fakewx/sent"
	PathEvents      = "/fakewx/events"
)

// RealTokenGrace is how long real WeChat keeps a superseded access_token valid
// after /cgi-bin/token issues a new one. The simulator uses it; tests usually
// keep Options.TokenGrace at zero so two processes fighting over the token show
// up as failures instead of passing by luck.
const RealTokenGrace = 5 * time.Minute

// Options configure a Server. The zero value works: it accepts any appid and
// secret, supersedes tokens without grace, and issues 7200 s tokens.
type Options struct {
	// AppID and AppSecret are the credentials the token endpoints accept. An
	// empty field accepts any non-empty value.
	AppID, AppSecret string

	// TokenGrace is how long an access_token superseded by a newer
	// /cgi-bin/token call stays valid (real WeChat: 5 min). It is also the
	// window before expiry in which stable_token pre-issues the next token.
	TokenGrace time.Duration

	// TokenTTL is the lifetime reported in expires_in and enforced (default
	// 7200 s). The SDK caches tokens for expires_in-1500 s (stable: -300 s), so
	// a TTL under 25 min makes it fetch a fresh token for every call.
	TokenTTL time.Duration

	// MediaFallback, when set, answers media/get and PicUrl for ids the fake
	// does not hold: a benchmark's thousands of photos drawn from a few
	// pictures, without registering each.
	MediaFallback func(id string) (contentType string, data []byte, ok bool)

	// MediaTTL is how long uploaded media can be fetched (WeChat's temporary
	// media: 3 days, the default).
	MediaTTL time.Duration

	// RobotKeys are the group-robot webhook keys the fake accepts; empty
	// accepts any non-empty key.
	RobotKeys []string

	// RobotPerMinute, when positive, limits each robot key to that many
	// messages in any minute (WeCom: WeComRobotPerMinute) and answers the rest
	// with 45009. Zero leaves robots unlimited so tests can burst.
	RobotPerMinute int

	// Seed seeds the RNG behind SetFailRate, so a run that makes the same
	// sequence of requests sees the same failures.
	Seed uint64

	// Now is the clock for token and media expiry and template dedupe
	// (default time.Now).
	Now func() time.Time
}

// Server is the fake WeChat API. All methods are safe for concurrent use.
type Server struct {
	opts    Options
	handler http.Handler

	// mu guards everything below. One lock is enough: the fake is not a
	// performance target, and one lock makes every record and state change
	// atomic with respect to the assertions that read them.
	mu sync.Mutex

	tokens        map[string]*token
	currentToken  *token
	currentStable *token
	tokenIssued   int

	media map[string]*mediaItem

	templateSent map[string]templateDedupe // touser + client_msg_id
	oauthCodes   map[string]*oauthCode     // web authorisation codes
	nextMsgID    int64

	calls   []Call
	sent    []Sent
	seq     int           // last Call.Seq; never reset so pollers never go back
	sentSeq int           // last Sent.Seq
	changed chan struct{} // closed and replaced on every new record

	faults faults

	// Lifecycle. done is closed by Close so long-polls, event streams and
	// injected latency end at once instead of holding shutdown hostage.
	done      chan struct{}
	closeOnce sync.Once
	srv       *http.Server
	ln        net.Listener
	serveDone chan struct{}
	url       string
}

// New returns a Server that is not yet listening; call Start, or mount Handler.
func New(opts Options) *Server {
	if opts.TokenTTL <= 0 {
		opts.TokenTTL = 7200 * time.Second
	}
	if opts.MediaTTL <= 0 {
		opts.MediaTTL = 72 * time.Hour
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Server{
		opts:         opts,
		tokens:       map[string]*token{},
		media:        map[string]*mediaItem{},
		templateSent: map[string]templateDedupe{},
		// Real msgids are large 64-bit numbers; starting high catches code
		// that squeezes them into 32 bits.
		nextMsgID: 2_900_000_000_000_000_000,
		changed:   make(chan struct{}),
		done:      make(chan struct{}),
		faults:    newFaults(rand.New(rand.NewPCG(opts.Seed, 0x6c69616e78696e))),
	}
	s.handler = http.HandlerFunc(s.serveHTTP)
	return s
}

// Start listens on a free loopback port and serves in a goroutine that Close
// stops.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		return errors.New("fakewx: already started")
	}
	select {
	case <-s.done:
		return errors.New("fakewx: closed")
	default:
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("fakewx: listen: %w", err)
	}
	s.ln = ln
	s.url = "http://" + ln.Addr().String()
	s.srv = &http.Server{Handler: s.handler, ReadHeaderTimeout: 10 * time.Second}
	s.serveDone = make(chan struct{})
	go func(srv *http.Server, done chan struct{}) {
		defer close(done)
		// Serve returns ErrServerClosed after Close; nothing else can be
		// reported from here, and the listener is ours alone.
		_ = srv.Serve(ln)
	}(s.srv, s.serveDone)
	return nil
}

// URL is the base URL, e.g. http://127.0.0.1:43127, once started.
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.url
}

// URIModifier returns a function for util.SetURIModifier that sends the SDK's
// requests for api.weixin.qq.com and qyapi.weixin.qq.com to the fake. Both
// hosts share one fake: their paths do not collide.
func (s *Server) URIModifier() func(string) string {
	base := s.URL()
	return func(uri string) string {
		for _, host := range []string{"https://api.weixin.qq.com", "https://qyapi.weixin.qq.com"} {
			if strings.HasPrefix(uri, host) {
				return base + strings.TrimPrefix(uri, host)
			}
		}
		return uri
	}
}

// Handler serves the fake without a listener of its own, for embedding in
// another server. Close still ends its long-polls and injected latency.
func (s *Server) Handler() http.Handler { return s.handler }

// Close stops serving, closes open connections (event streams included) and
// waits for the serving goroutine to return. It is safe to call more than once.
func (s *Server) Close() error {
	var err error
	s.closeOnce.Do(func() {
		close(s.done)
		s.mu.Lock()
		srv, serveDone := s.srv, s.serveDone
		s.mu.Unlock()
		if srv == nil {
			return
		}
		err = srv.Close()
		<-serveDone
	})
	return err
}

// reply is what an endpoint answers; serveHTTP writes and records it. Keeping
// endpoints free of the ResponseWriter lets faults rewrite the status after an
// endpoint has taken effect (FailAfterNext) and lets every call be recorded in
// one place.
type reply struct {
	status      int
	contentType string
	header      http.Header
	body        []byte
	errCode     int
	recordBody  bool // JSON worth keeping in Call.Response; media bytes are not
}

// wxJSONType is the Content-Type WeChat's API servers put on JSON answers.
const wxJSONType = "application/json; encoding=utf-8"

func jsonReply(v any) reply {
	b, err := json.Marshal(v)
	if err != nil {
		// Only our own fixed types are marshalled here.
		panic(fmt.Sprintf("fakewx: marshal reply: %v", err))
	}
	r := reply{status: http.StatusOK, contentType: wxJSONType, body: b, recordBody: true}
	var probe struct {
		ErrCode int `json:"errcode"`
	}
	if json.Unmarshal(b, &probe) == nil {
		r.errCode = probe.ErrCode
	}
	return r
}

// wxError is WeChat's error answer: HTTP 200 with errcode and errmsg.
func wxError(code int, msg string) reply {
	return jsonReply(struct {
		ErrCode int    `json:"errcode"`
		ErrMsg  string `json:"errmsg"`
	}{code, msg})
}

func wxOK() reply { return wxError(0, "ok") }

func httpFailure(status int) reply {
	return reply{
		status:      status,
		contentType: "text/html; charset=utf-8",
		body:        fmt.Appendf(nil, "<html><head><title>%d %s</title></head><body>fakewx: injected failure</body></html>\n", status, http.StatusText(status)),
	}
}

// statusClientGone marks a call whose client gave up during injected latency
// (nginx's "client closed request"); nothing is written back.
const statusClientGone = 499

// maxBody bounds request bodies; WeChat's own limits are far lower.
const maxBody = 32 << 20

type endpoint struct {
	method string // WeChat answers a wrong method with 43001/43002
	auth   authKind
	serve  func(s *Server, r *http.Request, body []byte) reply
}

type authKind int

const (
	authNone  authKind = iota
	authToken          // ?access_token= issued by the fake
	authRobot          // ?key= of a WeCom group robot
)

var endpoints = map[string]endpoint{
	PathToken:        {http.MethodGet, authNone, (*Server).serveToken},
	PathStableToken:  {http.MethodPost, authNone, (*Server).serveStableToken},
	PathMediaGet:     {http.MethodGet, authToken, (*Server).serveMediaGet},
	PathMediaUpload:  {http.MethodPost, authToken, (*Server).serveMediaUpload},
	PathCustomSend:   {http.MethodPost, authToken, (*Server).serveCustomSend},
	PathTemplateSend: {http.MethodPost, authToken, (*Server).serveTemplateSend},
	PathWebhookSend:  {http.MethodPost, authRobot, (*Server).serveWebhookSend},

	PathOAuthAuthorize: {http.MethodGet, authNone, (*Server).serveOAuthAuthorize},
	PathOAuthToken:     {http.MethodGet, authNone, (*Server).serveOAuthToken},
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	switch path {
	case PathUploadMedia:
		s.serveUploadMedia(w, r)
		return
	case PathCalls:
		s.serveCalls(w, r)
		return
	case PathSent:
		s.serveSent(w, r)
		return
	case PathEvents:
		s.serveEvents(w, r)
		return
	case PathBrowseAs:
		s.serveBrowseAs(w, r)
		return
	}

	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		// The client went away mid-body; there is nobody to answer.
		s.record(r, body, reply{status: statusClientGone})
		panic(http.ErrAbortHandler)
	}
	at := s.opts.Now()

	if d := s.latencyFor(path); d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			s.recordAt(at, r, body, reply{status: statusClientGone})
			// Abort rather than return: returning would let net/http send an
			// empty 200, which a client still listening would take for success.
			panic(http.ErrAbortHandler)
		case <-s.done:
			t.Stop()
			s.recordAt(at, r, body, reply{status: statusClientGone})
			panic(http.ErrAbortHandler)
		}
	}

	rep := s.route(r, path, body)
	if status, ok := s.takeFailAfter(path); ok && rep.status == http.StatusOK {
		// The endpoint took effect (a message may have been delivered) but the
		// answer is lost: what client_msg_id and outbox retries exist for.
		rep = httpFailure(status)
	}

	for k, vs := range rep.header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	if rep.contentType != "" {
		w.Header().Set("Content-Type", rep.contentType)
	}
	w.WriteHeader(rep.status)
	w.Write(rep.body)
	s.recordAt(at, r, body, rep)
}

// route applies the transport faults, then the endpoint's method and
// credential checks, then the WeChat-level faults, then the endpoint.
func (s *Server) route(r *http.Request, path string, body []byte) reply {
	if status, ok := s.httpFault(path); ok {
		return httpFailure(status)
	}
	if strings.HasPrefix(path, PathPic) && r.Method == http.MethodGet {
		return s.servePic(strings.TrimPrefix(path, PathPic))
	}
	ep, ok := endpoints[path]
	if !ok {
		return reply{
			status:      http.StatusNotFound,
			contentType: "text/plain; charset=utf-8",
			body:        []byte("fakewx: no such API: " + path + "\n"),
		}
	}
	if r.Method != ep.method {
		if ep.method == http.MethodPost {
			return wxError(43002, "require POST method")
		}
		return wxError(43001, "require GET method")
	}
	switch ep.auth {
	case authToken:
		if rep, ok := s.checkToken(r.URL.Query()); !ok {
			return rep
		}
	case authRobot:
		if rep, ok := s.checkRobotKey(r.URL.Query().Get("key")); !ok {
			return rep
		}
	}
	if rep, ok := s.wxFault(path); ok {
		return rep
	}
	return ep.serve(s, r, body)
}

// waitChanged blocks until check reports true, ctx ends or the server closes.
// check runs without the lock held, on snapshots, so it may call back into
// the Server.
func (s *Server) waitChanged(ctx context.Context, check func() bool) error {
	for {
		s.mu.Lock()
		ch := s.changed
		s.mu.Unlock()
		if check() {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		case <-s.done:
			if check() {
				return nil
			}
			return errors.New("fakewx: server closed")
		}
	}
}
