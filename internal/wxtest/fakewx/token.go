package fakewx

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"time"
)

// token is one issued access_token.
//
// Error semantics, as real WeChat answers an API call:
//   - no access_token parameter: 41001 "access_token missing";
//   - a token WeChat never issued, or one superseded by a newer issuance
//     longer ago than its grace: 40001 "invalid credential, access_token is
//     invalid or not latest" — WeChat does not say "expired" for a token that
//     lost a race, which is why code that only refreshes on 42001 breaks when
//     two processes share an appid;
//   - a token past its expires_in, or hit by ExpireTokens: 42001
//     "access_token expired".
//
// /cgi-bin/token and /cgi-bin/stable_token keep separate current tokens, as
// WeChat documents them ("完全隔离，互不影响"): issuing one never supersedes the
// other.
type token struct {
	value   string
	stable  bool
	expires time.Time
	// supersededAt is when a newer token of the same family replaced this one
	// (zero while current); the token keeps working for grace after that.
	supersededAt time.Time
	grace        time.Duration
}

const (
	errMsgInvalidCredential = "invalid credential, access_token is invalid or not latest"
	errMsgTokenExpired      = "access_token expired"
)

// check returns the WeChat error for using t at now, or 0.
func (t *token) check(now time.Time) (int, string) {
	if !now.Before(t.expires) {
		return 42001, errMsgTokenExpired
	}
	if !t.supersededAt.IsZero() && !now.Before(t.supersededAt.Add(t.grace)) {
		return 40001, errMsgInvalidCredential
	}
	return 0, ""
}

type tokenResponse struct {
	AccessToken string `json:"access_token"`
	ExpiresIn   int64  `json:"expires_in"`
}

// serveToken is GET /cgi-bin/token: every call issues a new token and the
// previous one survives only for Options.TokenGrace.
func (s *Server) serveToken(r *http.Request, _ []byte) reply {
	q := r.URL.Query()
	if rep, ok := s.checkAppCredentials(q.Get("grant_type"), q.Get("appid"), q.Get("secret")); !ok {
		return rep
	}
	s.mu.Lock()
	t := s.issueLocked(false, s.opts.TokenGrace)
	s.mu.Unlock()
	return jsonReply(tokenResponse{t.value, int64(s.opts.TokenTTL / time.Second)})
}

// serveStableToken is POST /cgi-bin/stable_token. In normal mode it returns the
// current stable token with its remaining lifetime, issuing a new one only when
// the current one has expired or is within TokenGrace of expiring (WeChat
// pre-issues in the last 5 minutes and keeps both valid). force_refresh issues
// a new one and, as WeChat documents ("会导致上次获取的access_token失效"), the
// previous stable token stops working at once.
func (s *Server) serveStableToken(_ *http.Request, body []byte) reply {
	var req struct {
		GrantType    string `json:"grant_type"`
		AppID        string `json:"appid"`
		Secret       string `json:"secret"`
		ForceRefresh bool   `json:"force_refresh"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return wxError(47001, "data format error")
	}
	if rep, ok := s.checkAppCredentials(req.GrantType, req.AppID, req.Secret); !ok {
		return rep
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Now()
	t := s.currentStable
	switch {
	case req.ForceRefresh:
		t = s.issueLocked(true, 0)
	case t == nil || t.expires.Sub(now) <= s.opts.TokenGrace:
		// The outgoing token keeps its own expiry, which is what WeChat's
		// "both valid for 5 minutes" handover amounts to.
		var grace time.Duration
		if t != nil {
			grace = t.expires.Sub(now)
		}
		t = s.issueLocked(true, grace)
	default:
		if code, _ := t.check(now); code != 0 {
			t = s.issueLocked(true, 0)
		}
	}
	remaining := t.expires.Sub(now)
	return jsonReply(tokenResponse{t.value, int64((remaining + time.Second - 1) / time.Second)})
}

func (s *Server) checkAppCredentials(grantType, appID, secret string) (reply, bool) {
	switch {
	case grantType != "client_credential":
		return wxError(40002, "invalid grant_type"), false
	case appID == "":
		return wxError(41002, "appid missing"), false
	case secret == "":
		return wxError(41004, "appsecret missing"), false
	case s.opts.AppID != "" && appID != s.opts.AppID:
		return wxError(40013, "invalid appid"), false
	case s.opts.AppSecret != "" && secret != s.opts.AppSecret:
		return wxError(40125, "invalid appsecret"), false
	}
	return reply{}, true
}

// issueLocked makes a new current token of one family, superseding the
// previous one with the given grace. s.mu must be held.
func (s *Server) issueLocked(stable bool, grace time.Duration) *token {
	now := s.opts.Now()
	t := &token{value: newTokenValue(), stable: stable, expires: now.Add(s.opts.TokenTTL)}
	old := s.currentToken
	if stable {
		old = s.currentStable
	}
	if old != nil && old.supersededAt.IsZero() {
		old.supersededAt = now
		old.grace = max(grace, 0)
	}
	// Drop tokens that will never work again so a long simulation does not
	// accumulate them; once gone they answer 40001, which is what a
	// superseded token answers anyway.
	for v, o := range s.tokens {
		if code, _ := o.check(now); code == 40001 || now.Sub(o.expires) > s.opts.TokenTTL {
			delete(s.tokens, v)
		}
	}
	s.tokens[t.value] = t
	if stable {
		s.currentStable = t
	} else {
		s.currentToken = t
	}
	s.tokenIssued++
	return t
}

// newTokenValue looks like WeChat's: a long URL-safe string.
func newTokenValue() string {
	b := make([]byte, 96)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// checkToken validates the access_token parameter of a protected call.
func (s *Server) checkToken(q url.Values) (reply, bool) {
	v := q.Get("access_token")
	if v == "" {
		return wxError(41001, "access_token missing"), false
	}
	s.mu.Lock()
	t := s.tokens[v]
	var code int
	var msg string
	if t == nil {
		code, msg = 40001, errMsgInvalidCredential
	} else {
		code, msg = t.check(s.opts.Now())
	}
	s.mu.Unlock()
	if code != 0 {
		return wxError(code, msg), false
	}
	return reply{}, true
}

// IssueToken issues an access_token exactly as a GET /cgi-bin/token would
// (superseding the current one and counting in TokenIssued), for tests that
// call protected endpoints directly.
func (s *Server) IssueToken() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issueLocked(false, s.opts.TokenGrace).value
}

// ExpireTokens makes every token issued so far expired now: the next call
// with any of them gets 42001, and stable_token issues a fresh one.
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Now()
	for _, t := range s.tokens {
		if t.expires.After(now) {
			t.expires = now
		}
	}
}

// TokenIssued counts new tokens issued by /cgi-bin/token, stable_token (only
// when it issues a new one, not when it returns the current one) and
// IssueToken since New or the last Reset.
func (s *Server) TokenIssued() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokenIssued
}
