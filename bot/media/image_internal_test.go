package media

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/lianxin/lianxin/internal/wxtest/photos"
)

// TestOrient checks all eight EXIF orientations on a 3x2 picture whose
// pixels are numbered, against where the EXIF specification puts them.
func TestOrient(t *testing.T) {
	src := image.NewRGBA(image.Rect(0, 0, 3, 2))
	for y := range 2 {
		for x := range 3 {
			src.SetRGBA(x, y, color.RGBA{uint8(10*y + x), 0, 0, 255})
		}
	}
	// Each row is the upright picture, row by row, as pixel numbers.
	want := map[int][][]uint8{
		1: {{0, 1, 2}, {10, 11, 12}},
		2: {{2, 1, 0}, {12, 11, 10}},
		3: {{12, 11, 10}, {2, 1, 0}},
		4: {{10, 11, 12}, {0, 1, 2}},
		5: {{0, 10}, {1, 11}, {2, 12}},
		6: {{10, 0}, {11, 1}, {12, 2}},
		7: {{12, 2}, {11, 1}, {10, 0}},
		8: {{2, 12}, {1, 11}, {0, 10}},
	}
	for o, rows := range want {
		img := orient(src, o)
		b := img.Bounds()
		if b.Dy() != len(rows) || b.Dx() != len(rows[0]) {
			t.Errorf("orientation %d: %v", o, b)
			continue
		}
		for y, row := range rows {
			for x, v := range row {
				if r, _, _, _ := img.At(x, y).RGBA(); uint8(r>>8) != v {
					t.Errorf("orientation %d: pixel (%d,%d) = %d, want %d", o, x, y, r>>8, v)
				}
			}
		}
	}
}

func TestJPEGOrientation(t *testing.T) {
	if o := jpegOrientation(photos.JPEGWithGPS(16, 16, 1, 1)); o != 1 {
		t.Errorf("phone photo: %d", o)
	}
	// Big-endian TIFF (as many cameras write it) with Orientation 8.
	be := binary.BigEndian
	tiff := []byte("MM\x00*")
	tiff = be.AppendUint32(tiff, 8)
	tiff = be.AppendUint16(tiff, 1)
	tiff = be.AppendUint16(tiff, 0x0112)
	tiff = be.AppendUint16(tiff, 3)
	tiff = be.AppendUint32(tiff, 1)
	tiff = be.AppendUint16(tiff, 8)
	tiff = be.AppendUint16(tiff, 0)
	tiff = be.AppendUint32(tiff, 0)
	app1 := append([]byte("Exif\x00\x00"), tiff...)
	j := []byte{0xFF, 0xD8, 0xFF, 0xE1}
	j = be.AppendUint16(j, uint16(len(app1)+2))
	j = append(j, app1...)
	j = append(j, 0xFF, 0xD9)
	if o := jpegOrientation(j); o != 8 {
		t.Errorf("big-endian orientation 8: %d", o)
	}
	for _, bad := range [][]byte{nil, {0xFF, 0xD8}, {0xFF, 0xD8, 0xFF, 0xE1, 0xFF, 0xFF}, j[:20]} {
		if o := jpegOrientation(bad); o != 1 {
			t.Errorf("%x: %d", bad, o)
		}
	}
}

func TestPixelLimit(t *testing.T) {
	// A 1x1 PNG that claims 100000x100000 in its header: refused before any
	// decoding allocates 40 GB.
	var buf bytes.Buffer
	png.Encode(&buf, image.NewGray(image.Rect(0, 0, 1, 1)))
	b := buf.Bytes()
	binary.BigEndian.PutUint32(b[16:], 100000)
	binary.BigEndian.PutUint32(b[20:], 100000)
	_, err := sanitize(b, DefaultThumbSize, maxPixels)
	if _, ok := err.(*rejectError); !ok {
		t.Fatalf("claimed 10 gigapixels: %v", err)
	}
}

