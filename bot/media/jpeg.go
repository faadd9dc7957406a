package media

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
)

// The lossless JPEG path. A phone photo is stored as the phone encoded it,
// with its metadata segments taken out, instead of being decoded and encoded
// again: re-encoding costs most of the CPU a photo takes and a generation of
// quality, while everything that can identify the resident lives in segments
// of its own (APP1 EXIF and XMP, APP13 IPTC, maker notes inside EXIF, COM,
// MPF-indexed second images after the first image's end) that the decoder
// never needs. The rewrite keeps, of the APPn segments, only what changes
// how the pixels look:
//
//   - JFIF (APP0), rebuilt without its optional thumbnail: its presence tells
//     decoders the samples are YCbCr.
//   - Adobe (APP14), rebuilt to its 12 bytes: its transform flag says YCbCr,
//     RGB or YCCK.
//   - An ICC profile (APP2 "ICC_PROFILE" chunks, complete and under
//     maxICCSize): iPhones shoot Display P3, and without the profile the
//     colours come out dull. A profile describes the screen, not the person.
//   - The EXIF Orientation, alone, in a minimal EXIF segment written afresh
//     (see orientationEXIF), when the photo is stored sideways.
//
// Everything else before, between or after the frame's segments is dropped,
// including bytes after the EOI marker (gain maps, depth maps, motion-photo
// videos) and stray bytes between segments.

// maxJPEGSegments bounds how much a hostile file can make the walk keep: a
// camera writes about twenty segments, a progressive encoder a few dozen.
const maxJPEGSegments = 1024

// maxICCSize bounds the colour profile kept; display profiles are 0.5-4 KB,
// printer profiles a few hundred.
const maxICCSize = 1 << 20

// jpegSeg is one marker segment; for SOS, with the entropy-coded data that
// follows it.
type jpegSeg struct {
	marker   byte
	off, end int // data[off:end] is the segment from its 0xFF on
	payload  []byte
}

// jpegFile is a JPEG walked up to the first image's EOI.
type jpegFile struct {
	segs  []jpegSeg
	sof   int // index in segs of the frame header
	scans int
	// What image/jpeg decides the colour model from, as it decides it: the
	// last APP0 of 5 bytes or more says whether the file is JFIF; the last
	// Adobe APP14 gives the transform.
	jfif        bool
	jfifPayload []byte
	adobe       bool
	adobeXform  byte
}

// jpegError is a JPEG that will not decode, in words for the case worker.
type jpegError string

func (e jpegError) Error() string { return string(e) }

// walkJPEG splits a JPEG into its segments, accepting what image/jpeg
// accepts: extraneous bytes and fill bytes between segments, stray restart
// markers. It stops at the first EOI after a scan.
func walkJPEG(data []byte) (*jpegFile, error) {
	if len(data) < 2 || data[0] != 0xFF || data[1] != 0xD8 {
		return nil, jpegError("no start-of-image marker")
	}
	f := &jpegFile{sof: -1}
	i := 2
	for {
		// To the next marker, past extraneous bytes and fill bytes.
		for i < len(data) && data[i] != 0xFF {
			i++
		}
		start := i
		for i+1 < len(data) && data[i+1] == 0xFF {
			i++
		}
		if i+1 >= len(data) {
			return nil, jpegError("truncated: the file ends before the end-of-image marker")
		}
		m := data[i+1]
		i += 2
		switch {
		case m == 0x00 || (m >= 0xD0 && m <= 0xD7):
			continue // "\xFF\x00" outside a scan, or a restart marker: ignored
		case m == 0xD9:
			if f.sof < 0 {
				return nil, jpegError("no frame header (SOF marker)")
			}
			if f.scans == 0 {
				return nil, jpegError("no image data (SOS marker)")
			}
			return f, nil
		case m == 0xD8:
			return nil, jpegError("a second start-of-image marker")
		}
		if i+2 > len(data) {
			return nil, jpegError("truncated: the file ends inside a segment")
		}
		n := int(binary.BigEndian.Uint16(data[i:]))
		if n < 2 {
			return nil, jpegError("a segment shorter than its length field")
		}
		if i+n > len(data) {
			return nil, jpegError("truncated: a segment runs past the end of the file")
		}
		switch {
		case (m >= 0xE0 && m <= 0xEF) || m == 0xFE || m == 0xC4 || m == 0xDB || m == 0xDD || m == 0xDA:
			// APPn, COM, DHT, DQT, DRI, SOS: what image/jpeg reads or skips.
		case m == 0xC0 || m == 0xC1 || m == 0xC2:
			if f.sof >= 0 {
				return nil, jpegError("two frame headers (SOF markers)")
			}
			f.sof = len(f.segs)
		case m >= 0xC3 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC:
			return nil, jpegError(fmt.Sprintf("unsupported JPEG coding (SOF%d: lossless, hierarchical or arithmetic-coded)", m-0xC0))
		default:
			return nil, jpegError(fmt.Sprintf("unsupported JPEG marker 0x%02X", m))
		}
		if len(f.segs) == maxJPEGSegments {
			return nil, jpegError(fmt.Sprintf("more than %d segments", maxJPEGSegments))
		}
		seg := jpegSeg{marker: m, off: start, payload: data[i+2 : i+n]}
		i += n
		switch m {
		case 0xE0:
			if len(seg.payload) >= 5 {
				f.jfif = bytes.HasPrefix(seg.payload, []byte("JFIF\x00"))
				f.jfifPayload = seg.payload
			}
		case 0xEE:
			if len(seg.payload) >= 12 && bytes.HasPrefix(seg.payload, []byte("Adobe")) {
				f.adobe, f.adobeXform = true, seg.payload[11]
			}
		case 0xDA:
			if f.sof < 0 {
				return nil, jpegError("image data (SOS) before the frame header")
			}
			f.scans++
			// The entropy-coded data runs to the next marker that is neither
			// a stuffed 0xFF00 nor a restart marker.
			for {
				k := bytes.IndexByte(data[i:], 0xFF)
				if k < 0 || i+k+1 >= len(data) {
					return nil, jpegError("truncated: the image data runs to the end of the file")
				}
				i += k
				if c := data[i+1]; c == 0x00 || (c >= 0xD0 && c <= 0xD7) {
					i += 2
					continue
				}
				break
			}
		}
		seg.end = i
		f.segs = append(f.segs, seg)
	}
}

