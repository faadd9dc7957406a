// Package media owns the photo and voice pipeline: every image or voice
// message a resident sends is registered in SQLite the moment it arrives
// (store.RegisterAttachment), and this package's Worker fetches it from
// WeChat in the background (media/get by MediaId, the PicUrl as fallback),
// with bounded concurrency and retries with backoff until WeChat's 3-day
// limit, then stores it under the data directory, content-addressed, with
// EXIF and GPS gone and a thumbnail made (see image.go for the decisions).
//
// Nothing here runs on the webhook path: the webhook only registers the row
// and calls Notify, so a slow or dead media API never delays a reply.
//
// Several serve processes may share one database: a worker claims due rows
// with a lease (store.ClaimAttachments), so no two fetch the same row at once,
// and a process that dies mid-fetch leaves a lease that runs out and lets
// another take the row over.
package media

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"os"
	"path"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lianxin/lianxin"
	"github.com/lianxin/lianxin/bot/wxapi"
	"github.com/lianxin/lianxin/internal/queue"
)

// Store is the attachment queue as the worker sees it (store.DB).
type Store interface {
	ClaimAttachments(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]lianxin.MediaJob, error)
	MarkAttachmentStored(ctx context.Context, id int64, owner string, now time.Time, f lianxin.StoredMedia) error
	RetryAttachment(ctx context.Context, id int64, owner string, now, next time.Time, reason string) error
	MarkAttachmentFailed(ctx context.Context, id int64, owner string, now time.Time, reason string) error
}

// API downloads media (wxapi.Client). Its errors are classified with the
// wxapi kinds (wxapi.ErrTransient, wxapi.ErrInvalidMedia, ...).
type API interface {
	GetMedia(ctx context.Context, mediaID string) (data []byte, contentType string, err error)
	GetURL(ctx context.Context, picURL string) (data []byte, contentType string, err error)
}

// Defaults for Config's zero fields.
const (
	DefaultConcurrency = 8
	DefaultMaxSize     = 10 << 20
	DefaultThumbSize   = 320
	DefaultLease       = 2 * time.Minute
	DefaultInterval    = 5 * time.Second
	DefaultRetryBase   = 30 * time.Second
	DefaultRetryMax    = time.Hour
)

// Config configures a Worker.
type Config struct {
	// DataDir is LIANXIN_DATA_DIR; files go under DataDir/media/. Required.
	DataDir string
	// Concurrency is how many downloads run at once (workers.media, default
	// 8). Processing photos, which is CPU and memory work, is limited apart
	// (PhotoCPU, PhotoMemory; see budget.go).
	Concurrency int
	// PhotoCPU is how many photos are processed at once (default: one fewer
	// than the CPUs the process may use, counting a cgroup quota, at least
	// one), so the webhook always has a core's worth to answer in.
	PhotoCPU int
	// PhotoMemory is the memory, in bytes, that photos being processed may
	// take together (default DefaultPhotoMemory, 256 MiB); a photo that
	// alone needs more is refused.
	PhotoMemory int64
	// MaxSize refuses larger files (default 10 MiB).
	MaxSize int64
	// ThumbSize is the thumbnail's longer side in pixels (default 320).
	ThumbSize int
	// Pacing: lease 2 min (it must exceed the API client's timeout), a look
	// for due rows every 5 s, retries from 30 s doubling to 1 h, which go on
	// until the media's expiry, 72 h after it was sent.
	queue.Pacing
	// Registerer, when set, gets the worker's metrics.
	Registerer prometheus.Registerer
}

// Worker fetches and stores pending attachments.
// Notify (an attachment was registered: fetch it now), Run and Poll come
// from the embedded queue runner.
type Worker struct {
	*queue.Runner[lianxin.MediaJob]
	db   Store
	api  API
	cfg  Config
	lim  *photoLimits
	done *prometheus.CounterVec
}

// NewWorker returns a worker; call Run, or Poll to drive it step by step.
func NewWorker(db Store, api API, cfg Config) (*Worker, error) {
	if cfg.DataDir == "" {
		return nil, errors.New("media: DataDir is required")
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	if cfg.MaxSize <= 0 {
		cfg.MaxSize = DefaultMaxSize
	}
	if cfg.ThumbSize <= 0 {
		cfg.ThumbSize = DefaultThumbSize
	}
	if cfg.PhotoCPU <= 0 {
		cfg.PhotoCPU = defaultPhotoCPU()
	}
	if cfg.PhotoMemory <= 0 {
		cfg.PhotoMemory = DefaultPhotoMemory
	}
	cfg.Pacing = cfg.Pacing.WithDefaults("media", queue.Pacing{
		Lease: DefaultLease, Interval: DefaultInterval, RetryBase: DefaultRetryBase, RetryMax: DefaultRetryMax})
	w := &Worker{
		db: db, api: api, cfg: cfg,
		lim: newPhotoLimits(cfg.ThumbSize, maxPixels, cfg.PhotoCPU, cfg.PhotoMemory),
		done: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lianxin_media_attempts_total",
			Help: "Attachment fetch attempts by outcome: stored, retry (will try again), failed (given up).",
		}, []string{"outcome"}),
	}
	if cfg.Registerer != nil {
		if err := cfg.Registerer.Register(w.done); err != nil {
			return nil, fmt.Errorf("media: metrics: %w", err)
		}
	}
	w.Runner = queue.NewRunner("media queue", cfg.Pacing, cfg.Concurrency, db.ClaimAttachments, w.process)
	return w, nil
}

