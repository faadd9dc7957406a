package media_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/silenceper/wechat/v2/util"

	"github.com/lianxin/lianxin"
	"github.com/lianxin/lianxin/bot/media"
	"github.com/lianxin/lianxin/bot/wxapi"
	"github.com/lianxin/lianxin/internal/queue"
	"github.com/lianxin/lianxin/internal/testenv"
	"github.com/lianxin/lianxin/internal/wxtest/fakewx"
	"github.com/lianxin/lianxin/internal/wxtest/photos"
	"github.com/lianxin/lianxin/store"
)

// TestMain installs the production HTTP client as the SDK's, once, as cmd
// does; each test points its own API client at its own fake through
// wxapi.Config.Base.
func TestMain(m *testing.M) {
	util.DefaultHTTPClient = wxapi.HTTPClient()
	os.Exit(m.Run())
}

// env is one deployment: a fake WeChat, an SQLite file, a data directory.
type env struct {
	fake  *fakewx.Server
	db    *store.DB
	api   *wxapi.Client
	clk   *testenv.Clock
	dir   string
	dbDir string
	msgID atomic.Int64
}

func newEnv(t testing.TB) *env {
	t.Helper()
	fake := fakewx.New(fakewx.Options{})
	if err := fake.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fake.Close() })
	e := &env{fake: fake, clk: testenv.NewClock(time.Now().UTC().Truncate(time.Second)), dir: t.TempDir(), dbDir: testenv.DBPath(t)}
	e.db = e.open(t)
	api, err := wxapi.New(wxapi.Config{
		AppID: "wx" + testenv.Prefix(t), AppSecret: "secret", Base: fake.URL(), Redis: testenv.Redis(t), Timeout: 5 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	e.api = api
	return e
}

// open opens the env's database file again: another process's handle.
func (e *env) open(t testing.TB) *store.DB {
	db, err := store.Open(context.Background(), e.dbDir)
	if err != nil {
		t.Fatal(err)
	}
	db.Now = e.clk.Now
	t.Cleanup(func() { db.Close() })
	return db
}

func (e *env) worker(t testing.TB, db media.Store, mod func(*media.Config)) *media.Worker {
	t.Helper()
	cfg := media.Config{DataDir: e.dir, Pacing: queue.Pacing{Now: e.clk.Now, Rand: func() float64 { return 0.5 }}}
	if mod != nil {
		mod(&cfg)
	}
	w, err := media.NewWorker(db, e.api, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// register records an image (or voice) message as the webhook does.
func (e *env) register(t testing.TB, kind lianxin.MsgKind, mediaID, picURL string) int64 {
	t.Helper()
	m := &lianxin.Inbound{Account: "gh_test", OpenID: "oResident1", Kind: kind, MsgID: e.msgID.Add(1),
		CreateTime: e.clk.Now().Unix(), MediaID: mediaID, PicURL: picURL}
	if kind == lianxin.KindVoice {
		m.Text = "楼道的灯坏了"
	}
	id, err := e.db.RegisterAttachment(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// photo registers a small phone photo (with GPS), distinct per i; small
// because the race detector makes image coding slow.
func (e *env) photo(t testing.TB, i int) int64 {
	id := fakewx.NewMediaID()
	e.fake.AddMedia(id, "image/jpeg", photos.JPEGWithGPS(96, 64, 37.85+float64(i)/1000, 113.58))
	return e.register(t, lianxin.KindImage, id, e.fake.PicURL(id))
}

// phonePhoto registers a full 640x480 phone photo.
func (e *env) phonePhoto(t testing.TB, i int) int64 {
	id := e.fake.AddGeneratedPhoto(37.85+float64(i)/1000, 113.58)
	return e.register(t, lianxin.KindImage, id, e.fake.PicURL(id))
}

func (e *env) attachment(t testing.TB, id int64) *lianxin.Attachment {
	t.Helper()
	a, err := e.db.Attachment(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func (e *env) read(t testing.TB, rel string) []byte {
	t.Helper()
	if rel == "" || filepath.IsAbs(rel) || strings.Contains(rel, "..") {
		t.Fatalf("stored path %q is not relative to the data directory", rel)
	}
	b, err := os.ReadFile(filepath.Join(e.dir, filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// storedFiles counts the files under media/, thumbnails apart.
func (e *env) storedFiles(t testing.TB) (photos, thumbs int) {
	t.Helper()
	filepath.WalkDir(filepath.Join(e.dir, "media"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		switch {
		case strings.HasPrefix(d.Name(), "."):
			t.Errorf("temporary file left behind: %s", p)
		case strings.HasSuffix(p, ".thumb.jpg"):
			thumbs++
		default:
			photos++
		}
		return nil
	})
	return photos, thumbs
}

func poll(t testing.TB, w *media.Worker, want int) {
	t.Helper()
	n, err := w.Poll(context.Background())
	if err != nil || n != want {
		t.Fatalf("Poll = %d, %v; want %d", n, err, want)
	}
}

// TestPhotosStoredWithoutEXIF: phone photos with GPS in their EXIF are
// stored without any EXIF, content-addressed, with a thumbnail.
func TestPhotosStoredWithoutEXIF(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w := e.worker(t, e.db, nil)
	ids := []int64{e.phonePhoto(t, 1), e.phonePhoto(t, 2), e.phonePhoto(t, 3)}
	poll(t, w, 3)
	for _, id := range ids {
		a := e.attachment(t, id)
		if a.Status != lianxin.AttachmentStored || a.Mime != "image/jpeg" || a.Attempts != 1 || a.Error != "" {
			t.Fatalf("attachment %d: %+v", id, a)
		}
		data := e.read(t, a.Path)
		if photos.HasEXIF(data) || photos.HasGPS(data) {
			t.Errorf("attachment %d stored with EXIF", id)
		}
		sum := sha256.Sum256(data)
		if hex.EncodeToString(sum[:]) != a.SHA256 || int64(len(data)) != a.Size ||
			a.Path != fmt.Sprintf("media/%s/%s/%s.jpg", a.SHA256[:2], a.SHA256[2:4], a.SHA256) {
			t.Errorf("attachment %d: path %s, sha %s, size %d; file sha %x, %d bytes", id, a.Path, a.SHA256, a.Size, sum, len(data))
		}
		img, err := jpeg.Decode(bytes.NewReader(data))
		if err != nil || img.Bounds().Dx() != 640 || img.Bounds().Dy() != 480 {
			t.Errorf("stored photo does not decode as the 640x480 original: %v", err)
		}
		thumb, err := jpeg.Decode(bytes.NewReader(e.read(t, a.ThumbPath)))
		if err != nil || thumb.Bounds().Dx() != 320 || thumb.Bounds().Dy() != 240 {
			t.Errorf("thumbnail: %v, %v", err, thumb.Bounds())
		}
	}
	if photos, thumbs := e.storedFiles(t); photos != 3 || thumbs != 3 {
		t.Errorf("%d photos and %d thumbnails on disk, want 3 and 3", photos, thumbs)
	}
	if n, _ := w.Poll(context.Background()); n != 0 {
		t.Errorf("a second Poll processed %d", n)
	}
}

// TestIdenticalPhotosStoredOnce: the same photo sent twice (two media ids)
// is one file.
func TestIdenticalPhotosStoredOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w := e.worker(t, e.db, nil)
	data := photos.JPEGWithGPS(320, 200, 37.86, 113.58)
	var ids []int64
	for range 3 {
		id := fakewx.NewMediaID()
		e.fake.AddMedia(id, "image/jpeg", data)
		ids = append(ids, e.register(t, lianxin.KindImage, id, ""))
	}
	poll(t, w, 3)
	first := e.attachment(t, ids[0])
	for _, id := range ids[1:] {
		if a := e.attachment(t, id); a.Status != lianxin.AttachmentStored || a.Path != first.Path || a.SHA256 != first.SHA256 {
			t.Errorf("attachment %d: %+v, want the same file as %+v", id, a, first)
		}
	}
	if photos, thumbs := e.storedFiles(t); photos != 1 || thumbs != 1 {
		t.Errorf("%d photos and %d thumbnails on disk, want 1 and 1", photos, thumbs)
	}
}

// TestRefusedFiles: what is not a supported photo, or too big, fails at
// once with the reason, and is not retried.
func TestRefusedFiles(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w := e.worker(t, e.db, nil)
	add := func(contentType string, data []byte) int64 {
		id := fakewx.NewMediaID()
		e.fake.AddMedia(id, contentType, data)
		return e.register(t, lianxin.KindImage, id, "")
	}
	bmp := add("image/bmp", append([]byte("BM"), make([]byte, 100)...))
	heic := add("image/heic", append([]byte("\x00\x00\x00\x18ftypheic"), make([]byte, 100)...))
	corrupt := add("image/jpeg", append([]byte{0xFF, 0xD8, 0xFF, 0xE0}, bytes.Repeat([]byte{7}, 500)...))
	big := add("image/jpeg", append(photos.JPEGWithGPS(64, 64, 1, 1), make([]byte, 10<<20)...))
	poll(t, w, 4)
	for id, want := range map[int64]string{bmp: "unsupported type image/bmp", heic: "unsupported type video/mp4 or HEIC", corrupt: "cannot ", big: "larger than 10485760 bytes"} {
		a := e.attachment(t, id)
		if a.Status != lianxin.AttachmentFailed || !strings.Contains(a.Error, want) || a.Path != "" {
			t.Errorf("attachment %d: status %s, error %q; want failed with %q", id, a.Status, a.Error, want)
		}
	}
	e.clk.Add(80 * time.Hour)
	if n, _ := w.Poll(context.Background()); n != 0 {
		t.Errorf("failed rows were claimed again: %d", n)
	}
	if photos, _ := e.storedFiles(t); photos != 0 {
		t.Errorf("%d files stored", photos)
	}
}

// TestFormats: PNG stays PNG, GIF keeps its first frame, WebP becomes JPEG,
// and a photo taken sideways is stored upright.
func TestFormats(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w := e.worker(t, e.db, nil)
	add := func(contentType string, data []byte) int64 {
		id := fakewx.NewMediaID()
		e.fake.AddMedia(id, contentType, data)
		return e.register(t, lianxin.KindImage, id, "")
	}
	var pngBuf bytes.Buffer
	png.Encode(&pngBuf, solid(30, 20, color.NRGBA{200, 0, 0, 128}))
	pal := color.Palette{color.Black, color.White}
	anim := &gif.GIF{Image: []*image.Paletted{image.NewPaletted(image.Rect(0, 0, 10, 8), pal), image.NewPaletted(image.Rect(0, 0, 10, 8), pal)}, Delay: []int{10, 10}}
	var gifBuf bytes.Buffer
	gif.EncodeAll(&gifBuf, anim)
	webpLossy, _ := base64.StdEncoding.DecodeString("UklGRiIAAABXRUJQVlA4IBYAAAAwAQCdASoBAAEADsD+JaQAA3AAAAAA")

	ids := map[string]int64{
		"png":     add("image/png", pngBuf.Bytes()),
		"gif":     add("image/gif", gifBuf.Bytes()),
		"webp":    add("image/webp", webpLossy),
		"rotated": add("image/jpeg", jpegWithOrientation(t, 40, 20, 6)),
	}
	poll(t, w, 4)
	check := func(name, mime string, decode func([]byte) (image.Image, error), wantW, wantH int) []byte {
		a := e.attachment(t, ids[name])
		if a.Status != lianxin.AttachmentStored || a.Mime != mime {
			t.Fatalf("%s: %+v", name, a)
		}
		data := e.read(t, a.Path)
		img, err := decode(data)
		if err != nil || img.Bounds().Dx() != wantW || img.Bounds().Dy() != wantH {
			t.Errorf("%s: stored image %v, %v; want %dx%d", name, img.Bounds(), err, wantW, wantH)
		}
		if _, err := jpeg.Decode(bytes.NewReader(e.read(t, a.ThumbPath))); err != nil {
			t.Errorf("%s: thumbnail: %v", name, err)
		}
		return data
	}
	check("png", "image/png", func(b []byte) (image.Image, error) { return png.Decode(bytes.NewReader(b)) }, 30, 20)
	gifData := check("gif", "image/gif", func(b []byte) (image.Image, error) { return gif.Decode(bytes.NewReader(b)) }, 10, 8)
	if g, err := gif.DecodeAll(bytes.NewReader(gifData)); err != nil || len(g.Image) != 1 {
		t.Errorf("stored GIF: %v frames, %v; want the first frame only", len(g.Image), err)
	}
	check("webp", "image/jpeg", func(b []byte) (image.Image, error) { return jpeg.Decode(bytes.NewReader(b)) }, 1, 1)
	// A photo taken sideways is stored as taken, losslessly, with its EXIF
	// cut down to the Orientation that tells viewers to turn it.
	rotated := check("rotated", "image/jpeg", func(b []byte) (image.Image, error) { return jpeg.Decode(bytes.NewReader(b)) }, 40, 20)
	if tags := photos.EXIFTags(rotated); len(tags) != 1 || tags[0] != photos.TagOrientation || photos.Orientation(rotated) != 6 {
		t.Errorf("rotated photo: EXIF tags %04X, orientation %d; want the orientation (6) alone", tags, photos.Orientation(rotated))
	}
	// The marker pixel (top-left, red) of a photo taken with the phone
	// turned right ends up top-right once shown upright; in the thumbnail,
	// turned in its pixels, too.
	img, _ := jpeg.Decode(bytes.NewReader(rotated))
	up := photos.Orient(img, photos.Orientation(rotated))
	thumb, _ := jpeg.Decode(bytes.NewReader(e.read(t, e.attachment(t, ids["rotated"]).ThumbPath)))
	for name, img := range map[string]image.Image{"photo shown upright": up, "thumbnail": thumb} {
		if b := img.Bounds(); b.Dx() != 20 || b.Dy() != 40 {
			t.Errorf("%s: %v, want 20x40", name, b)
			continue
		}
		if r, g, _, _ := img.At(19, 0).RGBA(); r>>8 < 180 || g>>8 > 80 {
			t.Errorf("%s: top-right pixel is %v, want the red marker", name, img.At(19, 0))
		}
	}
}

// TestCameraPhotoStoredClean: a resident's phone photo as WeChat serves the
// original (1440x1080 here, taken upright so stored turned, with GPS in its
// EXIF and XMP, a maker note, an ICC profile) is stored with nothing that
// says where, when or with what, shows upright, and has an upright
// thumbnail.
func TestCameraPhotoStoredClean(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w := e.worker(t, e.db, nil)
	orig := photos.Camera(1440, 1080, 6, 11)
	id := fakewx.NewMediaID()
	e.fake.AddMedia(id, "image/jpeg", orig)
	att := e.register(t, lianxin.KindImage, id, "")
	poll(t, w, 1)
	a := e.attachment(t, att)
	if a.Status != lianxin.AttachmentStored || a.Mime != "image/jpeg" {
		t.Fatalf("%+v", a)
	}
	data := e.read(t, a.Path)
	if l := photos.Leaks(data); len(l) > 0 || photos.HasGPS(data) {
		t.Errorf("stored photo leaks %q", l)
	}
	if tags := photos.EXIFTags(data); len(tags) != 1 || tags[0] != photos.TagOrientation {
		t.Errorf("EXIF tags %04X, want the orientation alone", tags)
	}
	img, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if err := photos.Upright(photos.Orient(img, photos.Orientation(data))); err != nil {
		t.Errorf("stored photo, shown with its orientation: %v", err)
	}
	thumb, err := jpeg.Decode(bytes.NewReader(e.read(t, a.ThumbPath)))
	if err != nil {
		t.Fatal(err)
	}
	if b := thumb.Bounds(); b.Dx() != 240 || b.Dy() != 320 {
		t.Errorf("thumbnail %v, want 240x320", b)
	}
	if err := photos.Upright(thumb); err != nil {
		t.Errorf("thumbnail: %v", err)
	}
}

// TestDamagedAndOversizedPhotosRefused: a photo cut short in transfer, and
// a small PNG that would decode to more memory than photos may take, fail
// at once with a reason a case worker can act on; nothing is stored.
func TestDamagedAndOversizedPhotosRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w := e.worker(t, e.db, func(c *media.Config) { c.PhotoMemory = 64 << 20 })
	add := func(contentType string, data []byte) int64 {
		id := fakewx.NewMediaID()
		e.fake.AddMedia(id, contentType, data)
		return e.register(t, lianxin.KindImage, id, "")
	}
	good := photos.Camera(640, 480, 1, 12)
	cut := add("image/jpeg", good[:len(good)*3/4])
	cutThenEnd := add("image/jpeg", append(bytes.Clone(good[:len(good)*3/4]), 0xFF, 0xD9))
	bomb := add("image/png", photos.BlankPNG(4000, 3000, false))
	poll(t, w, 3)
	for id, want := range map[int64][]string{
		cut:        {"cannot read the image/jpeg: truncated"},
		cutThenEnd: {"cannot decode the image/jpeg: truncated"},
		bomb:       {"image is 4000x3000 pixels (8-bit PNG)", "more than the 64 MiB allowed for photos"},
	} {
		a := e.attachment(t, id)
		for _, w := range want {
			if a.Status != lianxin.AttachmentFailed || !strings.Contains(a.Error, w) || a.Path != "" {
				t.Errorf("attachment %d: status %s, error %q; want failed with %q", id, a.Status, a.Error, w)
			}
		}
	}
	if photos, _ := e.storedFiles(t); photos != 0 {
		t.Errorf("%d files stored", photos)
	}
}

// TestVoiceStoredAsIs: a voice message's audio is stored byte for byte.
func TestVoiceStoredAsIs(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w := e.worker(t, e.db, nil)
	id := e.register(t, lianxin.KindVoice, e.fake.AddVoice(), "")
	poll(t, w, 1)
	a := e.attachment(t, id)
	if a.Status != lianxin.AttachmentStored || a.Mime != "audio/amr" || a.ThumbPath != "" || !strings.HasSuffix(a.Path, ".amr") {
		t.Fatalf("voice: %+v", a)
	}
	if !bytes.Equal(e.read(t, a.Path), fakewx.VoiceAMR()) {
		t.Error("stored voice differs from what WeChat served")
	}
}

// TestMediaAPIDownThenBack: while media/get is down every photo waits and
// backs off; once it is back, every photo is stored and none is lost.
func TestMediaAPIDownThenBack(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w := e.worker(t, e.db, nil)
	const n = 12
	var ids []int64
	for i := range n {
		ids = append(ids, e.photo(t, i))
	}
	e.fake.SetDown(fakewx.PathMediaGet, true)
	poll(t, w, n)
	for _, id := range ids {
		if a := e.attachment(t, id); a.Status != lianxin.AttachmentPending || !strings.Contains(a.Error, "HTTP 503") {
			t.Fatalf("while down: %+v", a)
		}
	}
	// Not due again until the backoff has passed (RetryBase 30 s, jitter at
	// its midpoint: 22.5 s).
	e.clk.Add(20 * time.Second)
	poll(t, w, 0)
	e.clk.Add(5 * time.Second)
	poll(t, w, n)
	// Still down: the second backoff is longer (45 s).
	e.clk.Add(40 * time.Second)
	poll(t, w, 0)

	e.fake.SetDown(fakewx.PathMediaGet, false)
	e.clk.Add(10 * time.Second)
	poll(t, w, n)
	for _, id := range ids {
		if a := e.attachment(t, id); a.Status != lianxin.AttachmentStored || a.Attempts != 3 || a.Error != "" {
			t.Errorf("after recovery: %+v", a)
		}
	}
	ok := 0
	for _, c := range e.fake.CallsTo(fakewx.PathMediaGet) {
		if c.Status == 200 {
			ok++
		}
	}
	if ok != n {
		t.Errorf("%d successful media/get calls, want %d (one per photo)", ok, n)
	}
	if photos, _ := e.storedFiles(t); photos != n {
		t.Errorf("%d photos on disk, want %d", photos, n)
	}
}

// TestInvalidMediaFallsBackToPicURL: when WeChat no longer knows the media
// id, the PicUrl the message carried is fetched instead.
func TestInvalidMediaFallsBackToPicURL(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w := e.worker(t, e.db, nil)
	real := e.fake.AddGeneratedPhoto(37.86, 113.58)
	viaPic := e.register(t, lianxin.KindImage, "forgotten-by-wechat", e.fake.PicURL(real))
	noPic := e.register(t, lianxin.KindImage, "forgotten-too", "")
	deadPic := e.register(t, lianxin.KindImage, "forgotten-three", e.fake.PicURL("gone"))
	poll(t, w, 3)

	if a := e.attachment(t, viaPic); a.Status != lianxin.AttachmentStored || photos.HasEXIF(e.read(t, a.Path)) {
		t.Errorf("PicUrl fallback: %+v", a)
	}
	if a := e.attachment(t, noPic); a.Status != lianxin.AttachmentFailed || !strings.Contains(a.Error, "40007") {
		t.Errorf("invalid id, no PicUrl: %+v", a)
	}
	if a := e.attachment(t, deadPic); a.Status != lianxin.AttachmentFailed || !strings.Contains(a.Error, "40007") || !strings.Contains(a.Error, "HTTP 404") {
		t.Errorf("invalid id, PicUrl 404: %+v", a)
	}
	// A PicUrl that fails transiently is retried, not given up.
	e.fake.FailNext(fakewx.PathPic, 1, 502)
	flaky := e.register(t, lianxin.KindImage, "forgotten-four", e.fake.PicURL(real))
	poll(t, w, 1)
	if a := e.attachment(t, flaky); a.Status != lianxin.AttachmentPending {
		t.Errorf("PicUrl 502: %+v", a)
	}
	e.clk.Add(time.Minute)
	poll(t, w, 1)
	if a := e.attachment(t, flaky); a.Status != lianxin.AttachmentStored {
		t.Errorf("PicUrl after the 502: %+v", a)
	}
}

// TestExpiresAfter72Hours: a photo WeChat could not serve for three days is
// marked failed with the reason, and no longer tried.
func TestExpiresAfter72Hours(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w := e.worker(t, e.db, nil)
	id := e.photo(t, 1)
	e.fake.SetDown(fakewx.PathMediaGet, true)
	calls := 0
	for e.attachment(t, id).Status == lianxin.AttachmentPending {
		if calls++; calls > 200 {
			t.Fatal("still pending after 200 polls")
		}
		w.Poll(context.Background())
		e.clk.Add(30 * time.Minute)
	}
	a := e.attachment(t, id)
	if a.Status != lianxin.AttachmentFailed || !strings.Contains(a.Error, "3-day") || !strings.Contains(a.Error, "HTTP 503") {
		t.Errorf("after 72 h: %+v", a)
	}
	if calls < 70 || calls > 150 {
		t.Errorf("%d polls (30 min apart) until failed, want about 144", calls)
	}
	// Attempts back off to RetryMax (1 h): dozens, not thousands, in 3 days.
	if n := len(e.fake.CallsTo(fakewx.PathMediaGet)); n < 70 || n > 90 {
		t.Errorf("%d media/get calls in 72 h, want 70..90", n)
	}
}

// countingStore signals every stored attachment, so a test can wait for Run.
type countingStore struct {
	*store.DB
	stored chan int64
}

func (s *countingStore) MarkAttachmentStored(ctx context.Context, id int64, owner string, now time.Time, f lianxin.StoredMedia) error {
	err := s.DB.MarkAttachmentStored(ctx, id, owner, now, f)
	if err == nil {
		s.stored <- id
	}
	return err
}

// TestNotifyWakesRun: Run fetches a newly registered photo when notified,
// without waiting for its interval, and stops when its context ends.
func TestNotifyWakesRun(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cs := &countingStore{DB: e.db, stored: make(chan int64, 10)}
	w := e.worker(t, cs, func(c *media.Config) { c.Interval = time.Hour })
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		w.Run(ctx)
	}()
	defer func() {
		cancel()
		<-stopped
	}()
	for i := range 3 {
		id := e.photo(t, i)
		w.Notify()
		select {
		case got := <-cs.stored:
			if got != id {
				t.Fatalf("stored %d, want %d", got, id)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("photo %d not fetched after Notify", i)
		}
	}
}

// TestTwoWorkersNeverFetchTheSameRow: two processes (two database handles,
// two workers) draining one queue at once fetch each photo exactly once.
func TestTwoWorkersNeverFetchTheSameRow(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	other := e.open(t)
	a := e.worker(t, e.db, func(c *media.Config) { c.Concurrency = 4 })
	b := e.worker(t, other, func(c *media.Config) { c.Concurrency = 4 })
	const n = 40
	var ids []int64
	for i := range n {
		ids = append(ids, e.photo(t, i))
	}
	e.fake.SetLatency(fakewx.PathMediaGet, 10*time.Millisecond)
	var wg sync.WaitGroup
	var na, nb int
	wg.Go(func() { na, _ = a.Poll(context.Background()) })
	wg.Go(func() { nb, _ = b.Poll(context.Background()) })
	wg.Wait()
	if na+nb != n {
		t.Errorf("worker a processed %d, b %d; want %d between them", na, nb, n)
	}
	t.Logf("worker a processed %d, b %d", na, nb)
	perID := map[string]int{}
	for _, c := range e.fake.CallsTo(fakewx.PathMediaGet) {
		perID[c.Query.Get("media_id")]++
	}
	if len(perID) != n {
		t.Errorf("%d distinct media fetched, want %d", len(perID), n)
	}
	for id, k := range perID {
		if k != 1 {
			t.Errorf("media %s fetched %d times", id[:8], k)
		}
	}
	for _, id := range ids {
		if s := e.attachment(t, id).Status; s != lianxin.AttachmentStored {
			t.Errorf("attachment %d: %s", id, s)
		}
	}
}

// TestCrashedWorkerLeaseRunsOut: a row claimed by a worker that died is
// taken over once its lease runs out.
func TestCrashedWorkerLeaseRunsOut(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.photo(t, 1)
	if jobs, err := e.db.ClaimAttachments(context.Background(), "crashed", e.clk.Now(), 2*time.Minute, 10); err != nil || len(jobs) != 1 {
		t.Fatalf("claim: %v, %v", jobs, err)
	}
	w := e.worker(t, e.db, nil)
	poll(t, w, 0)
	e.clk.Add(2*time.Minute + time.Second)
	poll(t, w, 1)
	if a := e.attachment(t, id); a.Status != lianxin.AttachmentStored || a.Attempts != 2 {
		t.Errorf("after the lease ran out: %+v", a)
	}
}

// BenchmarkMediaPipeline100Photos stores 100 phone photos fetched from a
// media API that takes 200 ms to answer each, the must-show, with
// the default concurrency (8) and with 32. Each iteration is 100 photos:
// sec/100photos is the wall time.
func BenchmarkMediaPipeline100Photos(b *testing.B) {
	for _, conc := range []int{8, 32} {
		b.Run(fmt.Sprintf("concurrency=%d", conc), func(b *testing.B) {
			e := newEnv(b)
			e.fake.SetLatency("", 200*time.Millisecond)
			w := e.worker(b, e.db, func(c *media.Config) { c.Concurrency = conc })
			photos := make([]string, 100)
			for i := range photos {
				photos[i] = e.fake.AddGeneratedPhoto(37.85+float64(i)/1000, 113.58)
			}
			var total time.Duration
			for b.Loop() {
				b.StopTimer()
				for _, id := range photos {
					e.register(b, lianxin.KindImage, id, "")
				}
				b.StartTimer()
				start := time.Now()
				n, err := w.Poll(context.Background())
				total += time.Since(start)
				if err != nil || n != 100 {
					b.Fatalf("Poll = %d, %v", n, err)
				}
			}
			b.ReportMetric(total.Seconds()/float64(b.N), "sec/100photos")
		})
	}
}

func solid(w, h int, c color.Color) image.Image {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, c)
		}
	}
	return img
}

// jpegWithOrientation is a w x h grey JPEG with a red top-left corner and an
// EXIF Orientation tag, as a phone held sideways writes it.
func jpegWithOrientation(t *testing.T, w, h int, orientation uint16) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := color.RGBA{128, 128, 128, 255}
			if x < 6 && y < 6 {
				c = color.RGBA{230, 20, 20, 255}
			}
			img.SetRGBA(x, y, c)
		}
	}
	var enc bytes.Buffer
	if err := jpeg.Encode(&enc, img, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	le := binary.LittleEndian
	tiff := []byte("II*\x00")
	tiff = le.AppendUint32(tiff, 8)
	tiff = le.AppendUint16(tiff, 1)      // one entry
	tiff = le.AppendUint16(tiff, 0x0112) // Orientation
	tiff = le.AppendUint16(tiff, 3)      // SHORT
	tiff = le.AppendUint32(tiff, 1)
	tiff = le.AppendUint16(tiff, orientation)
	tiff = le.AppendUint16(tiff, 0)
	tiff = le.AppendUint32(tiff, 0) // no next IFD
	app1 := append([]byte("Exif\x00\x00"), tiff...)
	out := []byte{0xFF, 0xD8, 0xFF, 0xE1}
	out = binary.BigEndian.AppendUint16(out, uint16(len(app1)+2))
	out = append(out, app1...)
	return append(out, enc.Bytes()[2:]...)
}
