package fakewx

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
	"time"

	"github.com/lianxin/lianxin/internal/wxtest/photos"
)

// mediaItem is one temporary media file, as WeChat keeps what a user sent.
type mediaItem struct {
	contentType string
	data        []byte
	created     time.Time
}

// NewMediaID returns a fresh id shaped like WeChat's: 64 URL-safe characters.
func NewMediaID() string {
	b := make([]byte, 48)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// AddMedia registers data under id, as if a user had just sent it. The data
// is copied.
func (s *Server) AddMedia(id, contentType string, data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.media[id] = &mediaItem{
		contentType: contentType,
		data:        append([]byte(nil), data...),
		created:     s.opts.Now(),
	}
}

// Media returns what is registered under id, for assertions.
func (s *Server) Media(id string) (contentType string, data []byte, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.media[id]
	if !ok {
		return "", nil, false
	}
	return m.contentType, m.data, true
}

// AddGeneratedPhoto registers a 640x480 phone photo taken at lat, lng (EXIF
// with GPS, see JPEGWithGPS) and returns its media id.
func (s *Server) AddGeneratedPhoto(lat, lng float64) string {
	id := NewMediaID()
	s.AddMedia(id, "image/jpeg", photos.JPEGWithGPS(640, 480, lat, lng))
	return id
}

// AddVoice registers VoiceAMR as a voice message and returns its media id.
func (s *Server) AddVoice() string {
	id := NewMediaID()
	s.AddMedia(id, "audio/amr", VoiceAMR())
	return id
}

// PicURL is the PicUrl WeChat would put in an image message for mediaID: a
// link that serves the bytes without an access_token.
func (s *Server) PicURL(mediaID string) string {
	return s.URL() + PathPic + mediaID
}

// mediaType is WeChat's media type name for a content type.
func mediaType(contentType string) string {
	switch {
	case strings.HasPrefix(contentType, "image/"):
		return "image"
	case strings.HasPrefix(contentType, "audio/"):
		return "voice"
	case strings.HasPrefix(contentType, "video/"):
		return "video"
	}
	return "file"
}

func extension(contentType string) string {
	switch contentType {
	case "image/jpeg":
		return ".jpg"
	case "image/png":
		return ".png"
	case "image/gif":
		return ".gif"
	case "audio/amr":
		return ".amr"
	case "audio/speex":
		return ".speex"
	case "video/mp4":
		return ".mp4"
	}
	if exts, _ := mime.ExtensionsByType(contentType); len(exts) > 0 {
		return exts[0]
	}
	return ".bin"
}

// serveMediaGet is GET /cgi-bin/media/get: the bytes with their Content-Type
// and an attachment filename named after the media id, as WeChat serves them;
// errors come back as JSON with HTTP 200, which is how the SDK's
// util.HandleFileResponse tells them from a file.
//
// Video is served as bytes too; real WeChat answers video ids with a JSON
// {"video_url":...} instead, which this project does not fetch.
func (s *Server) serveMediaGet(r *http.Request, _ []byte) reply {
	id := r.URL.Query().Get("media_id")
	if id == "" {
		return wxError(41006, "media_id missing")
	}
	s.mu.Lock()
	m, ok := s.media[id]
	expired := ok && s.opts.Now().Sub(m.created) > s.opts.MediaTTL
	s.mu.Unlock()
	if !ok && s.opts.MediaFallback != nil {
		if ct, data, found := s.opts.MediaFallback(id); found {
			m, ok = &mediaItem{contentType: ct, data: data, created: s.opts.Now()}, true
		}
	}
	if !ok || expired {
		return wxError(40007, "invalid media_id")
	}
	h := http.Header{}
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s%s"`, id, extension(m.contentType)))
	h.Set("Cache-Control", "no-cache, must-revalidate")
	return reply{status: http.StatusOK, contentType: m.contentType, header: h, body: m.data}
}

// servePic is the PicUrl fallback: a CDN link, so no token, and a plain 404
// for what it does not have.
func (s *Server) servePic(id string) reply {
	s.mu.Lock()
	m, ok := s.media[id]
	s.mu.Unlock()
	if !ok && s.opts.MediaFallback != nil {
		if ct, data, found := s.opts.MediaFallback(id); found {
			m, ok = &mediaItem{contentType: ct, data: data, created: s.opts.Now()}, true
		}
	}
	if !ok {
		return reply{status: http.StatusNotFound, contentType: "text/plain; charset=utf-8", body: []byte("not found\n")}
	}
	return reply{status: http.StatusOK, contentType: m.contentType, body: m.data}
}

// serveUploadMedia is POST /fakewx/media, how the simulator hands the fake a
// file a resident "sends": either a raw body whose Content-Type gives the type,
// or multipart/form-data with the file in field "media" (the field name
// WeChat's own upload uses). ?media_id= picks the id; otherwise one is made.
// The answer mirrors WeChat's upload answer plus the PicUrl to put in the
// message.
func (s *Server) serveUploadMedia(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	contentType := r.Header.Get("Content-Type")
	var data []byte
	var err error
	if mt, _, _ := mime.ParseMediaType(contentType); mt == "multipart/form-data" {
		f, hdr, ferr := r.FormFile("media")
		if ferr != nil {
			http.Error(w, "multipart upload needs a file in field \"media\": "+ferr.Error(), http.StatusBadRequest)
			return
		}
		data, err = io.ReadAll(f)
		f.Close()
		contentType = hdr.Header.Get("Content-Type")
	} else {
		data, err = io.ReadAll(r.Body)
	}
	if err != nil {
		http.Error(w, "reading upload: "+err.Error(), http.StatusBadRequest)
		return
	}
	if len(data) == 0 {
		http.Error(w, "empty upload", http.StatusBadRequest)
		return
	}
	if contentType == "" || contentType == "application/octet-stream" {
		contentType = http.DetectContentType(data)
	}
	if mt, _, err := mime.ParseMediaType(contentType); err == nil {
		contentType = mt
	}
	id := r.URL.Query().Get("media_id")
	if id == "" {
		id = NewMediaID()
	}
	s.AddMedia(id, contentType, data)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	json.NewEncoder(w).Encode(struct {
		Type      string `json:"type"`
		MediaID   string `json:"media_id"`
		CreatedAt int64  `json:"created_at"`
		PicURL    string `json:"pic_url"`
	}{mediaType(contentType), id, s.opts.Now().Unix(), picURLFor(r, id)})
}

// picURLFor builds the PicUrl from the request's own host, so it is right
// whether the fake runs on its own listener or is mounted in another server.
func picURLFor(r *http.Request, id string) string {
	return "http://" + r.Host + PathPic + id
}

// VoiceAMR returns one second of AMR-NB silence ("#!AMR\n" and fifty 12.2
// kbit/s frames), the format WeChat serves voice messages in. It is a valid
// file header and frame layout, not speech.
func VoiceAMR() []byte {
	b := []byte("#!AMR\n")
	for range 50 {
		frame := make([]byte, 32)
		frame[0] = 0x3C // FT=7 (12.2 kbit/s), quality bit set
		b = append(b, frame...)
	}
	return b
}

// serveMediaUpload is POST /cgi-bin/media/upload?type=T: temporary media the
// account uploads (multipart/form-data, the file in field "media"), kept
// MediaTTL like a user's, answered with a fresh media_id. Uploaded files
// are registered like AddMedia's, so tests read them back with Media.
func (s *Server) serveMediaUpload(r *http.Request, body []byte) reply {
	kind := r.URL.Query().Get("type")
	switch kind {
	case "image", "voice", "video", "thumb":
	default:
		return wxError(40004, "invalid media type")
	}
	_, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || params["boundary"] == "" {
		return wxError(41005, "media data missing")
	}
	form, err := multipart.NewReader(bytes.NewReader(body), params["boundary"]).ReadForm(maxBody)
	if err != nil {
		return wxError(41005, "media data missing")
	}
	defer form.RemoveAll()
	files := form.File["media"]
	if len(files) == 0 {
		return wxError(41005, "media data missing")
	}
	f, err := files[0].Open()
	if err != nil {
		return wxError(41005, "media data missing")
	}
	data, err := io.ReadAll(f)
	f.Close()
	if err != nil || len(data) == 0 {
		return wxError(41005, "media data missing")
	}
	contentType := files[0].Header.Get("Content-Type")
	if contentType == "" || contentType == "application/octet-stream" {
		contentType = http.DetectContentType(data)
		if kind == "voice" {
			contentType = "audio/amr"
		}
	}
	id := NewMediaID()
	s.AddMedia(id, contentType, data)
	return jsonReply(struct {
		Type      string `json:"type"`
		MediaID   string `json:"media_id"`
		CreatedAt int64  `json:"created_at"`
	}{kind, id, s.opts.Now().Unix()})
}

// mediaKnown reports whether id is media WeChat still keeps (a user's or an
// upload), for sends that refer to it.
func (s *Server) mediaKnown(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.media[id]
	return ok && s.opts.Now().Sub(m.created) <= s.opts.MediaTTL
}