func (w *Worker) process(ctx context.Context, j lianxin.MediaJob) {
	log := w.cfg.Log.With("attachment", j.ID, "kind", string(j.Kind), "attempt", j.Attempts)
	if now := w.cfg.Now(); !now.Before(j.ExpiresAt) {
		reason := "not fetched within WeChat's 3-day limit"
		if j.LastError != "" {
			reason += "; last error: " + j.LastError
		}
		w.fail(ctx, log, j, reason)
		return
	}
	data, contentType, via, err := w.fetch(ctx, j)
	if err != nil {
		switch {
		case ctx.Err() != nil:
			// Shutting down: hand the row back as it was, due at once.
			w.retry(ctx, log, j, w.cfg.Now(), j.LastError)
		case retryable(err):
			next := w.cfg.NextAttempt(j.Attempts)
			w.retry(ctx, log, j, earlier(next, j.ExpiresAt), err.Error())
		default:
			w.fail(ctx, log, j, err.Error())
		}
		return
	}
	f, err := w.save(ctx, j, data, contentType)
	var rj *rejectError
	switch {
	case err != nil && ctx.Err() != nil:
		// Shutting down while waiting for memory or a CPU slot: not the
		// photo's fault nor the disk's. Hand the row back as it was, due at
		// once.
		w.retry(ctx, log, j, w.cfg.Now(), j.LastError)
		return
	case errors.As(err, &rj):
		w.fail(ctx, log, j, rj.reason)
		return
	case err != nil:
		// The disk, not the photo: try again later.
		log.Error("media queue: storing failed", "err", err)
		next := w.cfg.NextAttempt(j.Attempts)
		w.retry(ctx, log, j, earlier(next, j.ExpiresAt), "storing failed: "+err.Error())
		return
	}
	if err := w.db.MarkAttachmentStored(context.WithoutCancel(ctx), j.ID, w.cfg.Owner, w.cfg.Now(), f); err != nil {
		log.Warn("media queue: recording the stored file failed", "err", err)
		return
	}
	w.done.WithLabelValues("stored").Inc()
	log.Info("attachment stored", "via", via, "mime", f.Mime, "size", f.Size)
}

// fetch downloads by media id, and by PicUrl when WeChat no longer knows the
// id (an image message carries both).
func (w *Worker) fetch(ctx context.Context, j lianxin.MediaJob) (data []byte, contentType, via string, err error) {
	data, contentType, err = w.api.GetMedia(ctx, j.MediaID)
	if err == nil {
		return data, contentType, "media/get", w.checkSize(data)
	}
	if !errors.Is(err, wxapi.ErrInvalidMedia) || j.PicURL == "" {
		return nil, "", "", err
	}
	data, contentType, ferr := w.api.GetURL(ctx, j.PicURL)
	if ferr != nil {
		return nil, "", "", &fallbackError{first: err, fallback: ferr}
	}
	return data, contentType, "picurl", w.checkSize(data)
}

func (w *Worker) checkSize(data []byte) error {
	if int64(len(data)) > w.cfg.MaxSize {
		return &wxapi.APIError{API: "media", Msg: fmt.Sprintf("larger than %d bytes", w.cfg.MaxSize), Kind: wxapi.ErrTooLarge}
	}
	return nil
}

// fallbackError is media/get refusing the id and the PicUrl failing too; it
// is as retryable as the PicUrl failure.
type fallbackError struct{ first, fallback error }

func (e *fallbackError) Error() string {
	return e.first.Error() + "; PicUrl fallback: " + e.fallback.Error()
}

func (e *fallbackError) Unwrap() error { return e.fallback }

// retryable reports whether trying again later can succeed: WeChat or the
// network failing, a quota, a token or credential problem an operator can
// fix within the 3 days. A media id WeChat does not know, a file too large or
// any other refusal is final.
func retryable(err error) bool {
	var ae *wxapi.APIError
	if !errors.As(err, &ae) {
		return true // not a classified API answer: assume the network
	}
	for _, k := range []error{wxapi.ErrTransient, wxapi.ErrRateLimited, wxapi.ErrInvalidToken, wxapi.ErrUnauthorized} {
		if errors.Is(err, k) {
			return true
		}
	}
	return false
}