// clean writes the JPEG again with only the segments the picture needs (see
// the top of this file), and the orientation, when not 1, as a minimal EXIF.
func (f *jpegFile) clean(data []byte, orientation int) []byte {
	out := make([]byte, 0, len(data)+64)
	out = append(out, 0xFF, 0xD8)
	if f.jfif {
		// version, units, densities as they were; no thumbnail.
		j := []byte("JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
		copy(j[5:12], f.jfifPayload[5:min(len(f.jfifPayload), 12)])
		out = appendSeg(out, 0xE0, j)
	}
	if orientation >= 2 && orientation <= 8 {
		out = appendSeg(out, 0xE1, orientationEXIF(orientation))
	}
	for _, chunk := range f.icc() {
		out = appendSeg(out, 0xE2, chunk)
	}
	if f.adobe {
		a := []byte("Adobe\x00\x64\x00\x00\x00\x00\x00")
		a[11] = f.adobeXform
		out = appendSeg(out, 0xEE, a)
	}
	for _, s := range f.segs {
		if s.marker >= 0xE0 { // APPn and COM (0xFE)
			continue
		}
		out = append(out, data[s.off:s.end]...)
	}
	return append(out, 0xFF, 0xD9)
}

func appendSeg(b []byte, marker byte, payload []byte) []byte {
	b = append(b, 0xFF, marker)
	b = binary.BigEndian.AppendUint16(b, uint16(len(payload)+2))
	return append(b, payload...)
}

// icc returns the ICC profile's APP2 chunks in order, or nothing if they do
// not make one whole profile (sequence numbers 1..N, each once, the same N
// throughout) of at most maxICCSize.
func (f *jpegFile) icc() [][]byte {
	const sig = "ICC_PROFILE\x00"
	var chunks [][]byte
	total := 0
	for _, s := range f.segs {
		if s.marker != 0xE2 || !bytes.HasPrefix(s.payload, []byte(sig)) {
			continue
		}
		if len(s.payload) < len(sig)+2 || len(chunks) == 255 {
			return nil
		}
		chunks = append(chunks, s.payload)
		total += len(s.payload)
	}
	if len(chunks) == 0 || total > maxICCSize {
		return nil
	}
	n := int(chunks[0][len(sig)+1])
	if n != len(chunks) {
		return nil
	}
	slices.SortStableFunc(chunks, func(a, b []byte) int { return int(a[len(sig)]) - int(b[len(sig)]) })
	for k, c := range chunks {
		if int(c[len(sig)]) != k+1 || int(c[len(sig)+1]) != n {
			return nil
		}
	}
	return chunks
}

// orientationEXIF is an APP1 Exif payload holding one tag, the Orientation:
// 32 bytes that tell a viewer to turn the picture, and nothing about who took
// it, where or with what.
func orientationEXIF(o int) []byte {
	be := binary.BigEndian
	b := []byte("Exif\x00\x00MM\x00\x2A")
	b = be.AppendUint32(b, 8) // IFD0 right after the header
	b = be.AppendUint16(b, 1) // one entry
	b = be.AppendUint16(b, 0x0112)
	b = be.AppendUint16(b, 3) // SHORT
	b = be.AppendUint32(b, 1)
	b = be.AppendUint16(b, uint16(o))
	b = be.AppendUint16(b, 0)
	return be.AppendUint32(b, 0) // no IFD1, so no embedded thumbnail
}

// errNotFast says the reduced decoder does not handle this JPEG (progressive,
// several scans, CMYK, RGB): the standard decoder takes it.
var errNotFast = errors.New("not a single-scan YCbCr or greyscale JPEG")

// frame is a JPEG's frame header and what the decoder needs from the
// segments before its scan.
type frame struct {
	progressive bool
	width       int
	height      int
	nComp       int
	comp        [4]struct{ id, h, v, tq byte }
	hmax, vmax  int
	mxx, myy    int // MCUs across and down
}

// readFrame reads the frame header as image/jpeg validates it.
func (f *jpegFile) readFrame() (*frame, error) {
	s := f.segs[f.sof]
	p := s.payload
	fr := &frame{progressive: s.marker == 0xC2}
	switch len(p) {
	case 6 + 3*1, 6 + 3*3, 6 + 3*4:
	default:
		return nil, jpegError("unsupported number of colour components")
	}
	if p[0] != 8 {
		return nil, jpegError(fmt.Sprintf("unsupported precision of %d bits", p[0]))
	}
	fr.height = int(be16(p[1:]))
	fr.width = int(be16(p[3:]))
	fr.nComp = int(p[5])
	if 6+3*fr.nComp != len(p) {
		return nil, jpegError("frame header has the wrong length")
	}
	for i := range fr.nComp {
		c := &fr.comp[i]
		c.id, c.tq = p[6+3*i], p[8+3*i]
		for j := range i {
			if fr.comp[j].id == c.id {
				return nil, jpegError("repeated component identifier")
			}
		}
		if c.tq > 3 {
			return nil, jpegError("bad quantisation table selector")
		}
		hv := p[7+3*i]
		c.h, c.v = hv>>4, hv&15
		if c.h < 1 || c.h > 4 || c.v < 1 || c.v > 4 || c.h == 3 || c.v == 3 {
			return nil, jpegError("unsupported chroma subsampling")
		}
		switch fr.nComp {
		case 1:
			c.h, c.v = 1, 1 // one component is non-interleaved whatever it says
		case 3:
			y := fr.comp[0]
			if (i == 0 && c.v == 4) || (i == 1 && (y.h%c.h != 0 || y.v%c.v != 0)) ||
				(i == 2 && (c.h != fr.comp[1].h || c.v != fr.comp[1].v)) {
				return nil, jpegError("unsupported chroma subsampling")
			}
		case 4:
			if (i == 0 && hv != 0x11 && hv != 0x22) || ((i == 1 || i == 2) && hv != 0x11) ||
				(i == 3 && (c.h != fr.comp[0].h || c.v != fr.comp[0].v)) {
				return nil, jpegError("unsupported chroma subsampling")
			}
		}
	}
	fr.hmax, fr.vmax = int(fr.comp[0].h), int(fr.comp[0].v)
	if fr.width > 0 && fr.height > 0 {
		fr.mxx = (fr.width + 8*fr.hmax - 1) / (8 * fr.hmax)
		fr.myy = (fr.height + 8*fr.vmax - 1) / (8 * fr.vmax)
	}
	return fr, nil
}

// isRGB is image/jpeg's rule for a 3-component JPEG stored as RGB.
func (f *jpegFile) isRGB(fr *frame) bool {
	if f.jfif {
		return false
	}
	if f.adobe && f.adobeXform == 0 {
		return true
	}
	return fr.comp[0].id == 'R' && fr.comp[1].id == 'G' && fr.comp[2].id == 'B'
}

func be16(b []byte) uint16 { return binary.BigEndian.Uint16(b) }

// fastOK reports whether decodeReduced handles f: one baseline (or extended
// sequential) scan with every component, greyscale or YCbCr.
func (f *jpegFile) fastOK(fr *frame) bool {
	if fr.progressive || f.scans != 1 || fr.nComp == 4 || (fr.nComp == 3 && f.isRGB(fr)) {
		return false
	}
	for _, s := range f.segs {
		if s.marker == 0xDA {
			return len(s.payload) > 0 && int(s.payload[0]) == fr.nComp
		}
	}
	return false
}
