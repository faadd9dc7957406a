package flows

import (
	"encoding/json"
	"slices"
)

// sessionVersion changes when the session layout changes incompatibly; older
// sessions are reset with an apology, never crash the engine.
const sessionVersion = 1

// Session is one resident's conversation state, kept in Redis as compact JSON
// (a typical report in progress is a few hundred bytes).
type Session struct {
	Ver     int      `json:"v"`
	FlowVer int      `json:"fv,omitempty"`
	Flow    string   `json:"f,omitempty"`
	Step    string   `json:"s,omitempty"`
	Hist    []string `json:"h,omitempty"` // steps visited, for 返回
	Done    []string `json:"d,omitempty"` // steps answered (or skipped)
	Ans     *Answers `json:"a,omitempty"`
	Fails   int      `json:"e,omitempty"` // invalid answers in a row at this step
	Suggest string   `json:"g,omitempty"` // a category offered, awaiting 是
	Paused  bool     `json:"p,omitempty"` // idle or 菜单: offer 继续 / 重新开始
	Last    int64    `json:"t,omitempty"` // last activity, unix seconds
	// Why is a 不满意 waiting for what is still wrong.
	Why *followUp `json:"w,omitempty"`
	// Pending is a new problem typed while a draft was paused, kept to be
	// offered once the draft is done with; PendingAt is when (unix seconds).
	Pending   string `json:"pn,omitempty"`
	PendingAt int64  `json:"pt,omitempty"`
	// ConfirmCancel: 取消 of a draft with photos was asked to be confirmed.
	ConfirmCancel bool `json:"cc,omitempty"`
	// Op is an opinion on a draft regulation given step by step (意见).
	Op *opinionDraft `json:"op,omitempty"`
	// Bk is a reception being booked (预约接待) or a booking being cancelled.
	Bk *bookingDraft `json:"bk,omitempty"`
	// Px is a grid worker starting a report for a resident (代报): the
	// resident is asked for first.
	Px bool `json:"px,omitempty"`
	// Scan is the deputy's or station's QR code scanned last (代表码).
	Scan *qrScan `json:"qr,omitempty"`

	// note is said before the next reply: why the conversation started over.
	note string
}

// Answers is what the resident has told us so far.
type Answers struct {
	Category      string            `json:"c,omitempty"`
	Desc          string            `json:"d,omitempty"`
	Photos        []int64           `json:"p,omitempty"` // attachment ids
	Voices        []int64           `json:"vo,omitempty"`
	Lat           float64           `json:"la,omitempty"`
	Lng           float64           `json:"ln,omitempty"`
	Label         string            `json:"lb,omitempty"`
	Address       string            `json:"ad,omitempty"`
	Station       string            `json:"st,omitempty"`
	StationReason string            `json:"sr,omitempty"` // why, as staff read it on the timeline
	StationChosen bool              `json:"sc,omitempty"` // the resident chose it from the list
	Phone         string            `json:"ph,omitempty"`
	Extra         map[string]string `json:"x,omitempty"`
	// Proxy is the resident a grid worker reports for (代报).
	Proxy *proxyResident `json:"pr,omitempty"`
	// MeToo is the open case nearby offered to join (同一件) at 确认;
	// MeTooAsked: the offer was made (it is made once per draft).
	MeToo      string `json:"mt,omitempty"`
	MeTooAsked bool   `json:"ma,omitempty"`
	// Scanned: the station came from a scanned QR code (and ScanDeputy,
	// when it was a deputy's, takes the case).
	Scanned    bool   `json:"qs,omitempty"`
	ScanDeputy string `json:"qd,omitempty"`
}

func (a *Answers) hasLocation() bool { return a.Lat != 0 || a.Lng != 0 || a.Address != "" }

func decodeSession(blob string) (*Session, bool) {
	s := &Session{}
	if blob == "" {
		return s, true
	}
	if err := json.Unmarshal([]byte(blob), s); err != nil || s.Ver != sessionVersion {
		return &Session{}, false
	}
	if s.Flow != "" && s.Ans == nil {
		s.Ans = &Answers{} // hand-edited or truncated state: start the answers afresh
	}
	return s, true
}

func (s *Session) inFlow() bool { return s.Flow != "" }

func (s *Session) done(step string) bool { return slices.Contains(s.Done, step) }

func (s *Session) markDone(step string) {
	if !s.done(step) {
		s.Done = append(s.Done, step)
	}
}

func (s *Session) unmarkDone(step string) {
	s.Done = slices.DeleteFunc(s.Done, func(x string) bool { return x == step })
}

// clearFlow ends the flow, keeping nothing of the draft (and what is not
// the draft's).
func (s *Session) clearFlow() {
	*s = Session{Ver: s.Ver, Last: s.Last, Why: s.Why, Pending: s.Pending, PendingAt: s.PendingAt, Op: s.Op, Scan: s.Scan, Bk: s.Bk, note: s.note}
}
