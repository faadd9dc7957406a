package media

import (
	"math/bits"
	"sync"
)

// A small baseline JPEG encoder for thumbnails. Every photo gets a 320-pixel
// thumbnail, and image/jpeg's encoder spends about 2 ms on one (it divides
// to quantise and handles any image.Image), as much as the rest of the fast
// path for a 640x480 photo. This one takes planes as the thumbnail code has
// them (Y, and Cb and Cr at half size, or Y alone), uses the float AAN
// forward DCT with quantisation folded into one multiply, and the standard
// tables of the JPEG specification (Annex K) at image/jpeg's quality scale.
// Its output is an ordinary baseline YCbCr 4:2:0 (or greyscale) JPEG without
// JFIF or EXIF segments, as image/jpeg writes.

// Quantisation tables of Annex K.1, in zigzag order.
var stdQuant = [2][64]byte{
	{
		16, 11, 12, 14, 12, 10, 16, 14, 13, 14, 18, 17, 16, 19, 24, 40,
		26, 24, 22, 22, 24, 49, 35, 37, 29, 40, 58, 51, 61, 60, 57, 51,
		56, 55, 64, 72, 92, 78, 64, 68, 87, 69, 55, 56, 80, 109, 81, 87,
		95, 98, 103, 104, 103, 62, 77, 113, 121, 112, 100, 120, 92, 101, 103, 99,
	},
	{
		17, 18, 18, 24, 21, 24, 47, 26, 26, 47, 99, 66, 56, 66, 99, 99,
		99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
		99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
		99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
	},
}

// Huffman tables of Annex K.3: luma DC, luma AC, chroma DC, chroma AC.
var stdHuff = [4]struct {
	counts [16]byte
	vals   []byte
}{
	{[16]byte{0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0}, []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}},
	{[16]byte{0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 125}, []byte{
		0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21, 0x31, 0x41, 0x06, 0x13, 0x51, 0x61, 0x07,
		0x22, 0x71, 0x14, 0x32, 0x81, 0x91, 0xa1, 0x08, 0x23, 0x42, 0xb1, 0xc1, 0x15, 0x52, 0xd1, 0xf0,
		0x24, 0x33, 0x62, 0x72, 0x82, 0x09, 0x0a, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x25, 0x26, 0x27, 0x28,
		0x29, 0x2a, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49,
		0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69,
		0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89,
		0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
		0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3, 0xc4, 0xc5,
		0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xe1, 0xe2,
		0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8,
		0xf9, 0xfa,
	}},
	{[16]byte{0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0}, []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}},
	{[16]byte{0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 119}, []byte{
		0x00, 0x01, 0x02, 0x03, 0x11, 0x04, 0x05, 0x21, 0x31, 0x06, 0x12, 0x41, 0x51, 0x07, 0x61, 0x71,
		0x13, 0x22, 0x32, 0x81, 0x08, 0x14, 0x42, 0x91, 0xa1, 0xb1, 0xc1, 0x09, 0x23, 0x33, 0x52, 0xf0,
		0x15, 0x62, 0x72, 0xd1, 0x0a, 0x16, 0x24, 0x34, 0xe1, 0x25, 0xf1, 0x17, 0x18, 0x19, 0x1a, 0x26,
		0x27, 0x28, 0x29, 0x2a, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48,
		0x49, 0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68,
		0x69, 0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87,
		0x88, 0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5,
		0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3,
		0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda,
		0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8,
		0xf9, 0xfa,
	}},
}

// huffCode[t][symbol] = size<<16 | code.
var huffCode = func() (c [4][256]uint32) {
	for t, h := range stdHuff {
		code, k := uint32(0), 0
		for l := 1; l <= 16; l++ {
			for range h.counts[l-1] {
				c[t][h.vals[k]] = uint32(l)<<16 | code
				code++
				k++
			}
			code <<= 1
		}
	}
	return c
}()

// thumbQuality is the thumbnail's JPEG quality, as before.
const thumbQuality = 80

// encTables are the quantisation tables at a quality: zigzag bytes for the
// DQT segment, and per natural position the multiplier the AAN DCT's output
// needs (1 / (quantiser * AAN scale factors * 8)).
type encTables struct {
	dqt  [2][64]byte
	mult [2][64]float32
}

var (
	encTablesOnce sync.Once
	encTablesQ    encTables
)

