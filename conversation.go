package lianxin

import "errors"

// Delivery is one inbound message handed by the webhook to the conversation.
type Delivery struct {
	Msg *Inbound
	// NonceKey and BodyHash guard against replays: a request reusing a
	// (timestamp, nonce) with a different body is refused. Empty skips it.
	NonceKey string
	BodyHash string
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