// earlier caps a retry at the media's expiry, when the row is claimed once
// more only to be marked failed.
func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func (w *Worker) retry(ctx context.Context, log *slog.Logger, j lianxin.MediaJob, next time.Time, reason string) {
	if err := w.db.RetryAttachment(context.WithoutCancel(ctx), j.ID, w.cfg.Owner, w.cfg.Now(), next, reason); err != nil {
		log.Warn("media queue: rescheduling failed; the lease will run out", "err", err)
		return
	}
	w.done.WithLabelValues("retry").Inc()
	log.Info("attachment fetch failed; will retry", "next", next, "err", reason)
}

func (w *Worker) fail(ctx context.Context, log *slog.Logger, j lianxin.MediaJob, reason string) {
	if err := w.db.MarkAttachmentFailed(context.WithoutCancel(ctx), j.ID, w.cfg.Owner, w.cfg.Now(), reason); err != nil {
		log.Warn("media queue: marking failed failed; the lease will run out", "err", err)
		return
	}
	w.done.WithLabelValues("failed").Inc()
	log.Warn("attachment given up", "reason", reason)
}

// save turns what was downloaded into files: photos sanitised (image.go),
// voice and anything else stored as it came.
func (w *Worker) save(ctx context.Context, j lianxin.MediaJob, data []byte, contentType string) (lianxin.StoredMedia, error) {
	if j.Kind != lianxin.KindImage {
		mt, ext := audioType(data, contentType)
		rel, sum := contentPath(data, ext)
		if err := w.put(rel, data); err != nil {
			return lianxin.StoredMedia{}, err
		}
		return lianxin.StoredMedia{Path: rel, SHA256: sum, Mime: mt, Size: int64(len(data))}, nil
	}
	// CPU-bound and memory-hungry: within the photo limits, however many
	// downloads are in flight.
	p, err := w.lim.sanitize(ctx, data)
	if err != nil {
		return lianxin.StoredMedia{}, err
	}
	rel, sum := contentPath(p.data, p.ext)
	thumb := thumbPath(rel)
	// The thumbnail first: a stored photo whose thumbnail is missing would
	// look complete but is not.
	if err := w.put(thumb, p.thumb); err != nil {
		return lianxin.StoredMedia{}, err
	}
	if err := w.put(rel, p.data); err != nil {
		return lianxin.StoredMedia{}, err
	}
	return lianxin.StoredMedia{Path: rel, ThumbPath: thumb, SHA256: sum, Mime: p.mime, Size: int64(len(p.data))}, nil
}

// contentPath is where bytes live: media/ab/cd/<sha256><ext>, named by the
// SHA-256 of the stored bytes so identical files are stored once. Paths are
// slash-separated and relative to the data directory.
func contentPath(data []byte, ext string) (rel, sum string) {
	h := sha256.Sum256(data)
	sum = hex.EncodeToString(h[:])
	return path.Join("media", sum[:2], sum[2:4], sum+ext), sum
}

// thumbPath is a photo's thumbnail beside it. The photo's bytes determine
// the thumbnail's, so it is content-addressed too.
func thumbPath(rel string) string {
	return rel[:len(rel)-len(path.Ext(rel))] + ".thumb.jpg"
}

// put writes data to rel under the data directory unless it is there
// already, through a temporary file renamed into place, so a reader (or a
// crash) never sees half a file.
func (w *Worker) put(rel string, data []byte) error {
	full := filepath.Join(w.cfg.DataDir, filepath.FromSlash(rel))
	if fi, err := os.Stat(full); err == nil && fi.Size() == int64(len(data)) {
		return nil // same name, same content
	}
	dir := filepath.Dir(full)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".incoming-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // a no-op once renamed
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp, 0o640); err != nil {
		return err
	}
	return os.Rename(tmp, full)
}

// audioType names voice data (WeChat serves AMR) by its leading bytes,
// falling back on what the server said.
func audioType(data []byte, contentType string) (mimeType, ext string) {
	switch {
	case bytes.HasPrefix(data, []byte("#!AMR")):
		return "audio/amr", ".amr"
	case bytes.HasPrefix(data, []byte("#!SILK")):
		return "audio/silk", ".silk"
	case bytes.HasPrefix(data, []byte("OggS")):
		return "audio/ogg", ".ogg"
	case bytes.HasPrefix(data, []byte("ID3")):
		return "audio/mpeg", ".mp3"
	}
	if contentType != "" {
		if exts, _ := mime.ExtensionsByType(contentType); len(exts) > 0 {
			return contentType, exts[0]
		}
		if contentType == "audio/speex" {
			return contentType, ".speex"
		}
		return contentType, ".bin"
	}
	return "application/octet-stream", ".bin"
}