func thumbTables() *encTables {
	encTablesOnce.Do(func() {
		aan := [8]float64{1.0, 1.387039845, 1.306562965, 1.175875602, 1.0, 0.785694958, 0.541196100, 0.275899379}
		scale := 200 - 2*thumbQuality // image/jpeg's (and libjpeg's) rule for q >= 50
		for t := range 2 {
			for zz := range 64 {
				q := (int(stdQuant[t][zz])*scale + 50) / 100
				q = min(max(q, 1), 255)
				encTablesQ.dqt[t][zz] = byte(q)
				nat := unzig[zz]
				encTablesQ.mult[t][nat] = float32(1 / (float64(q) * aan[nat/8] * aan[nat%8] * 8))
			}
		}
	})
	return &encTablesQ
}

// encodeThumbJPEG encodes a w x h picture from Y (stride w) and, unless
// grey, Cb and Cr of (w+1)/2 x (h+1)/2 (stride (w+1)/2).
func encodeThumbJPEG(y, cb, cr []byte, w, h int) []byte {
	t := thumbTables()
	grey := cb == nil
	e := thumbEncoder{out: make([]byte, 0, 600+w*h/2)}
	e.out = append(e.out, 0xFF, 0xD8)
	// DQT
	dqt := []byte{0x00}
	dqt = append(dqt, t.dqt[0][:]...)
	if !grey {
		dqt = append(dqt, 0x01)
		dqt = append(dqt, t.dqt[1][:]...)
	}
	e.out = appendSeg(e.out, 0xDB, dqt)
	// SOF0
	sof := []byte{8, byte(h >> 8), byte(h), byte(w >> 8), byte(w)}
	if grey {
		sof = append(sof, 1, 1, 0x11, 0)
	} else {
		sof = append(sof, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1)
	}
	e.out = appendSeg(e.out, 0xC0, sof)
	// DHT
	var dht []byte
	for i, h := range stdHuff {
		if grey && i >= 2 {
			break
		}
		dht = append(dht, byte(i%2)<<4|byte(i/2))
		dht = append(dht, h.counts[:]...)
		dht = append(dht, h.vals...)
	}
	e.out = appendSeg(e.out, 0xC4, dht)
	// SOS
	if grey {
		e.out = appendSeg(e.out, 0xDA, []byte{1, 1, 0x00, 0, 63, 0})
	} else {
		e.out = appendSeg(e.out, 0xDA, []byte{3, 1, 0x00, 2, 0x11, 3, 0x11, 0, 63, 0})
	}

	var blk [64]float32
	var prevY, prevCb, prevCr int32
	if grey {
		for by := 0; by < h; by += 8 {
			for bx := 0; bx < w; bx += 8 {
				loadBlock(&blk, y, w, w, h, bx, by)
				prevY = e.block(&blk, &t.mult[0], prevY, 0)
			}
		}
	} else {
		cw, ch := (w+1)/2, (h+1)/2
		for my := 0; my < h; my += 16 {
			for mx := 0; mx < w; mx += 16 {
				for j := range 4 {
					loadBlock(&blk, y, w, w, h, mx+8*(j%2), my+8*(j/2))
					prevY = e.block(&blk, &t.mult[0], prevY, 0)
				}
				loadBlock(&blk, cb, cw, cw, ch, mx/2, my/2)
				prevCb = e.block(&blk, &t.mult[1], prevCb, 2)
				loadBlock(&blk, cr, cw, cw, ch, mx/2, my/2)
				prevCr = e.block(&blk, &t.mult[1], prevCr, 2)
			}
		}
	}
	e.flush()
	return append(e.out, 0xFF, 0xD9)
}

// loadBlock reads the 8x8 block at (bx, by) of a w x h plane, level-shifted,
// repeating the last column and row past the edge.
func loadBlock(blk *[64]float32, p []byte, stride, w, h, bx, by int) {
	for y := range 8 {
		row := p[min(by+y, h-1)*stride:]
		if bx+8 <= w {
			r := row[bx : bx+8]
			for x := range 8 {
				blk[y*8+x] = float32(r[x]) - 128
			}
			continue
		}
		for x := range 8 {
			blk[y*8+x] = float32(row[min(bx+x, w-1)]) - 128
		}
	}
}

type thumbEncoder struct {
	out []byte
	acc uint64
	n   uint
}

