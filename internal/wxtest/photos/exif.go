package photos

import (
	"bytes"
	"encoding/binary"
	"image/jpeg"
	"math"
)

// TIFF field types.
const (
	typeByte      = 1
	typeASCII     = 2
	typeShort     = 3
	typeLong      = 4
	typeRational  = 5
	typeUndefined = 7
)

// Tags written and read here.
const (
	TagOrientation = 0x0112
	tagMake        = 0x010F
	tagModel       = 0x0110
	tagXRes        = 0x011A
	tagYRes        = 0x011B
	tagResUnit     = 0x0128
	tagSoftware    = 0x0131
	tagDateTime    = 0x0132
	tagCompression = 0x0103
	tagThumbOffset = 0x0201
	tagThumbLength = 0x0202
	tagExifIFD     = 0x8769
	tagGPSIFD      = 0x8825
	tagExposure    = 0x829A
	tagFNumber     = 0x829D
	tagISO         = 0x8827
	tagTakenAt     = 0x9003
	tagMakerNote   = 0x927C
	tagPixelX      = 0xA002
	tagPixelY      = 0xA003
	tagGPSVersion  = 0x0000
	tagGPSLatRef   = 0x0001
	tagGPSLat      = 0x0002
	tagGPSLngRef   = 0x0003
	tagGPSLng      = 0x0004
	tagGPSAltRef   = 0x0005
	tagGPSAlt      = 0x0006
	tagGPSDate     = 0x001D
)

// byteOrder reads and appends (binary.LittleEndian and BigEndian are both).
type byteOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

type entry struct {
	tag, typ uint16
	count    uint32
	data     []byte
}

// exifTIFF builds the TIFF structure of the photo's Exif segment as a phone
// writes it: IFD0 (make, model, orientation, date), the Exif IFD (exposure,
// a maker note with the phone's serial number, pixel size), the GPS IFD, and
// IFD1 with a 160x120 JPEG thumbnail. iPhones write big-endian, Android
// phones little-endian; both are exercised.
func exifTIFF(o Options, ph phone) []byte {
	var bo byteOrder = binary.LittleEndian
	order := "II*\x00"
	if ph.make == "Apple" {
		bo, order = binary.BigEndian, "MM\x00*"
	}
	ascii := func(tag uint16, s string) entry {
		return entry{tag, typeASCII, uint32(len(s) + 1), append([]byte(s), 0)}
	}
	short := func(tag uint16, v uint16) entry { return entry{tag, typeShort, 1, bo.AppendUint16(nil, v)} }
	long := func(tag uint16, v uint32) entry { return entry{tag, typeLong, 1, bo.AppendUint32(nil, v)} }
	rational := func(tag uint16, pairs ...uint32) entry {
		var b []byte
		for _, v := range pairs {
			b = bo.AppendUint32(b, v)
		}
		return entry{tag, typeRational, uint32(len(pairs) / 2), b}
	}
	dms := func(tag uint16, deg float64) entry {
		total := uint64(math.Round(math.Abs(deg) * 3600 * 10000))
		return rational(tag, uint32(total/(3600*10000)), 1, uint32(total/(60*10000)%60), 1, uint32(total%(60*10000)), 10000)
	}

	var thumb bytes.Buffer
	jpeg.Encode(&thumb, Scene(160, 120, o.Orientation, o.Seed), &jpeg.Options{Quality: 70})

	ifd0 := []entry{
		ascii(tagMake, ph.make),
		ascii(tagModel, ph.model),
		short(TagOrientation, uint16(o.Orientation)),
		rational(tagXRes, 72, 1),
		rational(tagYRes, 72, 1),
		short(tagResUnit, 2),
		ascii(tagSoftware, ph.model+" 4.0.0.120"),
		ascii(tagDateTime, ph.taken),
		long(tagExifIFD, 0), // offsets filled in below
		long(tagGPSIFD, 0),
	}
	exif := []entry{
		rational(tagExposure, 1, 120),
		rational(tagFNumber, 18, 10),
		short(tagISO, 100),
		ascii(tagTakenAt, ph.taken),
		{tagMakerNote, typeUndefined, 0, []byte(ph.make + "\x00\x00MM serial=SN8K2Q7X1 owner-account=13800138000 ")},
		long(tagPixelX, uint32(o.Width)),
		long(tagPixelY, uint32(o.Height)),
	}
	exif[4].count = uint32(len(exif[4].data))
	latRef, lngRef := "N", "E"
	if ph.lat < 0 {
		latRef = "S"
	}
	if ph.lng < 0 {
		lngRef = "W"
	}
	gps := []entry{
		{tagGPSVersion, typeByte, 4, []byte{2, 2, 0, 0}},
		ascii(tagGPSLatRef, latRef),
		dms(tagGPSLat, ph.lat),
		ascii(tagGPSLngRef, lngRef),
		dms(tagGPSLng, ph.lng),
		{tagGPSAltRef, typeByte, 1, []byte{0}},
		rational(tagGPSAlt, 78150, 100),
		ascii(tagGPSDate, "2024:12:03"),
	}
	ifd1 := []entry{
		short(tagCompression, 6),
		long(tagThumbOffset, 0),
		long(tagThumbLength, uint32(thumb.Len())),
	}

	const ifd0Off = 8
	exifOff := ifd0Off + ifdSize(ifd0)
	gpsOff := exifOff + ifdSize(exif)
	ifd1Off := gpsOff + ifdSize(gps)
	thumbOff := ifd1Off + ifdSize(ifd1)
	ifd0[8] = long(tagExifIFD, exifOff)
	ifd0[9] = long(tagGPSIFD, gpsOff)
	ifd1[1] = long(tagThumbOffset, thumbOff)

	b := []byte(order)
	b = bo.AppendUint32(b, ifd0Off)
	b = appendIFD(b, bo, ifd0Off, ifd0, ifd1Off)
	b = appendIFD(b, bo, exifOff, exif, 0)
	b = appendIFD(b, bo, gpsOff, gps, 0)
	b = appendIFD(b, bo, ifd1Off, ifd1, 0)
	return append(b, thumb.Bytes()...)
}

// ifdSize is the bytes an IFD and its out-of-line values take.
func ifdSize(entries []entry) uint32 {
	n := uint32(2 + 12*len(entries) + 4)
	for _, e := range entries {
		if len(e.data) > 4 {
			n += uint32(len(e.data)+1) &^ 1
		}
	}
	return n
}

// appendIFD writes an IFD that starts at offset off (from the TIFF header),
// its out-of-line values right after it, and next as the next IFD's offset.
func appendIFD(b []byte, bo byteOrder, off uint32, entries []entry, next uint32) []byte {
	b = bo.AppendUint16(b, uint16(len(entries)))
	dataOff := off + uint32(2+12*len(entries)+4)
	var tail []byte
	for _, e := range entries {
		b = bo.AppendUint16(b, e.tag)
		b = bo.AppendUint16(b, e.typ)
		b = bo.AppendUint32(b, e.count)
		if len(e.data) <= 4 {
			var v [4]byte
			copy(v[:], e.data)
			b = append(b, v[:]...)
			continue
		}
		b = bo.AppendUint32(b, dataOff+uint32(len(tail)))
		tail = append(tail, e.data...)
		if len(tail)%2 == 1 {
			tail = append(tail, 0) // values start on word boundaries
		}
	}
	b = bo.AppendUint32(b, next)
	return append(b, tail...)
}
