package media

import (
	"encoding/binary"
)

// A reduced-resolution baseline JPEG decoder, for the thumbnail and for
// verification. Every coefficient of every block is Huffman-decoded, to the
// last block of the scan, with the checks image/jpeg makes (so a corrupt or
// truncated file is refused as it would be), but only the lowest n x n
// frequencies of each 8x8 block are kept and turned back into n x n pixels:
// n = 1 (the DC coefficient alone, a 1/8-scale image), 2 or 4. The
// full-resolution inverse DCT, colour conversion and upsampling, which are
// most of a full decode, never happen. A 4032x3024 photo decodes to a
// 504x378 image, still more than a 320-pixel thumbnail needs.
//
// Its semantics follow image/jpeg's scan decoder, quirks included (an
// end-of-band run in a baseline scan, a run past the 63rd coefficient ending
// the block, resynchronising on garbage before a restart marker), so that
// the two accept the same files; the one place it is stricter is a Huffman
// table with more codes than its lengths allow, which image/jpeg decodes
// into nonsense and this refuses. The fuzz test holds it to that.

// huffLUTBits is the look-up width: codes of up to 9 bits (nearly all of a
// photo's) decode in one step.
const huffLUTBits = 9

type huffTable struct {
	defined bool
	// lut[next 9 bits] = length<<8 | symbol, or 0 for a longer code.
	lut [1 << huffLUTBits]uint16
	// For codes longer than huffLUTBits: maxCode[l] is the largest code of
	// length l (-1: none) and valOff[l]+code indexes vals.
	maxCode [17]int32
	valOff  [17]int32
	vals    [256]byte
	// ac[next 9 bits], for an AC table: what the AC loops need of a code of
	// up to 9 bits in one load: acValid | end<<14 | run<<10 | size<<5 |
	// length; end marks an end of block or of band (size 0, run < 15).
	ac [1 << huffLUTBits]uint16
}

const acValid = 1 << 15

// build makes the table from a DHT's 16 counts and symbols, refusing counts
// that do not fit a prefix code.
func (h *huffTable) build(counts []byte, vals []byte) error {
	*h = huffTable{defined: true}
	copy(h.vals[:], vals)
	code, k := int32(0), int32(0)
	for l := int32(1); l <= 16; l++ {
		n := int32(counts[l-1])
		if n == 0 {
			h.maxCode[l] = -1
		} else {
			if code+n > 1<<l {
				return jpegError("corrupt Huffman table")
			}
			h.valOff[l] = k - code
			for c := code; c < code+n; c++ {
				if l <= huffLUTBits {
					sym := vals[k+c-code]
					run, size := uint16(sym>>4), uint16(sym&15)
					ac := acValid | run<<10 | size<<5 | uint16(l)
					if size == 0 && run != 15 {
						ac |= 1 << 14
					}
					shift := huffLUTBits - l
					for j := int32(0); j < 1<<shift; j++ {
						h.lut[c<<shift|j] = uint16(l)<<8 | uint16(sym)
						h.ac[c<<shift|j] = ac
					}
				}
			}
			h.maxCode[l] = code + n - 1
			k += n
		}
		code = (code + n) << 1
	}
	return nil
}

// reduced is a JPEG decoded at n/8 scale: one plane per component, each at
// its own sampling (a 4:2:0 photo's chroma planes are half the luma's size).
type reduced struct {
	n      int
	fr     *frame
	planes [3][]byte
	stride [3]int
}

// zigzag position k -> natural (row*8+col) index, as in the JPEG standard.
var unzig = [64]byte{
	0, 1, 8, 16, 9, 2, 3, 10,
	17, 24, 32, 25, 18, 11, 4, 5,
	12, 19, 26, 33, 40, 48, 41, 34,
	27, 20, 13, 6, 7, 14, 21, 28,
	35, 42, 49, 56, 57, 50, 43, 36,
	29, 22, 15, 23, 30, 37, 44, 51,
	58, 59, 52, 45, 38, 31, 39, 46,
	53, 60, 61, 54, 47, 55, 62, 63,
}

