// Package photos makes camera-like JPEGs for tests and benchmarks of the photo
// pipeline, and inspects what a JPEG would leak.
//
// The photos residents send are not the flat-colour squares a unit test
// usually encodes: they are 1440x1080 (WeChat's compressed copy) or 4032x3024
// (the "original" a resident can choose), with sky gradients, sharp edges and
// sensor noise that make them compress to 1-4 MB, and they carry an EXIF block
// with the phone's make and model and the GPS position where they were taken
// (often the resident's home), an XMP packet repeating it, an ICC colour
// profile, and an Orientation tag that says the pixels are stored sideways.
// The cost of decoding a JPEG grows with its compressed size, not only its
// pixel count, so a benchmark on flat colour flatters any decoder; and a
// privacy test on a photo without XMP or a maker note tests nothing. Camera
// makes such a photo, deterministically from a seed, with the standard library
// only (baseline JPEG, as image/jpeg writes; many phones write the same).
//
// The scene is drawn upright and then stored as the phone would store it for
// the given orientation, so that a reader that honours the tag sees it
// upright: sky on top, a red square in the top-left corner and a green one in
// the top-right (together they tell all eight orientations apart). Upright
// checks exactly that on a decoded image.
package photos

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"sync"
)

// Options describes a photo. Camera covers the usual case.
type Options struct {
	// Width and Height are the stored pixel grid, as the sensor wrote it
	// (4032x3024 for a 12 MP phone held either way).
	Width, Height int
	// Orientation is the EXIF Orientation (1..8; 0 means 1). 6 is a phone
	// held upright (portrait): the pixels are stored turned left.
	Orientation int
	// Seed picks the scene, the noise, the position and the phone.
	Seed int64
	// Quality is the JPEG quality (default 92, about what phones use: a
	// 4032x3024 scene comes out near 3 MB).
	Quality int
	// NoMetadata leaves out EXIF, XMP and ICC: a photo as WeChat's own
	// compression serves it.
	NoMetadata bool
	// Comment adds a COM segment.
	Comment string
	// GainMap appends a second JPEG after the first one's EOI with an MPF
	// APP2 index pointing at it, as phones store an HDR gain map or a depth
	// map. A sanitiser must not pass the second image on.
	GainMap bool
}

// Camera returns a w x h camera JPEG with EXIF (make, model, GPS, maker note,
// embedded thumbnail, the given Orientation), XMP (GPS again) and an ICC
// profile. The same arguments give the same bytes.
func Camera(w, h int, orientation int, seed int64) []byte {
	return Make(Options{Width: w, Height: h, Orientation: orientation, Seed: seed})
}

var (
	cacheMu sync.Mutex
	cache   = map[Options][]byte{}
)

// Make returns the photo o describes. Photos are cached (a 12 MP one takes
// most of a second to draw and encode, longer under the race detector); each
// call returns its own copy, which the caller may change.
func Make(o Options) []byte {
	o = o.withDefaults()
	cacheMu.Lock()
	b, ok := cache[o]
	cacheMu.Unlock()
	if !ok {
		b = build(o)
		cacheMu.Lock()
		cache[o] = b
		cacheMu.Unlock()
	}
	return bytes.Clone(b)
}

func (o Options) withDefaults() Options {
	o.Width, o.Height = max(o.Width, 1), max(o.Height, 1)
	if o.Orientation < 1 || o.Orientation > 8 {
		o.Orientation = 1
	}
	if o.Quality <= 0 {
		o.Quality = 92
	}
	return o
}

