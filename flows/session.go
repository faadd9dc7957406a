package flows

import (
	"encoding/json"
	"time"
)

// sessionVersion changes when the session layout changes incompatibly; older
// sessions are migrated or reset with an apology, never crash the engine.
const sessionVersion = 1

// Session is one resident's conversation state, kept in Redis as compact JSON.
type Session struct {
	Ver  int    `json:"v"`
	Flow string `json:"f,omitempty"`
	Step string `json:"s,omitempty"`
	Last int64  `json:"t,omitempty"` // last activity, unix seconds

	// reset is set when a stored session could not be read and was started over.
	reset bool
}

func decodeSession(blob string) (*Session, bool) {
	s := &Session{}
	if blob == "" {
		return s, true
	}
	if err := json.Unmarshal([]byte(blob), s); err != nil || s.Ver != sessionVersion {
		return &Session{reset: true}, false
	}
	return s, true
}

func (s *Session) idle(now time.Time, ttl time.Duration) bool {
	return s.Last != 0 && now.Sub(time.Unix(s.Last, 0)) > ttl
}