// decodeReduced decodes f's single baseline scan at scale n/8 (n = 1, 2 or
// 4). It returns errNotFast for what it does not handle, and a jpegError for
// a file that will not decode.
func decodeReduced(data []byte, f *jpegFile, fr *frame, n int) (*reduced, error) {
	if !f.fastOK(fr) {
		return nil, errNotFast
	}
	var (
		quant   [4][64]int32
		qset    [4]bool
		huff    [2][4]huffTable
		ri      int
		sos     jpegSeg
		scanCmp [3]int  // scan order -> frame component
		td, ta  [3]byte // table selectors
	)
	baseline := f.segs[f.sof].marker == 0xC0
	// Tables after the scan do not apply to it, but image/jpeg reads them
	// all the same and refuses the file if one is corrupt; so does this,
	// building them into scratch.
	var scratch huffTable
	afterScan := false
	for _, s := range f.segs {
		p := s.payload
		switch s.marker {
		case 0xDB: // DQT
			for len(p) > 0 {
				pq, tq := p[0]>>4, p[0]&15
				if tq > 3 || pq > 1 {
					return nil, jpegError("corrupt quantisation table")
				}
				size := 64 * int(pq+1)
				if len(p) < 1+size {
					return nil, jpegError("quantisation table has the wrong length")
				}
				for k := range 64 {
					if afterScan {
						break
					}
					if pq == 0 {
						quant[tq][k] = int32(p[1+k])
					} else {
						quant[tq][k] = int32(p[1+2*k])<<8 | int32(p[2+2*k])
					}
				}
				qset[tq] = qset[tq] || !afterScan
				p = p[1+size:]
			}
		case 0xC4: // DHT
			for len(p) > 0 {
				if len(p) < 17 {
					return nil, jpegError("Huffman table has the wrong length")
				}
				tc, th := p[0]>>4, p[0]&15
				if tc > 1 || th > 3 || (baseline && th > 1) {
					return nil, jpegError("corrupt Huffman table")
				}
				total := 0
				for _, c := range p[1:17] {
					total += int(c)
				}
				if total == 0 || total > 256 || len(p) < 17+total {
					return nil, jpegError("Huffman table has the wrong length")
				}
				h := &huff[tc][th]
				if afterScan {
					h = &scratch
				}
				if err := h.build(p[1:17], p[17:17+total]); err != nil {
					return nil, err
				}
				p = p[17+total:]
			}
		case 0xDD: // DRI
			if len(p) != 2 {
				return nil, jpegError("restart interval has the wrong length")
			}
			if !afterScan {
				ri = int(be16(p))
			}
		case 0xDA: // SOS
			sos = s
			ns := 0
			if len(p) > 0 {
				ns = int(p[0])
			}
			if len(p) < 4 || len(p) != 4+2*ns || ns < 1 {
				return nil, jpegError("scan header has the wrong length")
			}
			for i := range ns {
				cs := p[1+2*i]
				ci := -1
				for j := range fr.nComp {
					if fr.comp[j].id == cs {
						ci = j
					}
				}
				if ci < 0 {
					return nil, jpegError("scan names an unknown component")
				}
				for j := range i {
					if scanCmp[j] == ci {
						return nil, jpegError("scan repeats a component")
					}
				}
				scanCmp[i] = ci
				td[i], ta[i] = p[2+2*i]>>4, p[2+2*i]&15
				if td[i] > 3 || ta[i] > 3 || (baseline && (td[i] > 1 || ta[i] > 1)) {
					return nil, jpegError("corrupt table selector")
				}
			}
			if fr.nComp > 1 {
				hv := 0
				for i := range ns {
					hv += int(fr.comp[scanCmp[i]].h) * int(fr.comp[scanCmp[i]].v)
				}
				if hv > 10 {
					return nil, jpegError("sampling factors too large")
				}
			}
			afterScan = true
		}
	}
	if !afterScan {
		return nil, jpegError("no image data (SOS marker)")
	}
	for i := range fr.nComp {
		if !qset[fr.comp[i].tq] {
			// image/jpeg would decode it with all-zero quantisation: a flat
			// grey picture. Not a photo anyone took.
			return nil, jpegError("missing quantisation table")
		}
	}
	r := &reduced{n: n, fr: fr}
	for i := range fr.nComp {
		c := fr.comp[i]
		r.stride[i] = fr.mxx * int(c.h) * n
		if fr.nComp == 1 {
			// Non-interleaved: blocks cover the image, not whole MCUs.
			r.stride[i] = (fr.width + 7) / 8 * n
			r.planes[i] = make([]byte, r.stride[i]*((fr.height+7)/8*n))
			continue
		}
		r.planes[i] = make([]byte, r.stride[i]*fr.myy*int(c.v)*n)
	}

	// keep[k] is where zigzag coefficient k goes in the n x n block of kept
	// frequencies, or -1; maxK is the last k kept.
	var keep [64]int8
	maxK := 0
	for k := range 64 {
		row, col := int(unzig[k])/8, int(unzig[k])%8
		keep[k] = -1
		if row < n && col < n {
			keep[k] = int8(row*n + col)
			maxK = k
		}
	}

	br := bitReader{data: data[:sos.end], pos: sos.off + 4 + len(sos.payload)}
	var (
		blk    [16]int32
		dc     [3]int32
		eobRun int
	)
	mcus := fr.mxx * fr.myy
	bw := fr.mxx // blocks across, for one component
	if fr.nComp == 1 {
		bw = (fr.width + 7) / 8
		mcus = bw * ((fr.height + 7) / 8)
	}
	for i := range fr.nComp {
		if !huff[0][td[i]].defined || !huff[1][ta[i]].defined {
			return nil, jpegError("corrupt image data (missing Huffman table)")
		}
	}
	expectRST := byte(0xD0)
	for mcu := 0; mcu < mcus; {
		for i := range fr.nComp {
			ci := scanCmp[i]
			c := fr.comp[ci]
			q := &quant[c.tq]
			dcT, acT := &huff[0][td[i]], &huff[1][ta[i]]
			for j := 0; j < int(c.h)*int(c.v); j++ {
				bx, by := mcu%bw, mcu/bw
				if fr.nComp > 1 {
					bx = bx*int(c.h) + j%int(c.h)
					by = by*int(c.v) + j/int(c.h)
				}
				clear(blk[:n*n])
				if br.nb < 32 {
					br.fill()
				}
				s, err := br.symbol(dcT)
				if err != nil {
					return nil, err
				}
				if s > 16 {
					return nil, jpegError("corrupt image data (excessive DC component)")
				}
				dc[ci] += br.receive(s)
				blk[0] = dc[ci] * q[0]
				if eobRun > 0 {
					eobRun--
				} else {
					var err error
					eobRun, err = br.acBlock(acT, q, &blk, &keep, maxK)
					if err != nil {
						return nil, err
					}
				}
				r.put(ci, bx, by, &blk)
			}
		}
		if br.pad > br.nb {
			return nil, errTruncatedScan
		}
		mcu++
		if ri > 0 && mcu%ri == 0 && mcu < mcus {
			if err := br.restart(expectRST); err != nil {
				return nil, err
			}
			expectRST = 0xD0 + (expectRST-0xD0+1)%8
			dc, eobRun = [3]int32{}, 0
		}
	}
	return r, nil
}