func build(o Options) []byte {
	img := Scene(o.Width, o.Height, o.Orientation, o.Seed)
	var enc bytes.Buffer
	if err := jpeg.Encode(&enc, img, &jpeg.Options{Quality: o.Quality}); err != nil {
		panic("photos: jpeg encode: " + err.Error()) // in-memory, cannot fail
	}
	main := enc.Bytes()[2:] // after image/jpeg's SOI

	out := []byte{0xFF, 0xD8}
	if !o.NoMetadata {
		ph := phoneFor(o.Seed)
		out = appendSegment(out, 0xE1, append([]byte("Exif\x00\x00"), exifTIFF(o, ph)...))
		out = appendSegment(out, 0xE1, append([]byte(xmpNS+"\x00"), xmpPacket(ph)...))
		icc := iccProfile()
		out = appendSegment(out, 0xE2, append([]byte("ICC_PROFILE\x00\x01\x01"), icc...))
	}
	if o.Comment != "" {
		out = appendSegment(out, 0xFE, []byte(o.Comment))
	}
	if !o.GainMap {
		return append(out, main...)
	}
	// The gain map: a small second JPEG after the first image's EOI, and an
	// MPF index (APP2 "MPF\0") that says where it is, as Android's Ultra HDR
	// and iPhone photos store one.
	var gm bytes.Buffer
	jpeg.Encode(&gm, image.NewGray(image.Rect(0, 0, max(o.Width/4, 1), max(o.Height/4, 1))), &jpeg.Options{Quality: 70})
	mpfAt := len(out)
	out = appendSegment(out, 0xE2, mpf(0, 0)) // sized now, filled in below
	out = append(out, main...)
	second := len(out)
	out = append(out, gm.Bytes()...)
	// Offsets in MPF count from the TIFF header inside the MPF segment.
	tiffAt := mpfAt + 4 + 4
	seg := mpf(uint32(gm.Len()), uint32(second-tiffAt))
	copy(out[mpfAt+4:], seg)
	return out
}

const xmpNS = "http://ns.adobe.com/xap/1.0/"

func appendSegment(b []byte, marker byte, payload []byte) []byte {
	if len(payload)+2 > 0xFFFF {
		panic(fmt.Sprintf("photos: segment 0x%02X of %d bytes", marker, len(payload)))
	}
	b = append(b, 0xFF, marker)
	b = binary.BigEndian.AppendUint16(b, uint16(len(payload)+2))
	return append(b, payload...)
}

// Scene draws the picture stored for orientation o: a w x h grid that shows
// the upright scene once o is applied. It is exported for tests that want
// the pixels without the JPEG.
func Scene(w, h, o int, seed int64) *image.YCbCr {
	W, H := w, h // the upright picture
	if o >= 5 {
		W, H = h, w
	}
	s := newScene(W, H, seed)
	img := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	rng := xorshift(uint64(seed)*0x9E3779B97F4A7C15 | 1)
	for y := range h {
		for x := range w {
			ux, uy := toUpright(o, x, y, w, h)
			r, g, b, sigma := s.at(ux, uy)
			// Sensor noise: what makes a photo compress like a photo.
			n := (float64(rng.next()&0xFF) - 127.5) / 127.5 * sigma
			yy, cb, cr := color.RGBToYCbCr(clamp8(r+n), clamp8(g+n), clamp8(b+n))
			img.Y[y*img.YStride+x] = yy
			if x%2 == 0 && y%2 == 0 {
				ci := (y/2)*img.CStride + x/2
				img.Cb[ci], img.Cr[ci] = cb, cr
			}
		}
	}
	return img
}

// toUpright maps a stored pixel to where it shows once orientation o is
// applied (the EXIF definitions; w x h is the stored grid).
func toUpright(o, x, y, w, h int) (int, int) {
	switch o {
	case 2:
		return w - 1 - x, y
	case 3:
		return w - 1 - x, h - 1 - y
	case 4:
		return x, h - 1 - y
	case 5:
		return y, x
	case 6:
		return h - 1 - y, x
	case 7:
		return h - 1 - y, w - 1 - x
	case 8:
		return y, w - 1 - x
	}
	return x, y
}

// scene is an upright W x H street: sky with clouds, a row of buildings with
// windows, a road with a crack and a lane marking, and the two corner
// markers.
type scene struct {
	W, H     int
	horizon  int
	marker   int
	bldg     []building
	cloudPh  [4]float64
	crackX0  float64
	roadTone float64
}

type building struct {
	x0, x1, top int
	r, g, b     float64
	win         int // window pitch
}

