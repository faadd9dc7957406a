package fakewx

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// templateDedupeWindow is how long WeChat remembers a client_msg_id
// ("10分钟有效"); after it the same id is a new message.
const templateDedupeWindow = 10 * time.Minute

type templateDedupe struct {
	msgID int64
	at    time.Time
}

// serveCustomSend is POST /cgi-bin/message/custom/send, the customer-service
// message the bot answers residents with after the 5-second passive-reply
// window. It validates what WeChat validates, then honours Set45015.
func (s *Server) serveCustomSend(_ *http.Request, body []byte) reply {
	var req struct {
		ToUser  string `json:"touser"`
		MsgType string `json:"msgtype"`
		Text    *struct {
			Content string `json:"content"`
		} `json:"text"`
		News *struct {
			Articles []article `json:"articles"`
		} `json:"news"`
		Image   *mediaRef `json:"image"`
		Voice   *mediaRef `json:"voice"`
		Video   *mediaRef `json:"video"`
		Mpnews  *mediaRef `json:"mpnews"`
		Msgmenu *struct {
			HeadContent string `json:"head_content"`
			List        []struct {
				ID      string `json:"id"`
				Content string `json:"content"`
			} `json:"list"`
			TailContent string `json:"tail_content"`
		} `json:"msgmenu"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return wxError(47001, "data format error")
	}
	if req.ToUser == "" {
		return wxError(40003, "invalid openid")
	}
	var text string
	switch req.MsgType {
	case "text":
		if req.Text == nil || req.Text.Content == "" {
			return wxError(44004, "empty content")
		}
		text = req.Text.Content
	case "news":
		if req.News == nil || len(req.News.Articles) == 0 {
			return wxError(44003, "empty news data")
		}
		// Customer-service news has carried a single article since 2018.
		if len(req.News.Articles) > 1 {
			return wxError(45008, "article size out of limit")
		}
		text = renderArticles(req.News.Articles)
	case "image", "voice", "video", "mpnews":
		ref := map[string]*mediaRef{"image": req.Image, "voice": req.Voice, "video": req.Video, "mpnews": req.Mpnews}[req.MsgType]
		if ref == nil || ref.MediaID == "" {
			return wxError(40007, "invalid media_id")
		}
		// Image and voice refer to temporary media, which WeChat keeps 3 days.
		if (req.MsgType == "image" || req.MsgType == "voice") && !s.mediaKnown(ref.MediaID) {
			return wxError(40007, "invalid media_id")
		}
		text = fmt.Sprintf("[%s %s]", req.MsgType, ref.MediaID)
	case "msgmenu":
		if req.Msgmenu == nil || len(req.Msgmenu.List) == 0 {
			return wxError(44004, "empty content")
		}
		lines := []string{req.Msgmenu.HeadContent}
		for _, it := range req.Msgmenu.List {
			lines = append(lines, fmt.Sprintf("[%s] %s", it.ID, it.Content))
		}
		text = strings.Join(append(lines, req.Msgmenu.TailContent), "\n")
	case "music", "wxcard", "miniprogrampage", "mpnewsarticle":
		text = "[" + req.MsgType + "]"
	default:
		return wxError(40008, "invalid message type")
	}
	if s.denied45015(req.ToUser) {
		return wxError(45015, errMsg45015)
	}
	s.mu.Lock()
	s.addSentLocked(Sent{Kind: KindCustom, MsgType: req.MsgType, To: req.ToUser, Text: text, Raw: body})
	s.mu.Unlock()
	return wxOK()
}

type mediaRef struct {
	MediaID string `json:"media_id"`
}

type article struct {
	Title       string `json:"title"`
	Description string `json:"description"`
	URL         string `json:"url"`
	PicURL      string `json:"picurl"`
}

func renderArticles(as []article) string {
	var lines []string
	for _, a := range as {
		for _, l := range []string{a.Title, a.Description, a.URL} {
			if l != "" {
				lines = append(lines, l)
			}
		}
	}
	return strings.Join(lines, "\n")
}

// serveTemplateSend is POST /cgi-bin/message/template/send, the notification a
// deputy or resident gets outside the 48-hour customer-service window. A
// repeated touser+client_msg_id within 10 minutes answers the first msgid and
// delivers nothing, which is what makes outbox retries safe.
func (s *Server) serveTemplateSend(_ *http.Request, body []byte) reply {
	var req struct {
		ToUser     string `json:"touser"`
		TemplateID string `json:"template_id"`
		URL        string `json:"url"`
		Data       map[string]struct {
			Value string `json:"value"`
		} `json:"data"`
		ClientMsgID string `json:"client_msg_id"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return wxError(47001, "data format error")
	}
	if req.ToUser == "" {
		return wxError(40003, "invalid openid")
	}
	if req.TemplateID == "" {
		return wxError(40037, "invalid template_id")
	}
	data := make(map[string]string, len(req.Data))
	for k, v := range req.Data {
		data[k] = v.Value
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Now()
	key := req.ToUser + "\x00" + req.ClientMsgID
	if req.ClientMsgID != "" {
		if d, ok := s.templateSent[key]; ok && now.Sub(d.at) < templateDedupeWindow {
			return templateOK(d.msgID)
		}
	}
	s.nextMsgID++
	msgID := s.nextMsgID
	if req.ClientMsgID != "" {
		for k, d := range s.templateSent {
			if now.Sub(d.at) >= templateDedupeWindow {
				delete(s.templateSent, k)
			}
		}
		s.templateSent[key] = templateDedupe{msgID: msgID, at: now}
	}
	s.addSentLocked(Sent{
		Kind: KindTemplate, MsgType: "template", To: req.ToUser, Text: renderTemplateData(data),
		ClientMsgID: req.ClientMsgID, TemplateID: req.TemplateID, URL: req.URL, MsgID: msgID, Raw: body,
	})
	return templateOK(msgID)
}

func templateOK(msgID int64) reply {
	return jsonReply(struct {
		ErrCode int    `json:"errcode"`
		ErrMsg  string `json:"errmsg"`
		MsgID   int64  `json:"msgid"`
	}{0, "ok", msgID})
}

// renderTemplateData lays template data out as a phone shows it: "first" on
// top, "remark" at the bottom, the keywords between in natural order
// (keyword2 before keyword10). JSON objects carry no order, so this is the
// only stable one.
func renderTemplateData(data map[string]string) string {
	keys := make([]string, 0, len(data))
	for k := range data {
		keys = append(keys, k)
	}
	rank := func(k string) int {
		switch k {
		case "first":
			return 0
		case "remark":
			return 2
		}
		return 1
	}
	slices.SortFunc(keys, func(a, b string) int {
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra - rb
		}
		return naturalCompare(a, b)
	})
	lines := make([]string, len(keys))
	for i, k := range keys {
		lines[i] = k + ": " + data[k]
	}
	return strings.Join(lines, "\n")
}

