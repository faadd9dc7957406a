package lianxin

import (
	"errors"
	"time"
)

// Delivery is one inbound message handed by the webhook to the conversation.
type Delivery struct {
	Msg *Inbound
	// NonceKey and BodyHash guard against replays: a request reusing a
	// (timestamp, nonce) with a different body is refused. Empty skips it.
	NonceKey string
	BodyHash string
	// NonceUntil is when the pair may be forgotten: when its timestamp
	// leaves the accepted window. Zero: the dispatcher's default.
	NonceUntil time.Time
}

// Nonce is a request's (timestamp, nonce) pair and the hash of the body it
// came with. WeChat's signature covers the pair but, in plaintext mode, not
// the body, so the pair must not come back with another body for as long as
// its timestamp is accepted: until Until.
type Nonce struct {
	Key   string // "timestamp:nonce"
	Hash  string
	Until time.Time
	// Check makes whoever records the pair refuse it (ErrReplay) when it
	// was recorded with another hash; otherwise it is only recorded.
	Check bool
}

// Result is the conversation's answer to a delivered message.
type Result struct {
	Reply Reply
	// ReplyTime is the reply's CreateTime, kept so every copy of a retried
	// message gets a byte-identical reply.
	ReplyTime int64
	// Duplicate is true when the message had already been applied (a retry).
	Duplicate bool
}

// Errors a conversation returns besides its storage's own.
var (
	// ErrReplay: the (timestamp, nonce) was seen before with a different body.
	ErrReplay = errors.New("replayed timestamp and nonce")
	// ErrLate: the message is queued but was not applied within the caller's
	// deadline; its reply will go out as a customer-service message.
	ErrLate = errors.New("message not applied in time; reply will follow")
)
