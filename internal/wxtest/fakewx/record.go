package fakewx

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"
	"unicode/utf8"
)

// Call is one request to a WeChat endpoint (or the PicUrl fallback), recorded
// once it has been answered.
type Call struct {
	Seq      int // 1-based, increasing for the server's lifetime (Reset does not restart it)
	At       time.Time
	Method   string
	Path     string
	Query    url.Values
	Body     []byte // the request body
	Status   int    // HTTP status answered; 499 when the client gave up during injected latency
	ErrCode  int    // WeChat errcode of a JSON answer, 0 otherwise
	Response []byte // the JSON answer; nil for media bytes and transport failures
}

// MarshalJSON renders bodies as text when they are text, so the simulator's
// live view reads them directly; binary bodies are reported by size only.
func (c Call) MarshalJSON() ([]byte, error) {
	type view struct {
		Seq       int        `json:"seq"`
		At        time.Time  `json:"at"`
		Method    string     `json:"method"`
		Path      string     `json:"path"`
		Query     url.Values `json:"query,omitempty"`
		Body      string     `json:"body,omitempty"`
		BodyBytes int        `json:"body_bytes"`
		Status    int        `json:"status"`
		ErrCode   int        `json:"errcode"`
		Response  string     `json:"response,omitempty"`
	}
	v := view{
		Seq: c.Seq, At: c.At, Method: c.Method, Path: c.Path, Query: c.Query,
		BodyBytes: len(c.Body), Status: c.Status, ErrCode: c.ErrCode,
		Response: string(c.Response),
	}
	if utf8.Valid(c.Body) {
		v.Body = string(c.Body)
	}
	return json.Marshal(v)
}

// Kinds of delivered message.
const (
	KindCustom   = "custom"   // customer-service message (/cgi-bin/message/custom/send)
	KindTemplate = "template" // template message (/cgi-bin/message/template/send)
	KindRobot    = "robot"    // WeCom group robot (/cgi-bin/webhook/send)
)

// Sent is a message WeChat accepted for delivery. A template message repeated
// with the same client_msg_id is not a second Sent.
type Sent struct {
	Seq  int
	At   time.Time
	Kind string // KindCustom, KindTemplate or KindRobot
	// MsgType is the custom or robot msgtype (text, news, image, voice,
	// markdown, ...); "template" for templates.
	MsgType string
	// To is the recipient openid, or the robot's webhook key.
	To string
	// Text is what a person would read: the text or markdown content; news
	// articles as title, description and URL lines; template data as
	// "key: value" lines (first, then keywords in natural order, then remark).
	Text        string
	ClientMsgID string // template only
	TemplateID  string // template only
	URL         string // template only: the link the message opens
	MsgID       int64  // template only: the msgid WeChat answered
	Raw         []byte // the request body as sent
}

func (s *Server) record(r *http.Request, body []byte, rep reply) {
	s.recordAt(s.opts.Now(), r, body, rep)
}

func (s *Server) recordAt(at time.Time, r *http.Request, body []byte, rep reply) {
	c := Call{
		At: at, Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(),
		Body: body, Status: rep.status, ErrCode: rep.errCode,
	}
	if rep.recordBody {
		c.Response = rep.body
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	c.Seq = s.seq
	s.calls = append(s.calls, c)
	s.broadcastLocked()
}

// addSentLocked records a delivery; s.mu must be held.
func (s *Server) addSentLocked(m Sent) {
	s.sentSeq++
	m.Seq = s.sentSeq
	m.At = s.opts.Now()
	s.sent = append(s.sent, m)
	s.broadcastLocked()
}

// broadcastLocked wakes every waiter; s.mu must be held.
func (s *Server) broadcastLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// Calls returns every recorded call, oldest first.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// CallsTo returns the recorded calls to path, oldest first.
func (s *Server) CallsTo(path string) []Call {
	var out []Call
	for _, c := range s.Calls() {
		if c.Path == path {
			out = append(out, c)
		}
	}
	return out
}

// Sent returns every delivered message, oldest first.
func (s *Server) Sent() []Sent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Sent(nil), s.sent...)
}

// WaitCalls blocks until ok accepts the recorded calls, re-checking on every
// new call. It returns ctx's error if ctx ends first, or an error if the server
// closes while ok is still false.
func (s *Server) WaitCalls(ctx context.Context, ok func([]Call) bool) error {
	return s.waitChanged(ctx, func() bool { return ok(s.Calls()) })
}

// WaitSent blocks until ok accepts the delivered messages, re-checking on
// every new record. Errors as WaitCalls.
func (s *Server) WaitSent(ctx context.Context, ok func([]Sent) bool) error {
	return s.waitChanged(ctx, func() bool { return ok(s.Sent()) })
}

