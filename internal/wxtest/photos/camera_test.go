package photos

import (
	"bytes"
	"image"
	"image/jpeg"
	"image/png"
	"slices"
	"testing"
)

func TestCameraCarriesWhatAPhoneWrites(t *testing.T) {
	b := Camera(640, 480, 6, 1)
	if !bytes.Equal(b, Camera(640, 480, 6, 1)) {
		t.Fatal("same arguments, different bytes")
	}
	if bytes.Equal(b, Camera(640, 480, 6, 2)) {
		t.Fatal("another seed, same bytes")
	}
	if !HasEXIF(b) || !HasGPS(b) || !HasXMP(b) || !HasICC(b) || Orientation(b) != 6 {
		t.Fatalf("exif %v gps %v xmp %v icc %v orientation %d", HasEXIF(b), HasGPS(b), HasXMP(b), HasICC(b), Orientation(b))
	}
	tags := EXIFTags(b)
	for _, want := range []uint16{tagMake, tagModel, TagOrientation, tagMakerNote, tagGPSLat, tagGPSLng, tagThumbOffset} {
		if !slices.Contains(tags, want) {
			t.Errorf("tag %04X missing from %04X", want, tags)
		}
	}
	if l := Leaks(b); len(l) < 2 {
		t.Errorf("leaks: %q", l)
	}
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(b))
	if err != nil || cfg.Width != 640 || cfg.Height != 480 {
		t.Fatalf("config %+v, %v", cfg, err)
	}
	if Trailer(b) != 0 {
		t.Errorf("trailer %d", Trailer(b))
	}
	// The big-endian (iPhone) EXIF reads the same.
	for seed := int64(0); seed < 20; seed++ {
		b := Camera(64, 48, 8, seed)
		if Orientation(b) != 8 || !HasGPS(b) {
			t.Fatalf("seed %d: orientation %d gps %v", seed, Orientation(b), HasGPS(b))
		}
	}
}

func TestCameraUprightInEveryOrientation(t *testing.T) {
	for o := 1; o <= 8; o++ {
		b := Camera(300, 200, o, 3)
		img, err := jpeg.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		up := Orient(img, o)
		if err := Upright(up); err != nil {
			t.Errorf("orientation %d, applied: %v", o, err)
		}
		if o != 1 {
			if Upright(img) == nil {
				t.Errorf("orientation %d: upright without applying the tag", o)
			}
		}
		w, h := up.Bounds().Dx(), up.Bounds().Dy()
		if (o >= 5) != (w == 200 && h == 300) {
			t.Errorf("orientation %d: upright %dx%d", o, w, h)
		}
	}
}

func TestGainMapAndComment(t *testing.T) {
	b := Make(Options{Width: 200, Height: 100, Seed: 1, GainMap: true, Comment: "taken at home"})
	if !HasMPF(b) || Trailer(b) <= 0 {
		t.Fatalf("mpf %v trailer %d", HasMPF(b), Trailer(b))
	}
	if _, err := jpeg.Decode(bytes.NewReader(b)); err != nil {
		t.Fatal(err)
	}
	l := Leaks(b)
	if !slices.ContainsFunc(l, func(s string) bool { return bytes.Contains([]byte(s), []byte("comment")) }) {
		t.Errorf("leaks %q", l)
	}
	plain := Make(Options{Width: 64, Height: 64, NoMetadata: true})
	if l := Leaks(plain); len(l) != 0 || HasEXIF(plain) {
		t.Errorf("no metadata: %q", l)
	}
}

// TestSizesLikeAPhone: the content compresses like a photo, not like flat
// colour: WeChat's 1440x1080 copies are a few hundred kB, 12 MP originals
// a few MB.
func TestSizesLikeAPhone(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("draws a 12 MP photo")
	}
	for _, c := range []struct {
		w, h     int
		min, max int
	}{{1440, 1080, 250 << 10, 1200 << 10}, {4032, 3024, 1500 << 10, 8 << 20}} {
		b := Camera(c.w, c.h, 6, 1)
		t.Logf("%dx%d: %d bytes (%.2f bits/pixel)", c.w, c.h, len(b), float64(8*len(b))/float64(c.w*c.h))
		if len(b) < c.min || len(b) > c.max {
			t.Errorf("%dx%d: %d bytes, want %d..%d", c.w, c.h, len(b), c.min, c.max)
		}
	}
}

// TestBlankPNG: the bomb is a real PNG: small ones decode, to the size and
// depth the header claims, and a 7000x7000 16-bit one is a few hundred kB.
func TestBlankPNG(t *testing.T) {
	for _, c := range []struct {
		w, h int
		wide bool
	}{{300, 200, true}, {70, 1, false}, {5, 64, true}, {129, 130, false}} {
		b := BlankPNG(c.w, c.h, c.wide)
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%+v: %v", c, err)
		}
		if img.Bounds().Dx() != c.w || img.Bounds().Dy() != c.h {
			t.Errorf("%+v: %v", c, img.Bounds())
		}
		if _, is16 := img.(*image.NRGBA64); is16 != c.wide {
			t.Errorf("%+v: decoded as %T", c, img)
		}
	}
	big := BlankPNG(7000, 7000, true)
	cfg, err := png.DecodeConfig(bytes.NewReader(big))
	if err != nil || cfg.Width != 7000 || len(big) > 2<<20 {
		t.Fatalf("7000x7000: %+v, %v, %d bytes", cfg, err, len(big))
	}
	t.Logf("7000x7000 16-bit: %d bytes", len(big))
}
