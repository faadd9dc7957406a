package media

import (
	"bytes"
	"image"
	"image/jpeg"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/lianxin/lianxin/internal/wxtest/photos"
)

// goTestdata are JPEGs from Go's image/testdata (BSD licence, see
// testdata/README): every chroma subsampling image/jpeg supports, greyscale,
// restart markers, progressive, CMYK, RGB.
func goTestdata(t testing.TB) map[string][]byte {
	t.Helper()
	files, _ := filepath.Glob("testdata/*.jpeg")
	if len(files) == 0 {
		t.Fatal("no testdata")
	}
	out := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(f)] = b
	}
	return out
}

func decodeStd(t testing.TB, b []byte) image.Image {
	t.Helper()
	img, err := jpeg.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// TestStoredJPEGIsTheOriginalPicture: the rewrite keeps the compressed
// picture bit for bit (it decodes to the same pixels), drops everything that
// could say who, where or with what, and keeps the colour profile and, alone,
// the orientation.
func TestStoredJPEGIsTheOriginalPicture(t *testing.T) {
	// Every orientation on a small photo with a small thumbnail (both on
	// the reduced decoder's path: the 320x240 photo at 1/4 scale), and the
	// usual 320-pixel thumbnail of a 640x480 one.
	type tc struct{ w, h, o, thumb int }
	var cases []tc
	for o := 1; o <= 8; o++ {
		cases = append(cases, tc{320, 240, o, 80})
	}
	cases = append(cases, tc{640, 480, 6, DefaultThumbSize})
	for _, c := range cases {
		o := c.o
		orig := photos.Make(photos.Options{Width: c.w, Height: c.h, Orientation: o, Seed: int64(o),
			GainMap: o == 3, Comment: "Zhang San, Building 4"})
		if !photos.HasGPS(orig) || !photos.HasXMP(orig) {
			t.Fatal("fixture without GPS")
		}
		p, err := sanitize(orig, c.thumb, maxPixels)
		if err != nil {
			t.Fatalf("%+v: %v", c, err)
		}
		if l := photos.Leaks(p.data); len(l) > 0 {
			t.Errorf("%+v: stored file leaks %q", c, l)
		}
		if photos.HasGPS(p.data) || photos.HasXMP(p.data) || photos.HasMPF(p.data) || photos.Trailer(p.data) != 0 {
			t.Errorf("%+v: GPS, XMP, MPF or a trailer survived", c)
		}
		wantTags := []uint16{photos.TagOrientation}
		if o == 1 {
			wantTags = nil
		}
		if tags := photos.EXIFTags(p.data); !slices.Equal(tags, wantTags) {
			t.Errorf("%+v: EXIF tags %04X, want %04X", c, tags, wantTags)
		}
		if photos.Orientation(p.data) != o || !photos.HasICC(p.data) {
			t.Errorf("%+v: stored orientation %d, ICC %v", c, photos.Orientation(p.data), photos.HasICC(p.data))
		}
		a, b := decodeStd(t, orig).(*image.YCbCr), decodeStd(t, p.data).(*image.YCbCr)
		if !bytes.Equal(a.Y, b.Y) || !bytes.Equal(a.Cb, b.Cb) || !bytes.Equal(a.Cr, b.Cr) {
			t.Errorf("%+v: the stored picture is not the original's", c)
		}
		if len(p.data) >= len(orig) {
			t.Errorf("%+v: stored %d bytes of %d", c, len(p.data), len(orig))
		}
		if err := photos.Upright(photos.Orient(b, photos.Orientation(p.data))); err != nil {
			t.Errorf("%+v: stored photo shown with its orientation: %v", c, err)
		}
		th := decodeStd(t, p.thumb)
		if err := photos.Upright(th); err != nil {
			t.Errorf("%+v: thumbnail: %v", c, err)
		}
		tw, thh := thumbSize(c.w, c.h, c.thumb)
		W, H := c.w, c.h
		if o >= 5 {
			tw, thh, W, H = thh, tw, H, W
		}
		if th.Bounds().Dx() != tw || th.Bounds().Dy() != thh || p.w != W || p.h != H {
			t.Errorf("%+v: thumbnail %v, photo %dx%d", c, th.Bounds(), p.w, p.h)
		}
	}
}

// TestReducedDecodeMatchesFullDecode: the reduced decoder's picture at each
// scale is the full decode scaled down, to within what a thumbnail shows,
// for every chroma subsampling and greyscale, with restart markers.
func TestReducedDecodeMatchesFullDecode(t *testing.T) {
	inputs := goTestdata(t)
	inputs["camera"] = photos.Camera(640, 480, 1, 7)
	names := slices.Sorted(func(yield func(string) bool) {
		for k := range inputs {
			if !yield(k) {
				return
			}
		}
	})
	fastSeen := 0
	for _, name := range names {
		data := inputs[name]
		f, err := walkJPEG(data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		fr, err := f.readFrame()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !f.fastOK(fr) {
			continue
		}
		fastSeen++
		full := planesOf(decodeStd(t, data))
		for _, n := range []int{1, 2, 4} {
			r, err := decodeReduced(data, f, fr, n)
			if err != nil {
				t.Fatalf("%s at %d/8: %v", name, n, err)
			}
			// Each reduced sample against the mean of the (8/n)^2 full
			// samples it stands for, plane by plane.
			for i, rp := range r.planesFor() {
				fp := full[i]
				k := 8 / n
				var se float64
				cnt := 0
				for y := 0; (y+1)*k <= int(fp.h); y++ {
					for x := 0; (x+1)*k <= int(fp.w); x++ {
						sum := 0
						for yy := range k {
							for xx := range k {
								sum += int(fp.pix[(y*k+yy)*fp.stride+x*k+xx])
							}
						}
						d := float64(rp.pix[y*rp.stride+x]) - float64(sum)/float64(k*k)
						se += d * d
						cnt++
					}
				}
				p := 10 * math.Log10(255*255/max(se/float64(cnt), 1e-9))
				min := map[int]float64{1: 45, 2: 32, 4: 30}[n]
				if p < min {
					t.Errorf("%s plane %d at %d/8: PSNR %.1f dB against the full decode averaged, want %.0f", name, i, n, p, min)
				}
				if testing.Verbose() && i == 0 {
					t.Logf("%s at %d/8: luma PSNR %.1f dB", name, n, p)
				}
			}
		}
	}
	if fastSeen < 8 {
		t.Errorf("only %d inputs took the fast path", fastSeen)
	}
}

// TestCorruptJPEGRefused: a photo cut short anywhere, or without its end, is
// refused with a reason and nothing stored.
func TestCorruptJPEGRefused(t *testing.T) {
	good := photos.Camera(640, 480, 6, 2)
	f, _ := walkJPEG(good)
	var scan int
	for _, s := range f.segs {
		if s.marker == 0xDA {
			scan = s.off
		}
	}
	cases := map[string][]byte{
		"no EOI":           good[:len(good)-2],
		"cut in the scan":  good[:scan+(len(good)-scan)*9/10],
		"cut early":        good[:scan+200],
		"cut in metadata":  good[:300],
		"cut then EOI":     append(slices.Clip(good[:scan+(len(good)-scan)/2]), 0xFF, 0xD9),
		"SOI only":         {0xFF, 0xD8, 0xFF},
		"scan of zeros":    append(slices.Clip(good[:scan+20]), append(make([]byte, 3000), 0xFF, 0xD9)...),
		"marker in a scan": append(append(slices.Clip(good[:scan+5000]), 0xFF, 0xC4), good[scan+5000:]...),
		// An empty Huffman table after the scan: image/jpeg reads it, and
		// refuses the file.
		"bad table after the scan": append(append(slices.Clip(good[:len(good)-2]),
			0xFF, 0xC4, 0x00, 0x13, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), 0xFF, 0xD9),
	}
	for name, b := range cases {
		p, err := sanitize(b, DefaultThumbSize, maxPixels)
		var rj *rejectError
		if p != nil || !asReject(err, &rj) {
			t.Errorf("%s: stored (%v)", name, err)
			continue
		}
		t.Logf("%s: %s", name, rj.reason)
		if !strings.HasPrefix(rj.reason, "cannot ") {
			t.Errorf("%s: reason %q", name, rj.reason)
		}
		if _, err := jpeg.Decode(bytes.NewReader(b)); err == nil {
			t.Errorf("%s: image/jpeg decodes what was refused", name)
		}
	}
}

func asReject(err error, rj **rejectError) bool {
	r, ok := err.(*rejectError)
	*rj = r
	return ok
}

// TestAgreesWithImageJPEG: whatever damage a scan takes, the fast path
// accepts exactly what image/jpeg accepts.
func TestAgreesWithImageJPEG(t *testing.T) {
	inputs := [][]byte{photos.Camera(200, 150, 1, 3), goTestdata(t)["video-001.restart2.jpeg"], goTestdata(t)["video-005.gray.q50.jpeg"]}
	mutations := 300
	if raceEnabled {
		mutations = 60
	}
	rng := rand.New(rand.NewPCG(1, 2))
	accepted, refused := 0, 0
	for _, good := range inputs {
		f, _ := walkJPEG(good)
		var scan int
		for _, s := range f.segs {
			if s.marker == 0xDA {
				scan = s.off + 4 + len(s.payload)
			}
		}
		for i := range mutations {
			b := slices.Clone(good)
			switch i % 3 {
			case 0: // flip bits
				for range 1 + rng.IntN(4) {
					b[scan+rng.IntN(len(b)-2-scan)] ^= byte(1 << rng.IntN(8))
				}
			case 1: // a byte becomes 0xFF
				b[scan+rng.IntN(len(b)-2-scan)] = 0xFF
			case 2: // cut and end
				b = append(b[:scan+rng.IntN(len(b)-2-scan)], 0xFF, 0xD9)
			}
			_, errStd := jpeg.Decode(bytes.NewReader(b))
			g, err := walkJPEG(b)
			var errFast error = err
			if err == nil {
				fr, _ := g.readFrame()
				_, errFast = decodeReduced(b, g, fr, 2)
			}
			if (errStd == nil) != (errFast == nil) {
				t.Errorf("mutation %d: image/jpeg says %v, the reduced decoder %v", i, errStd, errFast)
			}
			if errFast == nil {
				accepted++
			} else {
				refused++
			}
		}
	}
	t.Logf("%d accepted, %d refused, in agreement", accepted, refused)
}

// TestThumbEncoder: the thumbnail encoder writes JPEGs image/jpeg reads back
// as the planes it was given, at every size parity, colour and grey.
func TestThumbEncoder(t *testing.T) {
	src := photos.Scene(333, 251, 1, 5)
	for _, sz := range [][2]int{{320, 240}, {17, 9}, {1, 1}, {241, 320}, {8, 16}} {
		w, h := sz[0], sz[1]
		ps := planesOf(src)
		y := resample(ps[0], w, h)
		cb := resample(ps[1], (w+1)/2, (h+1)/2)
		cr := resample(ps[2], (w+1)/2, (h+1)/2)
		for _, grey := range []bool{false, true} {
			var b []byte
			if grey {
				b = encodeThumbJPEG(y, nil, nil, w, h)
			} else {
				b = encodeThumbJPEG(y, cb, cr, w, h)
			}
			img := decodeStd(t, b)
			if img.Bounds().Dx() != w || img.Bounds().Dy() != h {
				t.Fatalf("%dx%d: decoded %v", w, h, img.Bounds())
			}
			got := planesOf(img)
			var se float64
			for yy := range h {
				for xx := range w {
					d := float64(got[0].pix[yy*got[0].stride+xx]) - float64(y[yy*w+xx])
					se += d * d
				}
			}
			p := 10 * math.Log10(255*255/max(se/float64(w*h), 1e-9))
			if p < 30 {
				t.Errorf("%dx%d grey=%v: luma PSNR %.1f dB", w, h, grey, p)
			}
			if !grey && w >= 16 {
				c := got[1].pix[(h/4)*got[1].stride+w/4]
				if d := int(c) - int(cb[(h/4)*((w+1)/2)+w/4]); d < -6 || d > 6 {
					t.Errorf("%dx%d: Cb %d, want %d", w, h, c, cb[(h/4)*((w+1)/2)+w/4])
				}
			}
		}
	}
}

// TestWalkBoundsWhatItKeeps: a file of a million empty segments is refused
// after maxJPEGSegments, having kept no more than that.
func TestWalkBoundsWhatItKeeps(t *testing.T) {
	b := []byte{0xFF, 0xD8}
	for range 1 << 20 {
		b = append(b, 0xFF, 0xFE, 0x00, 0x02) // an empty comment
	}
	runtime.GC()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	_, err := walkJPEG(b)
	runtime.ReadMemStats(&m1)
	if err == nil || !strings.Contains(err.Error(), "segments") {
		t.Fatalf("walk: %v", err)
	}
	if a := m1.TotalAlloc - m0.TotalAlloc; a > 256<<10 {
		t.Errorf("walking allocated %d bytes", a)
	}
	_, err = sanitize(b, DefaultThumbSize, maxPixels)
	if rj, ok := err.(*rejectError); !ok || !strings.Contains(rj.reason, "more than 1024 segments") {
		t.Errorf("sanitize: %v", err)
	}
}
