package fakewx

import (
	"encoding/json"
	"net/http"
	"slices"
	"sync"
	"unicode/utf8"
)

// Mass sends (群发) and user tags (标签) as WeChat answers them: tags are
// created (tags/create; a name taken answers 45157, more than 100 tags
// 45056, a name over 30 characters 45158), followers are tagged
// (tags/members/batchtagging: at most 50 a call, 40032; at most 20 tags a
// follower, 45059), and a text is mass-sent to a tag (filter.tag_id) or to
// everyone; past the quota it answers 45028, a repeated clientmsgid 45065.
// Registered from init so this file merges beside the endpoint table.

// Paths of the mass-send and tag endpoints.
const (
	PathMassSend     = "/cgi-bin/message/mass/sendall"
	PathTagsGet      = "/cgi-bin/tags/get"
	PathTagsCreate   = "/cgi-bin/tags/create"
	PathTagsBatchTag = "/cgi-bin/tags/members/batchtagging"
)

// KindMass is a delivered mass send; its To is "all" or "tag:NAME".
const KindMass = "mass"

func init() {
	endpoints[PathMassSend] = endpoint{http.MethodPost, authToken, (*Server).serveMassSend}
	endpoints[PathTagsGet] = endpoint{http.MethodGet, authToken, (*Server).serveTagsGet}
	endpoints[PathTagsCreate] = endpoint{http.MethodPost, authToken, (*Server).serveTagsCreate}
	endpoints[PathTagsBatchTag] = endpoint{http.MethodPost, authToken, (*Server).serveBatchTagging}
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
	members map[int64]map[string]bool // tag id → openids
}

var massStates sync.Map // *Server → *massState

func (s *Server) mass() *massState {
	v, _ := massStates.LoadOrStore(s, &massState{tags: map[string]int64{}, nextTag: 100, quota: 4, sent: map[string]int{}, seen: map[string]bool{},
		members: map[int64]map[string]bool{}})
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

func (s *Server) serveTagsGet(_ *http.Request, _ []byte) reply {
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
		out.Tags = append(out.Tags, tag{ID: id, Name: name, Count: len(m.members[id])})
	}
	return jsonReply(out)
}

// serveMassSend is POST /cgi-bin/message/mass/sendall: a text to
// every follower (filter.is_to_all) or to a tag's. A repeated clientmsgid
// delivers nothing again (45065); past the quota it answers 45028.
func (s *Server) serveMassSend(_ *http.Request, body []byte) reply {
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
		return wxError(45065, "clientmsgid exist")
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

// serveTagsCreate is POST /cgi-bin/tags/create.
func (s *Server) serveTagsCreate(_ *http.Request, body []byte) reply {
	var req struct {
		Tag struct {
			Name string `json:"name"`
		} `json:"tag"`
	}
	if err := json.Unmarshal(body, &req); err != nil || req.Tag.Name == "" {
		return wxError(47001, "data format error")
	}
	if utf8.RuneCountInString(req.Tag.Name) > 30 {
		return wxError(45158, "tag name too long")
	}
	m := s.mass()
	m.mu.Lock()
	_, exists := m.tags[req.Tag.Name]
	full := len(m.tags) >= 100
	m.mu.Unlock()
	switch {
	case exists:
		return wxError(45157, "invalid tag name")
	case full:
		return wxError(45056, "too many tags")
	}
	id := s.AddTag(req.Tag.Name)
	return jsonReply(map[string]any{"tag": map[string]any{"id": id, "name": req.Tag.Name}})
}

// serveBatchTagging is POST /cgi-bin/tags/members/batchtagging.
func (s *Server) serveBatchTagging(_ *http.Request, body []byte) reply {
	var req struct {
		OpenIDs []string `json:"openid_list"`
		TagID   int64    `json:"tagid"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return wxError(47001, "data format error")
	}
	if len(req.OpenIDs) == 0 || len(req.OpenIDs) > 50 {
		return wxError(40032, "invalid openid list size")
	}
	m := s.mass()
	m.mu.Lock()
	defer m.mu.Unlock()
	known := false
	for _, id := range m.tags {
		known = known || id == req.TagID
	}
	if !known {
		return wxError(45159, "invalid tag id")
	}
	for _, o := range req.OpenIDs {
		n := 0
		for _, mem := range m.members {
			if mem[o] {
				n++
			}
		}
		if n >= 20 && !m.members[req.TagID][o] {
			return wxError(45059, "has too many tags")
		}
	}
	if m.members[req.TagID] == nil {
		m.members[req.TagID] = map[string]bool{}
	}
	for _, o := range req.OpenIDs {
		m.members[req.TagID][o] = true
	}
	return wxOK()
}

// TagMembers are the followers carrying the tag named name, sorted.
func (s *Server) TagMembers(name string) []string {
	m := s.mass()
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	if id, ok := m.tags[name]; ok {
		for o := range m.members[id] {
			out = append(out, o)
		}
	}
	slices.Sort(out)
	return out
}
