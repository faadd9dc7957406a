package fakewx

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"sync"
	"unicode/utf8"
)

// Parametric QR codes (qrcode/create, issue 14's 代表码): permanent
// (QR_LIMIT_STR_SCENE, QR_LIMIT_SCENE) and temporary (QR_STR_SCENE,
// QR_SCENE) codes, with WeChat's limit on permanent codes (45029).
// Registered from init so this file merges beside other endpoints.

// PathQRCodeCreate is the QR-code endpoint.
const PathQRCodeCreate = "/cgi-bin/qrcode/create"

func init() {
	endpoints[PathQRCodeCreate] = endpoint{http.MethodPost, authToken, (*Server).serveQRCodeCreate}
}

// QRCode is a code the fake made.
type QRCode struct {
	Scene     string
	Permanent bool
	Ticket    string
	URL       string
	Expire    int64 // seconds; 0 for permanent
}

type qrState struct {
	mu        sync.Mutex
	limit     int               // permanent codes the account may make
	permanent map[string]QRCode // by scene: WeChat answers the same ticket again
	made      []QRCode
}

var qrStates sync.Map // *Server → *qrState

func (s *Server) qr() *qrState {
	v, _ := qrStates.LoadOrStore(s, &qrState{limit: 100000, permanent: map[string]QRCode{}})
	return v.(*qrState)
}

// SetQRLimit sets how many permanent codes the account may make (WeChat:
// 100 000); past it qrcode/create answers 45029.
func (s *Server) SetQRLimit(n int) {
	q := s.qr()
	q.mu.Lock()
	q.limit = n
	q.mu.Unlock()
}

// QRCodes are the codes made so far, in order.
func (s *Server) QRCodes() []QRCode {
	q := s.qr()
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]QRCode(nil), q.made...)
}

// QRScene is the scene a ticket URL the fake gave stands for, as WeChat
// knows it when the code is scanned ("" if it made no such code).
func (s *Server) QRScene(url string) string {
	q := s.qr()
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, c := range q.made {
		if c.URL == url {
			return c.Scene
		}
	}
	return ""
}

func (s *Server) serveQRCodeCreate(_ *http.Request, body []byte) reply {
	var req struct {
		ExpireSeconds int64  `json:"expire_seconds"`
		ActionName    string `json:"action_name"`
		ActionInfo    struct {
			Scene struct {
				SceneID  int64  `json:"scene_id"`
				SceneStr string `json:"scene_str"`
			} `json:"scene"`
		} `json:"action_info"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return wxError(47001, "data format error")
	}
	scene := req.ActionInfo.Scene.SceneStr
	permanent := false
	switch req.ActionName {
	case "QR_LIMIT_STR_SCENE", "QR_STR_SCENE":
		if scene == "" || len(scene) > 64 || !utf8.ValidString(scene) {
			return wxError(40053, "invalid action info, scene_str must be 1 to 64 bytes")
		}
		permanent = req.ActionName == "QR_LIMIT_STR_SCENE"
	case "QR_LIMIT_SCENE", "QR_SCENE":
		id := req.ActionInfo.Scene.SceneID
		permanent = req.ActionName == "QR_LIMIT_SCENE"
		if id <= 0 || (permanent && id > 100000) {
			return wxError(40053, "invalid action info, scene_id out of range")
		}
		scene = itoa64(id)
	default:
		return wxError(40052, "invalid action name")
	}
	expire := int64(0)
	if !permanent {
		expire = req.ExpireSeconds
		if expire <= 0 {
			expire = 30
		}
		if expire > 2592000 {
			expire = 2592000
		}
	}
	q := s.qr()
	q.mu.Lock()
	defer q.mu.Unlock()
	if c, ok := q.permanent[scene]; ok && permanent {
		return qrAnswer(c)
	}
	if permanent && len(q.permanent) >= q.limit {
		return wxError(45029, "qrcode count out of limit")
	}
	sum := sha256.Sum256([]byte(req.ActionName + "\x00" + scene + "\x00" + itoa64(int64(len(q.made)))))
	code := QRCode{Scene: scene, Permanent: permanent, Expire: expire,
		URL: "http://weixin.qq.com/q/" + hex.EncodeToString(sum[:11])}
	code.Ticket = base64.RawURLEncoding.EncodeToString([]byte(code.URL))
	if permanent {
		q.permanent[scene] = code
	}
	q.made = append(q.made, code)
	return qrAnswer(code)
}

func qrAnswer(c QRCode) reply {
	out := map[string]any{"ticket": c.Ticket, "url": c.URL}
	if !c.Permanent {
		out["expire_seconds"] = c.Expire
	}
	return jsonReply(out)
}

func itoa64(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}
