package fakewx

import (
	"encoding/json"
	"net/http"
	"sync"
)

// A minimal mass send (群发) by tag and the tag list, for the consultations'
// tests (issue 14); the reception days' reminders bring the fuller fake.
// Registered from init so this file merges beside it without touching the
// endpoint table.

// Paths of the mass-send endpoints.
const (
	PathConsultMassSend = "/cgi-bin/message/mass/sendall"
	PathConsultTagsGet  = "/cgi-bin/tags/get"
)

// KindMass is a delivered mass send; its To is "all" or "tag:NAME".
const KindMass = "mass"

func init() {
	endpoints[PathConsultMassSend] = endpoint{http.MethodPost, authToken, (*Server).serveConsultMassSend}
	endpoints[PathConsultTagsGet] = endpoint{http.MethodGet, authToken, (*Server).serveConsultTagsGet}
}

// massState is a server's tags and mass sends (kept beside the Server so
// this file needs no field of its own there).
type massState struct {
	mu      sync.Mutex
	tags    map[string]int64
	nextTag int64
	quota   int
	sent    map[string]int // per target ("all", or a tag), this server's life
	seen    map[string]bool
}

var massStates sync.Map // *Server → *massState

func (s *Server) mass() *massState {
	v, _ := massStates.LoadOrStore(s, &massState{tags: map[string]int64{}, nextTag: 100, quota: 4, sent: map[string]int{}, seen: map[string]bool{}})
	return v.(*massState)
}

// AddTag creates a user tag (as an operator does in the account's back
// office, or the reception reminders do) and returns its id.
func (s *Server) AddTag(name string) int64 {
	m := s.mass()
	m.mu.Lock()
	defer m.mu.Unlock()
	if id, ok := m.tags[name]; ok {
		return id
	}
	m.nextTag++
	m.tags[name] = m.nextTag
	return m.nextTag
}

// SetMassQuota sets how many mass sends a follower may get (WeChat: 4 a
// month for a service account); past it WeChat answers 45028.
func (s *Server) SetMassQuota(n int) {
	m := s.mass()
	m.mu.Lock()
	m.quota = n
	m.mu.Unlock()
}

func (s *Server) serveConsultTagsGet(_ *http.Request, _ []byte) reply {
	m := s.mass()
	m.mu.Lock()
	defer m.mu.Unlock()
	type tag struct {
		ID    int64  `json:"id"`
		Name  string `json:"name"`
		Count int    `json:"count"`
	}
	out := struct {
		Tags []tag `json:"tags"`
	}{Tags: []tag{}}
	for name, id := range m.tags {
		out.Tags = append(out.Tags, tag{ID: id, Name: name})
	}
	return jsonReply(out)
}

// serveConsultMassSend is POST /cgi-bin/message/mass/sendall: a text to
// every follower (filter.is_to_all) or to a tag's. A repeated clientmsgid
// delivers nothing again; past the quota it answers 45028.
func (s *Server) serveConsultMassSend(_ *http.Request, body []byte) reply {
	var req struct {
		Filter struct {
			IsToAll bool  `json:"is_to_all"`
			TagID   int64 `json:"tag_id"`
		} `json:"filter"`
		MsgType string `json:"msgtype"`
		Text    *struct {
			Content string `json:"content"`
		} `json:"text"`
		ClientMsgID string `json:"clientmsgid"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return wxError(47001, "data format error")
	}
	if req.MsgType != "text" || req.Text == nil || req.Text.Content == "" {
		return wxError(44004, "empty content")
	}
	m := s.mass()
	m.mu.Lock()
	target := "all"
	if !req.Filter.IsToAll {
		target = ""
		for name, id := range m.tags {
			if id == req.Filter.TagID {
				target = "tag:" + name
			}
		}
		if target == "" {
			m.mu.Unlock()
			return wxError(40003, "invalid tag_id")
		}
	}
	if req.ClientMsgID != "" && m.seen[req.ClientMsgID] {
		m.mu.Unlock()
		return jsonReply(struct {
			ErrCode int    `json:"errcode"`
			ErrMsg  string `json:"errmsg"`
			MsgID   int64  `json:"msg_id"`
		}{0, "send job submission success", 1000})
	}
	if m.sent["all"]+m.sent[target] >= m.quota || (target == "all" && maxTagged(m.sent)+m.sent["all"] >= m.quota) {
		m.mu.Unlock()
		return wxError(45028, "has no masssend quota")
	}
	m.sent[target]++
	m.seen[req.ClientMsgID] = true
	m.mu.Unlock()

	s.mu.Lock()
	s.nextMsgID++
	id := s.nextMsgID
	s.addSentLocked(Sent{Kind: KindMass, MsgType: "text", To: target, Text: req.Text.Content, MsgID: id, Raw: body})
	s.mu.Unlock()
	return jsonReply(struct {
		ErrCode int    `json:"errcode"`
		ErrMsg  string `json:"errmsg"`
		MsgID   int64  `json:"msg_id"`
	}{0, "send job submission success", id})
}

func maxTagged(sent map[string]int) int {
	n := 0
	for k, v := range sent {
		if k != "all" && v > n {
			n = v
		}
	}
	return n
}
