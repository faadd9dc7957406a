// Package photos makes the photos tests send as residents would, and
// inspects what lianxin stored: phone photos carry EXIF with the GPS
// position of the resident's home, which must never be kept.
package photos

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/jpeg"
	"math"
)

// Residents send phone photos, and phone photos carry EXIF with the GPS
// position of the resident's home. The bot must strip it before a photo goes
// anywhere; these helpers make such a photo and check whether one still
// carries metadata. They walk the JPEG segments themselves rather than trust a
// decoder, because image/jpeg ignores APP1 entirely: a decode tells you
// nothing about what a file would leak.

// JPEGWithGPS returns a width x height JPEG (encoded by image/jpeg) with an
// APP1 Exif segment right after SOI, as a phone writes it: IFD0 with Make,
// Model, Orientation and DateTime, an Exif sub-IFD with DateTimeOriginal, and
// a GPS IFD with GPSLatitudeRef/GPSLatitude/GPSLongitudeRef/GPSLongitude as
// degree/minute/second rationals. The output depends only on the arguments.
func JPEGWithGPS(width, height int, lat, lng float64) []byte {
	width, height = max(width, 1), max(height, 1)
	img := image.NewRGBA(image.Rect(0, 0, width, height))
	// A sky over a grey road with a dark crack: enough structure that the
	// JPEG is photo-sized, and a picture of what residents report.
	seed := uint32(math.Float64bits(lat)^math.Float64bits(lng)) | 1
	for y := range height {
		for x := range width {
			var c color.RGBA
			if y < height/2 {
				c = color.RGBA{uint8(120 + 100*y/height), uint8(170 + 60*y/height), 235, 255}
			} else {
				seed ^= seed << 13
				seed ^= seed >> 17
				seed ^= seed << 5
				g := uint8(110 + seed%40)
				c = color.RGBA{g, g, g - 5, 255}
				if dx := x - width/3 - (y-height/2)/2; dx >= 0 && dx < max(width/80, 2) {
					c = color.RGBA{40, 38, 35, 255}
				}
			}
			img.SetRGBA(x, y, c)
		}
	}
	var enc bytes.Buffer
	if err := jpeg.Encode(&enc, img, &jpeg.Options{Quality: 85}); err != nil {
		// Encoding an in-memory RGBA image to a buffer does not fail.
		panic("fakewx: jpeg encode: " + err.Error())
	}
	encoded := enc.Bytes()

	app1 := append([]byte("Exif\x00\x00"), phoneEXIF(lat, lng)...)
	out := make([]byte, 0, len(encoded)+len(app1)+4)
	out = append(out, 0xFF, 0xD8, 0xFF, 0xE1)
	out = binary.BigEndian.AppendUint16(out, uint16(len(app1)+2))
	out = append(out, app1...)
	return append(out, encoded[2:]...) // encoded starts with its own SOI
}

// TIFF field types used here.
const (
	tiffByte     = 1
	tiffASCII    = 2
	tiffShort    = 3
	tiffLong     = 4
	tiffRational = 5
)

// Tags.
const (
	gpsTagMake          = 0x010F
	gpsTagModel         = 0x0110
	tagOrientation      = 0x0112
	gpsTagDateTime      = 0x0132
	gpsTagExifIFD       = 0x8769
	gpsTagGPSIFD        = 0x8825
	tagDateTimeOriginal = 0x9003
	tagGPSVersionID     = 0x0000
	tagGPSLatitudeRef   = 0x0001
	tagGPSLatitude      = 0x0002
	tagGPSLongitudeRef  = 0x0003
	tagGPSLongitude     = 0x0004
)

type ifdEntry struct {
	tag, typ uint16
	count    uint32
	data     []byte
}

var le = binary.LittleEndian

func asciiEntry(tag uint16, s string) ifdEntry {
	return ifdEntry{tag, tiffASCII, uint32(len(s) + 1), append([]byte(s), 0)}
}

func longEntry(tag uint16, v uint32) ifdEntry {
	return ifdEntry{tag, tiffLong, 1, le.AppendUint32(nil, v)}
}