// FuzzSanitize: whatever the bytes, sanitize neither panics nor lets
// metadata through, and what it accepts is a picture of the type it says,
// which the standard decoder reads too.
func FuzzSanitize(f *testing.F) {
	f.Add(photos.JPEGWithGPS(24, 16, 37.85, 113.58))
	f.Add(photos.Camera(64, 48, 6, 1))
	f.Add(photos.Make(photos.Options{Width: 40, Height: 24, Orientation: 3, GainMap: true, Comment: "home"}))
	for _, name := range []string{"video-001.restart2.jpeg", "video-005.gray.q50.jpeg", "video-001.q50.422.jpeg", "video-001.progressive.jpeg"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	var pngBuf, gifBuf bytes.Buffer
	png.Encode(&pngBuf, image.NewNRGBA(image.Rect(0, 0, 5, 3)))
	f.Add(pngBuf.Bytes())
	gif.Encode(&gifBuf, image.NewPaletted(image.Rect(0, 0, 4, 4), color.Palette{color.Black, color.White}), nil)
	f.Add(gifBuf.Bytes())
	webp, _ := base64.StdEncoding.DecodeString("UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==")
	f.Add(webp)
	f.Add([]byte("#!AMR\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := sanitize(data, 32, 1<<20)
		if err != nil {
			if _, ok := err.(*rejectError); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		if sniffImage(p.data) != p.mime {
			t.Fatalf("stored bytes sniff as %q, labelled %q", sniffImage(p.data), p.mime)
		}
		if p.mime == mimeJPEG {
			if photos.HasEXIF(p.data) && photos.Orientation(p.data) == 1 {
				t.Fatal("EXIF survived")
			}
			if l := photos.Leaks(p.data); len(l) > 0 {
				t.Fatalf("stored JPEG leaks %q", l)
			}
			if _, err := jpeg.Decode(bytes.NewReader(p.data)); err != nil {
				t.Fatalf("stored a JPEG image/jpeg refuses: %v", err)
			}
		}
		th, err := jpeg.Decode(bytes.NewReader(p.thumb))
		if err != nil || th.Bounds().Dx() > 32 || th.Bounds().Dy() > 32 {
			t.Fatalf("thumbnail: %v", err)
		}
	})
}

// FuzzJPEG: the segment walker, the rewrite and the reduced decoder take
// hostile bytes: they never panic, the walk keeps at most maxJPEGSegments,
// a rewrite walks again with nothing left that could leak, and what the
// reduced decoder accepts image/jpeg accepts.
func FuzzJPEG(f *testing.F) {
	f.Add(photos.Camera(48, 32, 6, 1))
	f.Add(photos.Make(photos.Options{Width: 24, Height: 16, Orientation: 8, GainMap: true, Comment: "home", Quality: 50}))
	f.Add(photos.JPEGWithGPS(17, 9, 1, 2))
	for _, name := range []string{"video-001.restart2.jpeg", "video-005.gray.q50.2x2.jpeg", "video-001.q50.410.jpeg", "video-001.rgb.jpeg"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		jf, err := walkJPEG(data)
		if err != nil {
			return
		}
		if len(jf.segs) > maxJPEGSegments {
			t.Fatalf("%d segments kept", len(jf.segs))
		}
		out := jf.clean(data, jpegOrientation(data))
		g, err := walkJPEG(out)
		if err != nil {
			t.Fatalf("the rewrite does not walk: %v", err)
		}
		if l := photos.Leaks(out); len(l) > 0 {
			t.Fatalf("the rewrite leaks %q", l)
		}
		fr, err := g.readFrame()
		if err != nil || fr.width*fr.height > 1<<16 || fr.width == 0 || fr.height == 0 || !g.fastOK(fr) {
			return
		}
		for _, n := range []int{1, 2, 4} {
			_, err := decodeReduced(out, g, fr, n)
			if err != nil {
				return
			}
		}
		if _, err := jpeg.Decode(bytes.NewReader(out)); err != nil {
			t.Fatalf("the reduced decoder accepts what image/jpeg refuses: %v", err)
		}
	})
}

// BenchmarkSanitizePhonePhoto is the CPU cost of one 640x480 phone photo
// (the flat-colour fakewx one): segments rewritten, verified, thumbnail.
// BenchmarkPhoto (image_bench_test.go) compares the paths on camera-like
// photos at the sizes residents send.
func BenchmarkSanitizePhonePhoto(b *testing.B) {
	data := photos.JPEGWithGPS(640, 480, 37.85, 113.58)
	for b.Loop() {
		if _, err := sanitize(data, DefaultThumbSize, maxPixels); err != nil {
			b.Fatal(err)
		}
	}
}
