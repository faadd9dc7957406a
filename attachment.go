package lianxin

import "time"

// AttachmentStatus is how far a photo or voice got on its way to local storage.
type AttachmentStatus string

// Attachment statuses.
const (
	AttachmentPending AttachmentStatus = "pending"
	AttachmentStored  AttachmentStatus = "stored"
	AttachmentFailed  AttachmentStatus = "failed"
)

// Attachment is a photo or voice message a resident sent with a report.
type Attachment struct {
	ID        int64            `json:"id" db:"id"`
	CaseID    *int64           `json:"-" db:"case_id"`
	Kind      MsgKind          `json:"kind" db:"kind"`
	MediaID   string           `json:"media_id" db:"media_id"`
	PicURL    string           `json:"pic_url,omitempty" db:"pic_url"`
	Status    AttachmentStatus `json:"status" db:"status"`
	Path      string           `json:"path,omitempty" db:"path"`
	ThumbPath string           `json:"thumb_path,omitempty" db:"thumb_path"`
	SHA256    string           `json:"sha256,omitempty" db:"sha256"`
	Mime      string           `json:"mime,omitempty" db:"mime"`
	Size      int64            `json:"size,omitempty" db:"size"`
	Error     string           `json:"error,omitempty" db:"error"`
	Attempts  int              `json:"attempts" db:"attempts"`
	// Recognition is WeChat's text of a voice message.
	Recognition string `json:"recognition,omitempty" db:"recognition"`
	// Hidden: staff hid it (abusive, or someone's privacy); only admins
	// still see the original.
	Hidden    bool      `json:"hidden,omitempty" db:"hidden"`
	CreatedAt time.Time `json:"created_at" db:"created_at"`
	// The upload of a stored file as WeChat temporary media, to send it on
	// to a deputy; reused while WeChat keeps it (MediaLifetime).
	UploadedMediaID string     `json:"-" db:"wx_media_id"`
	UploadedAt      *time.Time `json:"-" db:"wx_uploaded_at"`
}

// MediaLifetime is how long WeChat keeps a user's media for media/get.
const MediaLifetime = 72 * time.Hour

// MediaJob is a pending attachment a media worker has claimed.
type MediaJob struct {
	ID        int64     `db:"id"`
	Kind      MsgKind   `db:"kind"`
	MediaID   string    `db:"media_id"`
	PicURL    string    `db:"pic_url"`
	Attempts  int       `db:"attempts"` // including the one this claim starts
	ExpiresAt time.Time `db:"expires_at"`
	LastError string    `db:"error"` // why the previous attempt failed
}

// StoredMedia is where a fetched attachment ended up. Paths are relative to
// the data directory, so the directory can move.
type StoredMedia struct {
	Path      string
	ThumbPath string // "" when there is none (voice)
	SHA256    string
	Mime      string
	Size      int64
}
