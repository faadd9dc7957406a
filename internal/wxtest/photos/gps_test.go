package photos_test

import (
	"bytes"
	"image/jpeg"
	"math"
	"testing"

	"github.com/lianxin/lianxin/internal/wxtest/photos"
)

func TestJPEGWithGPS(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		lat, lng float64
	}{
		{"Yangquan mining district", 37.8569, 113.5839},
		{"southern and western hemispheres", -33.8688, -151.2093},
	} {
		t.Run(tc.name, func(t *testing.T) {
			photo := photos.JPEGWithGPS(320, 240, tc.lat, tc.lng)
			img, err := jpeg.Decode(bytes.NewReader(photo))
			if err != nil {
				t.Fatalf("image/jpeg cannot decode it: %v", err)
			}
			if b := img.Bounds(); b.Dx() != 320 || b.Dy() != 240 {
				t.Errorf("bounds %v", b)
			}
			if !photos.HasEXIF(photo) || !photos.HasGPS(photo) {
				t.Fatalf("HasEXIF=%v HasGPS=%v", photos.HasEXIF(photo), photos.HasGPS(photo))
			}
			lat, lng, ok := photos.GPSOf(photo)
			if !ok || math.Abs(lat-tc.lat) > 1e-6 || math.Abs(lng-tc.lng) > 1e-6 {
				t.Errorf("GPSOf = %v, %v, %v", lat, lng, ok)
			}
			for _, want := range []string{"HUAWEI", "ELS-AN00", "2024:12:03 08:15:42"} {
				if !bytes.Contains(photo[:1024], []byte(want)) {
					t.Errorf("Exif lacks %q", want)
				}
			}

			// Decoding and re-encoding is how the bot strips metadata: the
			// copy must carry none.
			var clean bytes.Buffer
			if err := jpeg.Encode(&clean, img, nil); err != nil {
				t.Fatal(err)
			}
			if photos.HasEXIF(clean.Bytes()) || photos.HasGPS(clean.Bytes()) {
				t.Error("re-encoded copy still has EXIF")
			}
			if _, _, ok := photos.GPSOf(clean.Bytes()); ok {
				t.Error("re-encoded copy still has a position")
			}
		})
	}
	if !bytes.Equal(photos.JPEGWithGPS(16, 16, 1, 2), photos.JPEGWithGPS(16, 16, 1, 2)) {
		t.Error("JPEGWithGPS is not deterministic")
	}
}

// TestExifWalkerRejectsJunk feeds the walkers every truncation of a photo's
// header and some non-JPEGs: none may panic, and only whole-enough input may
// report metadata.
func TestExifWalkerRejectsJunk(t *testing.T) {
	t.Parallel()
	photo := photos.JPEGWithGPS(16, 16, 37.85, 113.58)
	for n := range 600 {
		photos.HasEXIF(photo[:n])
		photos.HasGPS(photo[:n])
		photos.GPSOf(photo[:n])
	}
	for _, junk := range [][]byte{nil, {0xFF}, {0xFF, 0xD8}, []byte("GIF89a"), []byte("#!AMR\n"), {0xFF, 0xD8, 0xFF, 0xE1, 0xFF, 0xFF}} {
		if photos.HasEXIF(junk) || photos.HasGPS(junk) {
			t.Errorf("junk %q reported metadata", junk[:min(len(junk), 8)])
		}
	}
}

func FuzzExifWalker(f *testing.F) {
	f.Add(photos.JPEGWithGPS(8, 8, 37.85, 113.58))
	f.Fuzz(func(t *testing.T, b []byte) {
		photos.HasEXIF(b)
		photos.HasGPS(b)
		photos.GPSOf(b)
	})
}