// dmsEntry writes |deg| as degrees/1, minutes/1, seconds/10000.
func dmsEntry(tag uint16, deg float64) ifdEntry {
	total := uint64(math.Round(math.Abs(deg) * 3600 * 10000)) // 1e-4 arc seconds
	d := total / (3600 * 10000)
	m := total / (60 * 10000) % 60
	sec := total % (60 * 10000)
	var b []byte
	for _, r := range [][2]uint32{{uint32(d), 1}, {uint32(m), 1}, {uint32(sec), 10000}} {
		b = le.AppendUint32(b, r[0])
		b = le.AppendUint32(b, r[1])
	}
	return ifdEntry{tag, tiffRational, 3, b}
}

// gpsIFDSize is the bytes an IFD and its out-of-line values take.
func gpsIFDSize(entries []ifdEntry) uint32 {
	n := uint32(2 + 12*len(entries) + 4)
	for _, e := range entries {
		if len(e.data) > 4 {
			n += uint32(len(e.data)+1) &^ 1
		}
	}
	return n
}

// gpsAppendIFD writes an IFD that starts at offset off (from the TIFF header),
// its out-of-line values right after it.
func gpsAppendIFD(b []byte, off uint32, entries []ifdEntry) []byte {
	b = le.AppendUint16(b, uint16(len(entries)))
	dataOff := off + uint32(2+12*len(entries)+4)
	var tail []byte
	for _, e := range entries {
		b = le.AppendUint16(b, e.tag)
		b = le.AppendUint16(b, e.typ)
		b = le.AppendUint32(b, e.count)
		if len(e.data) <= 4 {
			var v [4]byte
			copy(v[:], e.data)
			b = append(b, v[:]...)
			continue
		}
		b = le.AppendUint32(b, dataOff+uint32(len(tail)))
		tail = append(tail, e.data...)
		if len(tail)%2 == 1 {
			tail = append(tail, 0) // TIFF values start on word boundaries
		}
	}
	b = le.AppendUint32(b, 0) // no next IFD (no thumbnail)
	return append(b, tail...)
}

// phoneEXIF builds the TIFF structure of a phone photo's Exif segment.
func phoneEXIF(lat, lng float64) []byte {
	latRef, lngRef := "N", "E"
	if lat < 0 {
		latRef = "S"
	}
	if lng < 0 {
		lngRef = "W"
	}
	const taken = "2024:12:03 08:15:42" // a winter morning: heating season
	ifd0 := []ifdEntry{
		asciiEntry(gpsTagMake, "HUAWEI"),
		asciiEntry(gpsTagModel, "ELS-AN00"),
		{tagOrientation, tiffShort, 1, le.AppendUint16(nil, 1)},
		asciiEntry(gpsTagDateTime, taken),
		longEntry(gpsTagExifIFD, 0), // offsets filled in below
		longEntry(gpsTagGPSIFD, 0),
	}
	exifIFD := []ifdEntry{asciiEntry(tagDateTimeOriginal, taken)}
	gpsIFD := []ifdEntry{
		{tagGPSVersionID, tiffByte, 4, []byte{2, 2, 0, 0}},
		asciiEntry(tagGPSLatitudeRef, latRef),
		dmsEntry(tagGPSLatitude, lat),
		asciiEntry(tagGPSLongitudeRef, lngRef),
		dmsEntry(tagGPSLongitude, lng),
	}
	const ifd0Off = 8
	exifOff := ifd0Off + gpsIFDSize(ifd0)
	gpsOff := exifOff + gpsIFDSize(exifIFD)
	ifd0[4] = longEntry(gpsTagExifIFD, exifOff)
	ifd0[5] = longEntry(gpsTagGPSIFD, gpsOff)

	b := []byte("II*\x00")
	b = le.AppendUint32(b, ifd0Off)
	b = gpsAppendIFD(b, ifd0Off, ifd0)
	b = gpsAppendIFD(b, exifOff, exifIFD)
	return gpsAppendIFD(b, gpsOff, gpsIFD)
}

// gpsTIFF returns the TIFF structure of the first APP1 Exif segment. It stops
// at SOS: metadata segments precede the scan, and what follows is
// entropy-coded data in which 0xFF bytes mean nothing.
func gpsTIFF(b []byte) ([]byte, bool) {
	if len(b) < 4 || b[0] != 0xFF || b[1] != 0xD8 {
		return nil, false
	}
	i := 2
	for i+1 < len(b) {
		if b[i] != 0xFF {
			return nil, false
		}
		marker := b[i+1]
		i += 2
		switch {
		case marker == 0xFF: // fill byte before a marker
			i--
			continue
		case marker == 0xD9 || marker == 0xDA: // EOI, SOS
			return nil, false
		case marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7): // no length
			continue
		}
		if i+2 > len(b) {
			return nil, false
		}
		n := int(binary.BigEndian.Uint16(b[i:]))
		if n < 2 || i+n > len(b) {
			return nil, false
		}
		payload := b[i+2 : i+n]
		if marker == 0xE1 && bytes.HasPrefix(payload, []byte("Exif\x00\x00")) {
			return payload[6:], true
		}
		i += n
	}
	return nil, false
}