// acBlock decodes a block's AC coefficients, keeping (dequantised) those up
// to zigzag position maxK that keep places, and returns the end-of-band run
// that follows, if any. It is most of the decoder's time: it works on local
// copies of the bit state, takes run, size and code length from one table
// load, and has two loops, one while coefficients may still be kept and a
// tighter one that only steps over the rest.
func (br *bitReader) acBlock(acT *huffTable, q *[64]int32, blk *[16]int32, keep *[64]int8, maxK int) (int, error) {
	acc, nb := br.acc, br.nb
	k := 1
	for k <= 63 {
		if nb < 32 {
			br.acc, br.nb = acc, nb
			br.fill()
			acc, nb = br.acc, br.nb
		}
		var run, size uint
		if e := acT.ac[(acc>>(nb-huffLUTBits))&(1<<huffLUTBits-1)]; e != 0 {
			nb -= uint(e & 31)
			if e&(1<<14) != 0 { // end of block, or of band
				br.acc, br.nb = acc, nb
				return eobRunOf(br, int(e>>10&15)), nil
			}
			run, size = uint(e>>10&15), uint(e>>5&31)
		} else {
			br.acc, br.nb = acc, nb
			rs, err := br.slowSymbol(acT)
			if err != nil {
				return 0, err
			}
			acc, nb = br.acc, br.nb
			run, size = uint(rs>>4), uint(rs&15)
			if size == 0 && run != 15 {
				return eobRunOf(br, int(run)), nil
			}
		}
		if size == 0 { // sixteen zeros
			k += 16
			continue
		}
		// Past the 63rd coefficient the block ends without the value's bits
		// being read, as in image/jpeg.
		if k += int(run); k > 63 {
			break
		}
		nb -= size
		if k <= maxK && keep[k] >= 0 {
			v := int32(acc>>nb) & (1<<size - 1)
			if v < 1<<(size-1) {
				v += -1<<size + 1
			}
			blk[keep[k]] = v * q[k]
		}
		k++
	}
	br.acc, br.nb = acc, nb
	return 0, nil
}

