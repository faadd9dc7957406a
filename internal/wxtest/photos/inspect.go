package photos

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/color"
)

// The inspection helpers walk a JPEG's segments themselves rather than trust
// a decoder: image/jpeg skips APP1, APP2 and COM entirely, so a decode tells
// nothing about what a file would leak.

// Segment is one marker segment of a JPEG (not the entropy-coded data).
type Segment struct {
	Marker  byte // 0xE1 for APP1 ...
	Payload []byte
}

// Walk returns a JPEG's marker segments in order, SOS headers included, and
// the offset just past the first image's EOI: what follows it (a gain map,
// a motion-photo video) is the trailer. It stops with an error where the
// structure breaks.
func Walk(b []byte) (segs []Segment, end int, err error) {
	if len(b) < 2 || b[0] != 0xFF || b[1] != 0xD8 {
		return nil, 0, errors.New("no SOI")
	}
	i := 2
	for {
		for i < len(b) && b[i] != 0xFF {
			i++ // extraneous bytes, as decoders tolerate
		}
		for i+1 < len(b) && b[i+1] == 0xFF {
			i++ // fill bytes
		}
		if i+1 >= len(b) {
			return segs, 0, errors.New("no EOI")
		}
		m := b[i+1]
		i += 2
		switch {
		case m == 0xD9:
			return segs, i, nil
		case m == 0x00 || m == 0x01 || m >= 0xD0 && m <= 0xD7:
			continue
		}
		if i+2 > len(b) {
			return segs, 0, errors.New("truncated segment")
		}
		n := int(binary.BigEndian.Uint16(b[i:]))
		if n < 2 || i+n > len(b) {
			return segs, 0, fmt.Errorf("segment 0x%02X overruns the file", m)
		}
		segs = append(segs, Segment{Marker: m, Payload: b[i+2 : i+n]})
		i += n
		if m != 0xDA {
			continue
		}
		// Entropy-coded data runs to the next marker other than a stuffed
		// 0xFF00 or a restart marker.
		for {
			k := bytes.IndexByte(b[i:], 0xFF)
			if k < 0 || i+k+1 >= len(b) {
				return segs, 0, errors.New("scan runs to the end of the file")
			}
			i += k
			if c := b[i+1]; c == 0x00 || c >= 0xD0 && c <= 0xD7 {
				i += 2
				continue
			}
			break
		}
	}
}

// APPs returns the payloads of the segments with the given marker whose
// payload starts with prefix.
func APPs(b []byte, marker byte, prefix string) [][]byte {
	segs, _, _ := Walk(b)
	var out [][]byte
	for _, s := range segs {
		if s.Marker == marker && bytes.HasPrefix(s.Payload, []byte(prefix)) {
			out = append(out, s.Payload)
		}
	}
	return out
}

// HasEXIF reports whether a JPEG carries an APP1 Exif segment.
func HasEXIF(b []byte) bool { return len(APPs(b, 0xE1, "Exif\x00\x00")) > 0 }

// HasXMP reports whether a JPEG carries an XMP packet (APP1, standard or
// extended).
func HasXMP(b []byte) bool {
	return len(APPs(b, 0xE1, xmpNS)) > 0 || len(APPs(b, 0xE1, "http://ns.adobe.com/xmp/extension/")) > 0
}

// HasICC reports whether a JPEG carries an ICC profile (APP2).
func HasICC(b []byte) bool { return len(APPs(b, 0xE2, "ICC_PROFILE\x00")) > 0 }

// HasMPF reports whether a JPEG carries an MPF index (APP2) of further
// images.
func HasMPF(b []byte) bool { return len(APPs(b, 0xE2, "MPF\x00")) > 0 }

// Trailer is how many bytes follow the first image's EOI (-1 when the JPEG
// does not walk).
func Trailer(b []byte) int {
	_, end, err := Walk(b)
	if err != nil {
		return -1
	}
	return len(b) - end
}

// HasGPS reports whether a JPEG records a position: a GPS IFD with entries
// in its EXIF, or GPS properties in its XMP.
func HasGPS(b []byte) bool {
	for _, x := range APPs(b, 0xE1, xmpNS) {
		if bytes.Contains(x, []byte("GPSLatitude")) || bytes.Contains(x, []byte("GPSLongitude")) {
			return true
		}
	}
	for _, t := range exifTags(b) {
		if t.ifd == "GPS" {
			return true
		}
	}
	return false
}

// EXIFTags lists the tags of every IFD in the JPEG's Exif segments (IFD0,
// Exif, GPS, IFD1), in order. A sanitised photo may keep an Orientation
// (0x0112) and nothing else.
func EXIFTags(b []byte) []uint16 {
	var out []uint16
	for _, t := range exifTags(b) {
		out = append(out, t.tag)
	}
	return out
}

// Orientation is the JPEG's EXIF Orientation, 1 when there is none.
func Orientation(b []byte) int {
	for _, t := range exifTags(b) {
		if t.ifd == "0" && t.tag == TagOrientation && t.typ == typeShort {
			if v := int(t.bo.Uint16(t.value)); v >= 1 && v <= 8 {
				return v
			}
		}
	}
	return 1
}