// GPSOf reads the position a JPEG's Exif records, in signed decimal degrees.
func GPSOf(jpegData []byte) (lat, lng float64, ok bool) {
	g, ok := gpsIFD(jpegData)
	if !ok {
		return 0, 0, false
	}
	lat, okLat := g.coordinate(tagGPSLatitude, tagGPSLatitudeRef, "S")
	lng, okLng := g.coordinate(tagGPSLongitude, tagGPSLongitudeRef, "W")
	return lat, lng, okLat && okLng
}

type tiffFile struct {
	b  []byte
	bo binary.ByteOrder
}

type rawEntry struct {
	tag, typ uint16
	count    uint32
	value    []byte // the 4-byte value-or-offset field
}

type parsedIFD struct {
	t       tiffFile
	entries []rawEntry
}

func gpsIFD(jpegData []byte) (parsedIFD, bool) {
	b, ok := gpsTIFF(jpegData)
	if !ok || len(b) < 8 {
		return parsedIFD{}, false
	}
	t := tiffFile{b: b}
	switch string(b[:2]) {
	case "II":
		t.bo = binary.LittleEndian
	case "MM":
		t.bo = binary.BigEndian
	default:
		return parsedIFD{}, false
	}
	if t.bo.Uint16(b[2:]) != 42 {
		return parsedIFD{}, false
	}
	ifd0, ok := t.ifd(t.bo.Uint32(b[4:]))
	if !ok {
		return parsedIFD{}, false
	}
	for _, e := range ifd0.entries {
		if e.tag == gpsTagGPSIFD {
			return t.ifd(t.bo.Uint32(e.value))
		}
	}
	return parsedIFD{}, false
}

func (t tiffFile) ifd(off uint32) (parsedIFD, bool) {
	if uint64(off)+2 > uint64(len(t.b)) {
		return parsedIFD{}, false
	}
	n := int(t.bo.Uint16(t.b[off:]))
	start := int(off) + 2
	if start+12*n > len(t.b) {
		return parsedIFD{}, false
	}
	p := parsedIFD{t: t}
	for k := range n {
		e := t.b[start+12*k:]
		p.entries = append(p.entries, rawEntry{
			tag: t.bo.Uint16(e), typ: t.bo.Uint16(e[2:]), count: t.bo.Uint32(e[4:]), value: e[8:12],
		})
	}
	return p, true
}

// data returns an entry's value bytes, inline or out of line.
func (p parsedIFD) data(tag uint16) (rawEntry, []byte, bool) {
	for _, e := range p.entries {
		if e.tag != tag {
			continue
		}
		size := map[uint16]uint64{tiffByte: 1, tiffASCII: 1, tiffShort: 2, tiffLong: 4, tiffRational: 8}[e.typ]
		n := size * uint64(e.count)
		if n == 0 {
			return e, nil, false
		}
		if n <= 4 {
			return e, e.value[:n], true
		}
		off := uint64(p.t.bo.Uint32(e.value))
		if off+n > uint64(len(p.t.b)) {
			return e, nil, false
		}
		return e, p.t.b[off : off+n], true
	}
	return rawEntry{}, nil, false
}

func (p parsedIFD) coordinate(tag, refTag uint16, negative string) (float64, bool) {
	e, v, ok := p.data(tag)
	if !ok || e.typ != tiffRational || e.count != 3 {
		return 0, false
	}
	var deg float64
	for k, scale := range []float64{1, 60, 3600} {
		num, den := p.t.bo.Uint32(v[8*k:]), p.t.bo.Uint32(v[8*k+4:])
		if den == 0 {
			return 0, false
		}
		deg += float64(num) / float64(den) / scale
	}
	if _, ref, ok := p.data(refTag); ok && len(ref) > 0 && string(ref[:1]) == negative {
		deg = -deg
	}
	return deg, true
}
