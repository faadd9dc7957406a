package lianxin

import (
	"slices"
	"time"
)

// Notice is an outbox row written in the same transaction as the change
// that causes it: a message to a resident, a deputy or a group robot.
// IdemKey makes queueing it idempotent, so a retried change queues it once.
type Notice struct {
	IdemKey   string
	Kind      string
	Recipient string
	Payload   any
	// Delay holds the notice back this long after the change, so it can
	// still be amended (NoticeAmendment) before it goes out.
	Delay time.Duration
	// Valid, when set, is when the notice still makes sense to its
	// recipient, checked against its case just before it is sent.
	Valid *NoticeRule
}

// NoticeRule is when a notice about a case is still worth sending: the case
// is in one of Statuses (any, when empty) and assigned to Assignee (anyone,
// when empty). A 【新反映】 asking a deputy to accept is valid while the case
// is registered and theirs; once it is accepted, closed or reassigned the
// notice is dropped, not sent.
type NoticeRule struct {
	Statuses []Status `json:"statuses,omitempty"`
	Assignee string   `json:"assignee,omitempty"`
}

// Holds reports whether a case with this status and assignee satisfies the rule.
func (r NoticeRule) Holds(status Status, assignee string) bool {
	if len(r.Statuses) > 0 && !slices.Contains(r.Statuses, status) {
		return false
	}
	return r.Assignee == "" || r.Assignee == assignee
}

// NoticeAmendment replaces a notice queued with a Delay by one saying more,
// if it has not gone out yet: the pending row keyed Drop is dropped and
// Replacement queued instead; when it has gone out (or is going out) FollowUp
// is queued after it, so what is new is said either way.
type NoticeAmendment struct {
	Drop        string
	Replacement Notice
	FollowUp    Notice
}

// Outbox kinds.
const (
	OutboxText     = "cs_text"  // customer-service text message to an openid
	OutboxTemplate = "template" // template message to an openid
	OutboxRobot    = "robot"    // WeCom group robot post
	// OutboxMedia is a customer-service image or voice message: one of a
	// case's attachments, uploaded as temporary media when it is sent.
	OutboxMedia = "cs_media"
)

// Outbox statuses.
const (
	OutboxPending = "pending" // waiting, or between attempts
	OutboxSent    = "sent"    // WeChat accepted it
	OutboxDead    = "dead"    // given up: a permanent refusal, or out of attempts; last_error says why
	OutboxDropped = "dropped" // not sent on purpose: superseded or no longer true; last_error says why
)

// OutboxMessage is one queued send.
type OutboxMessage struct {
	ID          int64      `db:"id" json:"id"`
	IdemKey     string     `db:"idem_key" json:"idem_key"`
	Kind        string     `db:"kind" json:"kind"`
	Recipient   string     `db:"recipient" json:"-"`
	Payload     string     `db:"payload" json:"payload"`
	CaseID      *int64     `db:"case_id" json:"case_id,omitempty"`
	Status      string     `db:"status" json:"status"`
	Attempts    int        `db:"attempts" json:"attempts"`
	NextAttempt time.Time  `db:"next_attempt" json:"next_attempt"`
	LeaseOwner  string     `db:"lease_owner" json:"-"`
	LeaseUntil  *time.Time `db:"lease_until" json:"-"`
	LastError   string     `db:"last_error" json:"last_error,omitempty"`
	CreatedAt   time.Time  `db:"created_at" json:"created_at"`
	SentAt      *time.Time `db:"sent_at" json:"sent_at,omitempty"`
	Via         string     `db:"via" json:"via,omitempty"` // how it went out: custom, template, robot
	// ValidWhile is the notice's NoticeRule as JSON; "" is always valid.
	ValidWhile string `db:"valid_while" json:"valid_while,omitempty"`
}

// TextPayload is the payload of a customer-service text message.
type TextPayload struct {
	Text string `json:"text"`
}

// NotifyPayload is the payload of a customer-service text message that has a
// way to reach its recipient outside the 48-hour window: when WeChat refuses
// the text with 45015, Template is sent instead. It is TextPayload plus the
// fallback, so a TextPayload row reads as a NotifyPayload without one.
type NotifyPayload struct {
	Text     string           `json:"text"`
	Template *TemplatePayload `json:"template,omitempty"`
}

// TemplatePayload is a template message (kind OutboxTemplate, or the
// fallback of a NotifyPayload). Its client_msg_id is derived from the outbox
// row's idem_key, so retries are one message to WeChat.
type TemplatePayload struct {
	// TemplateID may be empty: the notifier then uses the configured
	// template (LIANXIN_WECHAT_TEMPLATE_ID).
	TemplateID string            `json:"template_id,omitempty"`
	URL        string            `json:"url,omitempty"`
	Data       map[string]string `json:"data"` // first, keyword1..n, remark
}

// RobotPayload is a WeCom group-robot post (kind OutboxRobot). The row's
// recipient is the robot's webhook URL or a station key the notifier maps
// to one.
type RobotPayload struct {
	MsgType          string   `json:"msgtype"` // "text" or "markdown"
	Content          string   `json:"content"`
	MentionedMobiles []string `json:"mentioned_mobiles,omitempty"`
}

// MediaPayload is the payload of an OutboxMedia row: the attachment to
// send. The worker sends a photo as an image and a voice message as voice,
// uploading it once and reusing the upload while WeChat keeps it.
type MediaPayload struct {
	AttachmentID int64 `json:"attachment_id"`
}

// DeputyRecipientPrefix marks an outbox recipient that is a deputy rather
// than an openid. Openids never contain a colon.
const DeputyRecipientPrefix = "deputy:"

// DeputyRecipient is how an outbox row addresses a deputy: the notifier
// resolves it to the WeChat user bound at send time, so a notification
// queued before the deputy binds is delivered once they do.
func DeputyRecipient(id string) string { return DeputyRecipientPrefix + id }