func newScene(W, H int, seed int64) *scene {
	rng := xorshift(uint64(seed)*0xD1B54A32D192ED03 + 0x2545F4914F6CDD1D)
	s := &scene{W: W, H: H, horizon: H * 11 / 20, marker: max(min(W, H)/6, 1)}
	for i := range s.cloudPh {
		s.cloudPh[i] = float64(rng.next()%6283) / 1000
	}
	s.crackX0 = float64(W) * (0.3 + float64(rng.next()%400)/1000)
	s.roadTone = 100 + float64(rng.next()%30)
	for x := 0; x < W; {
		bw := W/12 + int(rng.next()%uint64(max(W/8, 1)))
		top := H/5 + int(rng.next()%uint64(max(H/4, 1)))
		s.bldg = append(s.bldg, building{
			x0: x, x1: min(x+bw, W), top: top,
			r: 120 + float64(rng.next()%100), g: 100 + float64(rng.next()%90), b: 90 + float64(rng.next()%80),
			win: max(min(W, H)/60, 4),
		})
		x += bw + int(rng.next()%uint64(max(W/40, 1)))
	}
	return s
}

// at is the colour at an upright pixel and the noise amplitude there.
func (s *scene) at(x, y int) (r, g, b, sigma float64) {
	m := s.marker
	switch {
	case y < m && x < m:
		return 220, 30, 30, 3 // red, top-left
	case y < m && x >= s.W-m:
		return 30, 190, 60, 3 // green, top-right
	}
	fx, fy := float64(x)/float64(s.W), float64(y)/float64(s.H)
	if y >= s.horizon {
		// Asphalt: coarse texture and strong noise, a dark crack, a yellow
		// lane marking.
		tex := 10 * math.Sin(fx*90+math.Sin(fy*40)*3) * math.Sin(fy*130)
		v := s.roadTone + tex + 30*(fy-0.55)
		crack := s.crackX0 + (float64(y-s.horizon))*0.6 + 12*math.Sin(fy*60)
		if d := math.Abs(float64(x) - crack); d < float64(s.W)/300+1 {
			return 40, 38, 35, 6
		}
		if lane := math.Abs(fx - 0.5 - (fy-0.55)*0.3); lane < 0.01 && int(fy*40)%2 == 0 {
			return 225, 190, 40, 8
		}
		return v, v, v - 4, 14
	}
	for _, bd := range s.bldg {
		if x < bd.x0 || x >= bd.x1 || y < bd.top {
			continue
		}
		// Windows: a grid of darker panes with lit ones here and there.
		p := bd.win
		wx, wy := (x-bd.x0)%(2*p), (y-bd.top)%(2*p)
		if wx > p/2 && wx < p/2+p && wy > p/2 && wy < p/2+p && x-bd.x0 > p && bd.x1-x > p {
			if ((x-bd.x0)/(2*p)*7+(y-bd.top)/(2*p)*13)%5 == 0 {
				return 230, 210, 150, 4
			}
			return 50, 60, 75, 4
		}
		shade := 0.85 + 0.15*math.Sin(float64(x-bd.x0)/float64(bd.x1-bd.x0+1)*math.Pi)
		return bd.r * shade, bd.g * shade, bd.b * shade, 7
	}
	// Sky: a gradient with soft clouds.
	cloud := math.Sin(fx*7+s.cloudPh[0])*math.Sin(fy*11+s.cloudPh[1]) +
		0.5*math.Sin(fx*17+s.cloudPh[2])*math.Sin(fy*23+s.cloudPh[3])
	c := max(0, cloud) * 60
	return 90 + 120*fy + c, 140 + 80*fy + c, 230 + c*0.3, 2
}

func clamp8(v float64) uint8 {
	switch {
	case v < 0:
		return 0
	case v > 255:
		return 255
	}
	return uint8(v + 0.5)
}

type xorshift uint64

func (x *xorshift) next() uint64 {
	*x ^= *x << 13
	*x ^= *x >> 7
	*x ^= *x << 17
	return uint64(*x)
}

// phone is what the EXIF says about the camera and the place.
type phone struct {
	make, model string
	lat, lng    float64
	taken       string
}

func phoneFor(seed int64) phone {
	phones := [][2]string{{"HUAWEI", "ELS-AN00"}, {"Xiaomi", "2211133C"}, {"Apple", "iPhone 14"}, {"OPPO", "PGEM10"}, {"vivo", "V2229A"}}
	rng := xorshift(uint64(seed)*0x94D049BB133111EB + 7)
	p := phones[rng.next()%uint64(len(phones))]
	// Somewhere in Shanxi, to the metre: a home address.
	return phone{make: p[0], model: p[1],
		lat:   37.80 + float64(rng.next()%100000)/1e6,
		lng:   112.50 + float64(rng.next()%100000)/1e6,
		taken: "2024:12:03 08:15:42"}
}