// eobRunOf reads an end-of-band run (run 0 is a plain end of block): the
// count of blocks, this one included, whose AC coefficients are all zero.
// image/jpeg honours it in baseline scans too, and so does this.
func eobRunOf(br *bitReader, run int) int {
	return (1<<run | int(br.bits(uint(run)))) - 1
}

var errTruncatedScan = jpegError("truncated or corrupt image data (it ends before the last block)")

// bitReader reads the entropy-coded data of a scan, most significant bit
// first, taking out stuffed zero bytes. It never reads a marker: past one
// (or the end) it supplies zero bits and counts them in pad, and a decoder
// that consumed any (pad > nb) read past the end of its data.
type bitReader struct {
	data []byte // to the end of the scan's data
	pos  int
	acc  uint64 // the low nb bits are unread
	nb   uint
	pad  uint
}

// fill tops acc up to at least 57 bits.
func (r *bitReader) fill() {
	if r.pos+8 <= len(r.data) {
		// Eight bytes at once when none is 0xFF (no stuffing, no marker):
		// nearly always, in a photo's data.
		v := binary.BigEndian.Uint64(r.data[r.pos:])
		if x := ^v; (x-0x0101010101010101)&^x&0x8080808080808080 == 0 {
			k := (64 - r.nb) / 8
			r.acc = r.acc<<(8*k) | v>>(64-8*k)
			r.nb += 8 * k
			r.pos += int(k)
			return
		}
	}
	for r.nb <= 56 {
		var b byte
		if r.pos < len(r.data) {
			b = r.data[r.pos]
			switch {
			case b != 0xFF:
				r.pos++
			case r.pos+1 < len(r.data) && r.data[r.pos+1] == 0:
				r.pos += 2
			default: // a marker
				b, r.pad = 0, r.pad+8
			}
		} else {
			r.pad += 8
		}
		r.acc = r.acc<<8 | uint64(b)
		r.nb += 8
	}
}

// symbol decodes one Huffman symbol; nb >= 16 on entry.
func (r *bitReader) symbol(h *huffTable) (int32, error) {
	if e := h.lut[(r.acc>>(r.nb-huffLUTBits))&(1<<huffLUTBits-1)]; e != 0 {
		r.nb -= uint(e >> 8)
		return int32(e & 0xFF), nil
	}
	return r.slowSymbol(h)
}

func (r *bitReader) slowSymbol(h *huffTable) (int32, error) {
	for l := uint(huffLUTBits + 1); l <= 16; l++ {
		code := int32(r.acc>>(r.nb-l)) & (1<<l - 1)
		if code <= h.maxCode[l] {
			r.nb -= l
			return int32(h.vals[byte(h.valOff[l]+code)]), nil
		}
	}
	return 0, jpegError("corrupt image data (bad Huffman code)")
}

// bits reads s raw bits; nb >= s on entry.
func (r *bitReader) bits(s uint) uint32 {
	r.nb -= s
	return uint32(r.acc>>r.nb) & (1<<s - 1)
}

// receive reads s bits as a signed value (RECEIVE and EXTEND in the
// standard); nb >= s on entry.
func (r *bitReader) receive(s int32) int32 {
	if s == 0 {
		return 0
	}
	v := int32(r.bits(uint(s)))
	if v < 1<<(s-1) {
		v += -1<<s + 1
	}
	return v
}

// restart drops the bits left of the interval and moves past the restart
// marker that must come next. Like image/jpeg, it skips garbage before it;
// any other marker is an error.
func (r *bitReader) restart(want byte) error {
	for {
		if r.pos+1 >= len(r.data) {
			return jpegError("corrupt image data (missing restart marker)")
		}
		if r.data[r.pos] != 0xFF {
			r.pos++
			continue
		}
		switch c := r.data[r.pos+1]; c {
		case want:
			r.pos += 2
			r.acc, r.nb, r.pad = 0, 0, 0
			return nil
		case 0x00:
			r.pos += 2
		default:
			return jpegError("corrupt image data (bad restart marker)")
		}
	}
}