// Reset forgets the recorded calls, deliveries and the TokenIssued count.
// Tokens, media, template dedupe state and faults are WeChat's state, not
// records, and stay.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = nil
	s.sent = nil
	s.tokenIssued = 0
	s.broadcastLocked()
}

// maxWait caps the long-poll of the control endpoints.
const maxWait = time.Minute

// serveCalls is GET /fakewx/calls?since=SEQ&path=P&wait=DURATION: the calls
// after SEQ (optionally only to P) as a JSON array; with wait, it long-polls
// until there is at least one.
func (s *Server) serveCalls(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	since, _ := strconv.Atoi(q.Get("since"))
	path := q.Get("path")
	pick := func() []Call {
		out := []Call{}
		for _, c := range s.Calls() {
			if c.Seq > since && (path == "" || c.Path == path) {
				out = append(out, c)
			}
		}
		return out
	}
	s.longPoll(w, r, func() (any, bool) {
		out := pick()
		return out, len(out) > 0
	})
}

// serveSent is GET /fakewx/sent?since=SEQ&wait=DURATION, like serveCalls for
// deliveries.
func (s *Server) serveSent(w http.ResponseWriter, r *http.Request) {
	since, _ := strconv.Atoi(r.URL.Query().Get("since"))
	s.longPoll(w, r, func() (any, bool) {
		out := []Sent{}
		for _, m := range s.Sent() {
			if m.Seq > since {
				out = append(out, m)
			}
		}
		return out, len(out) > 0
	})
}

func (s *Server) longPoll(w http.ResponseWriter, r *http.Request, pick func() (any, bool)) {
	if r.Method != http.MethodGet {
		http.Error(w, "GET only", http.StatusMethodNotAllowed)
		return
	}
	var out any
	if wait, err := time.ParseDuration(r.URL.Query().Get("wait")); err == nil && wait > 0 {
		ctx, cancel := context.WithTimeout(r.Context(), min(wait, maxWait))
		defer cancel()
		// A timeout is an ordinary empty answer for a long-poll.
		_ = s.waitChanged(ctx, func() bool {
			var ok bool
			out, ok = pick()
			return ok
		})
	} else {
		out, _ = pick()
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	json.NewEncoder(w).Encode(out)
}

// serveEvents is GET /fakewx/events: a server-sent-events stream with one
// "call" event per recorded call, starting after ?since=SEQ or the
// Last-Event-ID header. It ends when the client leaves or the server closes.
func (s *Server) serveEvents(w http.ResponseWriter, r *http.Request) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	since, _ := strconv.Atoi(r.URL.Query().Get("since"))
	if id := r.Header.Get("Last-Event-ID"); id != "" {
		since, _ = strconv.Atoi(id)
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	flusher.Flush()
	for {
		s.mu.Lock()
		ch := s.changed
		var pending []Call
		for _, c := range s.calls {
			if c.Seq > since {
				pending = append(pending, c)
			}
		}
		s.mu.Unlock()
		for _, c := range pending {
			data, err := json.Marshal(c)
			if err != nil {
				return
			}
			if _, err := fmt.Fprintf(w, "id: %d\nevent: call\ndata: %s\n\n", c.Seq, data); err != nil {
				return
			}
			since = c.Seq
		}
		flusher.Flush()
		select {
		case <-ch:
		case <-r.Context().Done():
			return
		case <-s.done:
			return
		}
	}
}

// MarshalJSON renders Raw as the JSON it is, for the simulator's live view.
func (m Sent) MarshalJSON() ([]byte, error) {
	type view struct {
		Seq         int             `json:"seq"`
		At          time.Time       `json:"at"`
		Kind        string          `json:"kind"`
		MsgType     string          `json:"msgtype"`
		To          string          `json:"to"`
		Text        string          `json:"text"`
		ClientMsgID string          `json:"client_msg_id,omitempty"`
		TemplateID  string          `json:"template_id,omitempty"`
		URL         string          `json:"url,omitempty"`
		MsgID       int64           `json:"msgid,omitempty"`
		Raw         json.RawMessage `json:"raw,omitempty"`
	}
	v := view{
		Seq: m.Seq, At: m.At, Kind: m.Kind, MsgType: m.MsgType, To: m.To, Text: m.Text,
		ClientMsgID: m.ClientMsgID, TemplateID: m.TemplateID, URL: m.URL, MsgID: m.MsgID,
	}
	if json.Valid(m.Raw) {
		v.Raw = m.Raw
	}
	return json.Marshal(v)
}