func xmpPacket(ph phone) []byte {
	return fmt.Appendf(nil, `<?xpacket begin="%s" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about="" xmlns:exif="http://ns.adobe.com/exif/1.0/" xmlns:tiff="http://ns.adobe.com/tiff/1.0/" xmlns:xmp="http://ns.adobe.com/xap/1.0/"
   tiff:Make="%s" tiff:Model="%s" xmp:CreateDate="%s"
   exif:GPSLatitude="%s" exif:GPSLongitude="%s"/>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>`, "\uFEFF", ph.make, ph.model, ph.taken, xmpCoord(ph.lat, "N"), xmpCoord(ph.lng, "E"))
}

func xmpCoord(deg float64, ref string) string {
	d := math.Floor(deg)
	return fmt.Sprintf("%d,%.6f%s", int(d), (deg-d)*60, ref)
}

// iccProfile is a small display profile in ICC v2 layout: the 128-byte
// header ('acsp' at 36), a tag table and a description, as phones embed
// ("Display P3" on iPhones, sRGB elsewhere). Its content is not a real
// colour transform; sanitisers and tests only look at its structure.
func iccProfile() []byte {
	desc := []byte("desc\x00\x00\x00\x00")
	text := "Display P3"
	desc = binary.BigEndian.AppendUint32(desc, uint32(len(text)+1))
	desc = append(desc, text...)
	desc = append(desc, 0)
	for len(desc)%4 != 0 {
		desc = append(desc, 0)
	}
	const tagTable = 4 + 12
	size := 128 + tagTable + len(desc)
	b := make([]byte, 128, size)
	be := binary.BigEndian
	be.PutUint32(b[0:], uint32(size))
	copy(b[4:], "appl")
	be.PutUint32(b[8:], 0x02100000)
	copy(b[12:], "mntrRGB XYZ ")
	be.PutUint16(b[24:], 2022) // date
	be.PutUint16(b[26:], 1)
	be.PutUint16(b[28:], 1)
	copy(b[36:], "acspAPPL")
	be.PutUint32(b[68:], 0x0000F6D6) // D50 illuminant
	be.PutUint32(b[72:], 0x00010000)
	be.PutUint32(b[76:], 0x0000D32D)
	b = be.AppendUint32(b, 1)
	b = append(b, "desc"...)
	b = be.AppendUint32(b, 128+tagTable)
	b = be.AppendUint32(b, uint32(len(desc)))
	return append(b, desc...)
}

// mpf is the payload of an MPF APP2 segment indexing the primary image and
// one more of size n at offset off (from the MPF TIFF header).
func mpf(n, off uint32) []byte {
	be := binary.BigEndian
	b := []byte("MPF\x00MM\x00\x2A")
	b = be.AppendUint32(b, 8)
	b = be.AppendUint16(b, 3)
	entries := 8 + 2 + 3*12 + 4 // where the MP entries start, from the TIFF header
	b = append(b, tiffEntry(be, 0xB000, 7, 4, []byte("0100"))...)
	b = append(b, tiffEntry(be, 0xB001, 4, 1, be.AppendUint32(nil, 2))...)
	b = append(b, tiffEntry(be, 0xB002, 7, 32, be.AppendUint32(nil, uint32(entries)))...)
	b = be.AppendUint32(b, 0)
	// Two MP entries of 16 bytes: attributes, size, offset, dependencies.
	b = be.AppendUint32(b, 0x20030000)
	b = be.AppendUint32(b, 0) // the primary: size unknown here, offset 0
	b = be.AppendUint32(b, 0)
	b = be.AppendUint32(b, 0)
	b = be.AppendUint32(b, 0x00000000)
	b = be.AppendUint32(b, n)
	b = be.AppendUint32(b, off)
	return be.AppendUint32(b, 0)
}

func tiffEntry(bo binary.AppendByteOrder, tag, typ uint16, count uint32, value []byte) []byte {
	b := bo.AppendUint16(nil, tag)
	b = bo.AppendUint16(b, typ)
	b = bo.AppendUint32(b, count)
	var v [4]byte
	copy(v[:], value)
	return append(b, v[:]...)
}