// put turns a block's kept coefficients (dequantised, n x n in natural
// order) into n x n samples of its component's plane.
func (r *reduced) put(ci, bx, by int, blk *[16]int32) {
	n := r.n
	stride := r.stride[ci]
	dst := r.planes[ci][by*n*stride+bx*n:]
	switch n {
	case 1:
		// The DC coefficient is 8 times the block's mean, less 128*8.
		dst[0] = clampSample((blk[0] + 4) >> 3)
	case 2:
		// A 2-point inverse DCT per axis, scaled by 2/8 for the smaller
		// block: every weight comes out as 1/8.
		a, b, c, d := blk[0], blk[1], blk[2], blk[3]
		dst[0] = clampSample((a + b + c + d + 4) >> 3)
		dst[1] = clampSample((a - b + c - d + 4) >> 3)
		dst[stride] = clampSample((a + b - c - d + 4) >> 3)
		dst[stride+1] = clampSample((a - b - c + d + 4) >> 3)
	case 4:
		idct4(dst, stride, blk)
	}
}

// clampSample level-shifts a sample by 128 and clamps it to a byte.
func clampSample(v int32) byte {
	v += 128
	if uint32(v) > 255 {
		if v < 0 {
			return 0
		}
		return 255
	}
	return byte(v)
}

// The 4-point inverse DCT per axis, with the sqrt(4/8) per axis that
// scales an 8x8 block's coefficients to a 4x4 one's, in 1/4096ths:
// 4096 * sqrt(1/2) * a(u) * cos((2x+1) u pi/8), a(0) = 1/2, a(u>0) =
// sqrt(1/2), takes three values, and the transform is a butterfly:
//
//	x0 = e0 + o0, x3 = e0 - o0, x1 = e1 + o1, x2 = e1 - o1
//	e0 = c0 (F0 + F2), e1 = c0 (F0 - F2)
//	o0 = c1 F1 + c3 F3, o1 = c3 F1 - c1 F3
const (
	idctC0 = 1448 // 4096 * 0.5 * cos(pi/4)
	idctC1 = 1892 // 4096 * 0.5 * cos(pi/8)
	idctC3 = 784  // 4096 * 0.5 * cos(3 pi/8)
)

// idct4 turns a block's 4x4 lowest frequencies into 4x4 samples. Rows
// first, kept in 1/1024ths; then columns. int64 because hostile
// coefficients (2^15 times a 16-bit quantiser) would overflow int32 on the
// way; a photo's never come near.
func idct4(dst []byte, stride int, blk *[16]int32) {
	var ac int32
	for _, c := range blk[1:] {
		ac |= c
	}
	if ac == 0 {
		// A flat block (sky, walls): every sample is the mean.
		v := clampSample((blk[0] + 4) >> 3)
		for y := range 4 {
			r := dst[y*stride : y*stride+4]
			r[0], r[1], r[2], r[3] = v, v, v, v
		}
		return
	}
	var t [16]int64
	for v := range 4 {
		f := blk[v*4 : v*4+4 : v*4+4]
		f0, f1, f2, f3 := int64(f[0]), int64(f[1]), int64(f[2]), int64(f[3])
		e0, e1 := idctC0*(f0+f2), idctC0*(f0-f2)
		o0, o1 := idctC1*f1+idctC3*f3, idctC3*f1-idctC1*f3
		r := t[v*4 : v*4+4 : v*4+4]
		r[0], r[3], r[1], r[2] = (e0+o0)>>2, (e0-o0)>>2, (e1+o1)>>2, (e1-o1)>>2
	}
	for x := range 4 {
		f0, f1, f2, f3 := t[x], t[4+x], t[8+x], t[12+x]
		e0, e1 := idctC0*(f0+f2), idctC0*(f0-f2)
		o0, o1 := idctC1*f1+idctC3*f3, idctC3*f1-idctC1*f3
		// 4096 * 1024 = 2^22; round, level-shift, clamp.
		dst[x] = clamp22(e0 + o0)
		dst[stride+x] = clamp22(e1 + o1)
		dst[2*stride+x] = clamp22(e1 - o1)
		dst[3*stride+x] = clamp22(e0 - o0)
	}
}

func clamp22(s int64) byte {
	v := (s + 1<<21) >> 22
	if v < -128 {
		return 0
	}
	if v > 127 {
		return 255
	}
	return byte(v + 128)
}