// naturalCompare orders "thing2" before "thing10" by comparing a trailing
// number numerically.
func naturalCompare(a, b string) int {
	pa, na := splitNumber(a)
	pb, nb := splitNumber(b)
	if c := strings.Compare(pa, pb); c != 0 {
		return c
	}
	if na != nb {
		return na - nb
	}
	return strings.Compare(a, b)
}

func splitNumber(s string) (string, int) {
	i := len(s)
	for i > 0 && s[i-1] >= '0' && s[i-1] <= '9' {
		i--
	}
	n, err := strconv.Atoi(s[i:])
	if err != nil {
		return s, -1
	}
	return s[:i], n
}

// WeComRobotPerMinute is the group robot's documented send limit, for
// Options.RobotPerMinute.
const WeComRobotPerMinute = 20

func (s *Server) checkRobotKey(key string) (reply, bool) {
	if key == "" || (len(s.opts.RobotKeys) > 0 && !slices.Contains(s.opts.RobotKeys, key)) {
		return wxError(93000, "invalid webhook url"), false
	}
	return reply{}, true
}

// serveWebhookSend is POST /cgi-bin/webhook/send?key=KEY, the WeCom group
// robot that posts into a station's staff group. It enforces WeCom's content
// limits (text 2048 bytes, markdown 4096) and, when Options.RobotPerMinute is
// set, the per-robot rate limit.
func (s *Server) serveWebhookSend(r *http.Request, body []byte) reply {
	key := r.URL.Query().Get("key")
	var req struct {
		MsgType string `json:"msgtype"`
		Text    *struct {
			Content             string   `json:"content"`
			MentionedList       []string `json:"mentioned_list"`
			MentionedMobileList []string `json:"mentioned_mobile_list"`
		} `json:"text"`
		Markdown *struct {
			Content string `json:"content"`
		} `json:"markdown"`
		News *struct {
			Articles []article `json:"articles"`
		} `json:"news"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return wxError(47001, "data format error")
	}
	var text string
	switch req.MsgType {
	case "text":
		if req.Text == nil || req.Text.Content == "" {
			return wxError(44004, "empty content")
		}
		if len(req.Text.Content) > 2048 {
			return wxError(40058, "text.content exceed max length 2048")
		}
		text = req.Text.Content
		if len(req.Text.MentionedList) > 0 {
			text += "\n@" + strings.Join(req.Text.MentionedList, " @")
		}
	case "markdown":
		if req.Markdown == nil || req.Markdown.Content == "" {
			return wxError(44004, "empty content")
		}
		if len(req.Markdown.Content) > 4096 {
			return wxError(40058, "markdown.content exceed max length 4096")
		}
		text = req.Markdown.Content
	case "news":
		if req.News == nil || len(req.News.Articles) == 0 {
			return wxError(44003, "empty news data")
		}
		text = renderArticles(req.News.Articles)
	case "image", "file", "template_card":
		text = "[" + req.MsgType + "]"
	default:
		return wxError(40008, "invalid message type")
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if n := s.opts.RobotPerMinute; n > 0 {
		now := s.opts.Now()
		recent := 0
		for _, m := range s.sent {
			if m.Kind == KindRobot && m.To == key && now.Sub(m.At) < time.Minute {
				recent++
			}
		}
		if recent >= n {
			return wxError(45009, "api freq out of limit")
		}
	}
	s.addSentLocked(Sent{Kind: KindRobot, MsgType: req.MsgType, To: key, Text: text, Raw: body})
	return wxOK()
}