// Leaks lists what in a JPEG could identify the resident or the phone:
// every APPn segment other than JFIF, an ICC profile, Adobe's colour
// transform and an Exif segment with an Orientation alone; every comment;
// anything after the image's EOI. A sanitised photo has none.
func Leaks(b []byte) []string {
	segs, end, err := Walk(b)
	if err != nil {
		return []string{"unreadable: " + err.Error()}
	}
	var out []string
	for _, s := range segs {
		p := s.Payload
		switch {
		case s.Marker == 0xE0 && bytes.HasPrefix(p, []byte("JFIF\x00")) && len(p) >= 14 && p[12] == 0 && p[13] == 0:
		case s.Marker == 0xE2 && bytes.HasPrefix(p, []byte("ICC_PROFILE\x00")):
		case s.Marker == 0xEE && bytes.HasPrefix(p, []byte("Adobe")) && len(p) == 12:
		case s.Marker == 0xE1 && bytes.HasPrefix(p, []byte("Exif\x00\x00")):
			seg := []byte{0xFF, 0xD8, 0xFF, 0xE1, byte((len(p) + 2) >> 8), byte(len(p) + 2)}
			seg = append(append(seg, p...), 0xFF, 0xD9)
			if tags := EXIFTags(seg); len(tags) != 1 || tags[0] != TagOrientation {
				out = append(out, fmt.Sprintf("Exif with tags %04X", tags))
			}
		case s.Marker >= 0xE0 && s.Marker <= 0xEF:
			name := string(p[:min(len(p), 12)])
			out = append(out, fmt.Sprintf("APP%d %q", s.Marker-0xE0, name))
		case s.Marker == 0xFE:
			out = append(out, fmt.Sprintf("comment %q", p))
		}
	}
	if n := len(b) - end; n > 0 {
		out = append(out, fmt.Sprintf("%d bytes after EOI", n))
	}
	return out
}

type tagAt struct {
	ifd   string
	tag   uint16
	typ   uint16
	value []byte // the 4-byte value-or-offset field
	bo    binary.ByteOrder
}

// exifTags walks IFD0, IFD1 and the Exif and GPS sub-IFDs of every Exif
// segment, defensively: a malformed one yields what could be read.
func exifTags(b []byte) []tagAt {
	var out []tagAt
	for _, p := range APPs(b, 0xE1, "Exif\x00\x00") {
		t := p[6:]
		if len(t) < 8 {
			continue
		}
		var bo binary.ByteOrder
		switch string(t[:2]) {
		case "II":
			bo = binary.LittleEndian
		case "MM":
			bo = binary.BigEndian
		default:
			continue
		}
		seen := map[uint32]bool{}
		var walk func(name string, off uint32)
		walk = func(name string, off uint32) {
			for off != 0 && !seen[off] && uint64(off)+2 <= uint64(len(t)) {
				seen[off] = true
				n := int(bo.Uint16(t[off:]))
				start := int(off) + 2
				if start+12*n+4 > len(t) {
					return
				}
				for k := range n {
					e := t[start+12*k:]
					ta := tagAt{ifd: name, tag: bo.Uint16(e), typ: bo.Uint16(e[2:]), value: e[8:12], bo: bo}
					out = append(out, ta)
					if name == "0" && ta.tag == tagExifIFD {
						walk("Exif", bo.Uint32(ta.value))
					}
					if name == "0" && ta.tag == tagGPSIFD {
						walk("GPS", bo.Uint32(ta.value))
					}
				}
				if name != "0" {
					return
				}
				name, off = "1", bo.Uint32(t[start+12*n:])
			}
		}
		walk("0", bo.Uint32(t[4:]))
	}
	return out
}

// Orient applies an EXIF orientation to img, as a viewer that honours the
// tag shows it.
func Orient(img image.Image, o int) image.Image {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	W, H := w, h
	if o >= 5 && o <= 8 {
		W, H = h, w
	}
	dst := image.NewRGBA(image.Rect(0, 0, W, H))
	for y := range h {
		for x := range w {
			ux, uy := toUpright(o, x, y, w, h)
			dst.Set(ux, uy, img.At(b.Min.X+x, b.Min.Y+y))
		}
	}
	return dst
}

// Upright checks that img shows a Camera scene the right way up: the red
// marker top-left, the green one top-right, sky above road. It works on any
// scaled copy (a thumbnail too). The error says what was seen.
func Upright(img image.Image) error {
	b := img.Bounds()
	W, H := b.Dx(), b.Dy()
	m := max(min(W, H)/6, 1)
	at := func(x, y int) (r, g, bl int) {
		c := color.RGBAModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.RGBA)
		return int(c.R), int(c.G), int(c.B)
	}
	var errs []error
	if r, g, bl := at(m/2, m/2); !(r > 150 && g < 100 && bl < 100) {
		errs = append(errs, fmt.Errorf("top-left is (%d,%d,%d), want red", r, g, bl))
	}
	if r, g, bl := at(W-1-m/2, m/2); !(g > 130 && r < 100 && bl < 120) {
		errs = append(errs, fmt.Errorf("top-right is (%d,%d,%d), want green", r, g, bl))
	}
	if r, g, bl := at(W/2, m+max(H/40, 1)); !(bl > r && bl > 150) {
		// Under the markers, mid-width: sky, or a building.
		if r+g+bl < 150 {
			errs = append(errs, fmt.Errorf("top middle is (%d,%d,%d), want sky or a building", r, g, bl))
		}
	}
	if r, g, bl := at(W/2, H-1-max(H/20, 1)); bl > r+30 {
		errs = append(errs, fmt.Errorf("bottom middle is (%d,%d,%d), want road, not sky", r, g, bl))
	}
	return errors.Join(errs...)
}