// put appends the low size bits of b (at most 32).
func (e *thumbEncoder) put(b uint32, size uint) {
	e.acc = e.acc<<size | uint64(b)&(1<<size-1)
	e.n += size
	for e.n >= 8 {
		e.n -= 8
		b := byte(e.acc >> e.n)
		e.out = append(e.out, b)
		if b == 0xFF {
			e.out = append(e.out, 0) // byte stuffing
		}
	}
}

func (e *thumbEncoder) flush() {
	if e.n > 0 {
		e.put(0x7F, 8-e.n) // pad with ones
	}
}

// block transforms, quantises and entropy-codes one block with the DC and
// AC tables at ht and ht+1, returning its DC for the next block's
// prediction.
func (e *thumbEncoder) block(blk *[64]float32, mult *[64]float32, prevDC int32, ht int) int32 {
	fdctAAN(blk)
	var q [64]int32 // zigzag order
	var nz uint64   // bit zz set when q[zz] != 0
	for zz := range 64 {
		nat := unzig[zz]
		// Rounded to nearest without a branch: shifted positive,
		// truncated, shifted back (quantised values stay within +-2048).
		v := int32(blk[nat]*mult[nat]+4096.5) - 4096
		q[zz] = v
		if v != 0 {
			nz |= 1 << zz
		}
	}
	dcT, acT := &huffCode[ht], &huffCode[ht+1]
	diff := q[0] - prevDC
	s := magnitude(diff)
	c := dcT[s]
	e.put(c&0xFFFF<<uint(s)|extendBits(diff, s), uint(c>>16)+uint(s))
	last := 0
	for nz &^= 1; nz != 0; nz &= nz - 1 {
		zz := bits.TrailingZeros64(nz)
		run := zz - last - 1
		last = zz
		for ; run > 15; run -= 16 {
			c := acT[0xF0]
			e.put(c&0xFFFF, uint(c>>16))
		}
		v := q[zz]
		s := magnitude(v)
		c := acT[byte(run<<4)|byte(s)]
		e.put(c&0xFFFF<<uint(s)|extendBits(v, s), uint(c>>16)+uint(s))
	}
	if last < 63 {
		c := acT[0x00]
		e.put(c&0xFFFF, uint(c>>16))
	}
	return q[0]
}

// magnitude is the JPEG size category of v: its bit length.
func magnitude(v int32) int32 {
	if v < 0 {
		v = -v
	}
	return int32(bits.Len32(uint32(v)))
}

// extendBits is how v of category s is written: v, or v-1 in s bits when
// negative.
func extendBits(v, s int32) uint32 {
	if v < 0 {
		v--
	}
	return uint32(v) & (1<<s - 1)
}

// fdctAAN is the float forward DCT of Arai, Agui and Nakajima (libjpeg's
// jfdctflt); its outputs are scaled by the AAN factors, which the
// quantisation multipliers undo.
func fdctAAN(d *[64]float32) {
	for pass := range 2 {
		step := 1 // rows, then columns
		if pass == 1 {
			step = 8
		}
		for i := range 8 {
			b := i * 8
			if pass == 1 {
				b = i
			}
			s := d[b : b+7*step+1 : b+7*step+1]
			tmp0 := s[0] + s[7*step]
			tmp7 := s[0] - s[7*step]
			tmp1 := s[step] + s[6*step]
			tmp6 := s[step] - s[6*step]
			tmp2 := s[2*step] + s[5*step]
			tmp5 := s[2*step] - s[5*step]
			tmp3 := s[3*step] + s[4*step]
			tmp4 := s[3*step] - s[4*step]

			tmp10 := tmp0 + tmp3
			tmp13 := tmp0 - tmp3
			tmp11 := tmp1 + tmp2
			tmp12 := tmp1 - tmp2
			s[0] = tmp10 + tmp11
			s[4*step] = tmp10 - tmp11
			z1 := (tmp12 + tmp13) * 0.707106781
			s[2*step] = tmp13 + z1
			s[6*step] = tmp13 - z1

			tmp10 = tmp4 + tmp5
			tmp11 = tmp5 + tmp6
			tmp12 = tmp6 + tmp7
			z5 := (tmp10 - tmp12) * 0.382683433
			z2 := 0.541196100*tmp10 + z5
			z4 := 1.306562965*tmp12 + z5
			z3 := tmp11 * 0.707106781
			z11 := tmp7 + z3
			z13 := tmp7 - z3
			s[5*step] = z13 + z2
			s[3*step] = z13 - z2
			s[step] = z11 + z4
			s[7*step] = z11 - z4
		}
	}
}
