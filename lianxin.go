// Package lianxin is the shared vocabulary of the deputy liaison stations'
// WeChat service: what residents send (Inbound) and are answered (Reply),
// the cases their reports become (Case, Attachment, Event, Transition), the
// directory cases are routed through (Category, Station, Deputy, Department)
// and the decisions routing makes, the notices a change queues (Notice and
// its payloads), the journal of every message, and the errors every part
// speaks (Error).
//
// It has no SQL, Redis or HTTP in it. The technology packages translate to
// and from these types: bot (WeChat), dispatch (Redis), flows (the
// conversations), store (SQLite). Only the wiring, internal/service and
// cmd/lianxin, imports store; the others declare the narrow interfaces they
// need in these terms.
package lianxin

import "strings"

// MaskOpenID shortens an openid for logs, where it must never appear in clear.
func MaskOpenID(openid string) string {
	if len(openid) <= 8 {
		return "***"
	}
	return openid[:4] + "***" + openid[len(openid)-4:]
}

// MaskPhone hides the middle of a phone number: 138****5678.
func MaskPhone(phone string) string {
	if len(phone) < 7 {
		if phone == "" {
			return ""
		}
		return "***"
	}
	return phone[:3] + strings.Repeat("*", len(phone)-7) + phone[len(phone)-4:]
}
