package media

import (
	"image"
	"math"
)

// Thumbnails from planes. The fast JPEG path has the photo as separate Y, Cb
// and Cr planes at a reduced scale (and the standard decoder gives YCbCr
// planes too): each plane is scaled straight to the thumbnail's size by
// area averaging, turned upright, and encoded, with no RGB image of the
// photo ever made. Chroma planes at half resolution are scaled from their
// own size, which doubles as the upsampling a full decode would do.

// plane is one component's samples: w x h valid (possibly fractional at
// the right and bottom edge of a subsampled plane) in a buffer of stride.
type plane struct {
	pix    []byte
	stride int
	w, h   float64
}

// thumbSize is the thumbnail of a w x h picture: at most side pixels on the
// longer side, never larger than the picture.
func thumbSize(w, h, side int) (tw, th int) {
	tw, th = w, h
	if w > side || h > side {
		if w >= h {
			tw, th = side, max((h*side+w/2)/w, 1)
		} else {
			tw, th = max((w*side+h/2)/h, 1), side
		}
	}
	return tw, th
}

// reducedScale picks n (samples per block side: 1, 2 or 4) so that the n/8
// scale image still has at least tw x th pixels, the smallest such; 8 says
// none does and the photo needs a full decode (it is small anyway).
func reducedScale(w, h, tw, th int) int {
	for _, n := range []int{1, 2, 4} {
		if w*n/8 >= tw && h*n/8 >= th {
			return n
		}
	}
	return 8
}

// thumbFromPlanes scales one plane (grey) or three (YCbCr) to a tw x th
// thumbnail (chroma at half size each way, as a 4:2:0 JPEG stores it),
// applies orientation o and encodes it.
func thumbFromPlanes(ps []plane, tw, th, o int) ([]byte, error) {
	y, W, H := orientPlane(resample(ps[0], tw, th), tw, th, o)
	if len(ps) == 1 {
		return encodeThumbJPEG(y, nil, nil, W, H), nil
	}
	cw, ch := (tw+1)/2, (th+1)/2
	cb, _, _ := orientPlane(resample(ps[1], cw, ch), cw, ch, o)
	cr, _, _ := orientPlane(resample(ps[2], cw, ch), cw, ch, o)
	return encodeThumbJPEG(y, cb, cr, W, H), nil
}

// planesOf returns a decoded image's planes when it has them (what
// image/jpeg returns for YCbCr and greyscale files), or nil.
func planesOf(img image.Image) []plane {
	switch m := img.(type) {
	case *image.Gray:
		b := m.Rect
		return []plane{{m.Pix[m.PixOffset(b.Min.X, b.Min.Y):], m.Stride, float64(b.Dx()), float64(b.Dy())}}
	case *image.YCbCr:
		b := m.Rect
		w, h := float64(b.Dx()), float64(b.Dy())
		cw, ch := w, h
		switch m.SubsampleRatio {
		case image.YCbCrSubsampleRatio444:
		case image.YCbCrSubsampleRatio422:
			cw = w / 2
		case image.YCbCrSubsampleRatio420:
			cw, ch = w/2, h/2
		case image.YCbCrSubsampleRatio440:
			ch = h / 2
		case image.YCbCrSubsampleRatio411:
			cw = w / 4
		case image.YCbCrSubsampleRatio410:
			cw, ch = w/4, h/2
		default:
			return nil
		}
		co := m.COffset(b.Min.X, b.Min.Y)
		return []plane{
			{m.Y[m.YOffset(b.Min.X, b.Min.Y):], m.YStride, w, h},
			{m.Cb[co:], m.CStride, cw, ch},
			{m.Cr[co:], m.CStride, cw, ch},
		}
	}
	return nil
}

// planesFor returns the reduced decode's planes with their valid extents: the
// picture's w x h at n/8 scale, times each component's sampling.
func (r *reduced) planesFor() []plane {
	fr := r.fr
	w, h := float64(fr.width*r.n)/8, float64(fr.height*r.n)/8
	ps := make([]plane, fr.nComp)
	for i := range fr.nComp {
		c := fr.comp[i]
		ps[i] = plane{r.planes[i], r.stride[i], w * float64(c.h) / float64(fr.hmax), h * float64(c.v) / float64(fr.vmax)}
	}
	return ps
}

// weights says, for each output sample along one axis, which input samples
// it averages and how much each counts (in 1/16384ths, summing to 16384).
type weights struct {
	start []int32 // first input index per output
	n     []int32 // inputs per output
	w     []int32 // n[i] weights per output, concatenated
}

func axisWeights(src float64, dst int, limit int) weights {
	scale := src / float64(dst)
	var ws weights
	for i := range dst {
		a, b := float64(i)*scale, float64(i+1)*scale
		j0, j1 := int(math.Floor(a)), int(math.Ceil(b))
		j1 = min(j1, limit)
		j0 = min(j0, j1-1)
		ws.start = append(ws.start, int32(j0))
		ws.n = append(ws.n, int32(j1-j0))
		sum, big := int32(0), len(ws.w)
		for j := j0; j < j1; j++ {
			ov := math.Min(b, float64(j+1)) - math.Max(a, float64(j))
			wt := int32(math.Round(math.Max(ov, 0) / scale * 16384))
			ws.w = append(ws.w, wt)
			sum += wt
			if wt > ws.w[big] {
				big = len(ws.w) - 1
			}
		}
		ws.w[big] += 16384 - sum // exact sum: flat stays flat
	}
	return ws
}

// resample scales p to dw x dh by area averaging (box filter of the exact
// footprint, so no aliasing however large the ratio; for a ratio under one
// it is nearest-neighbour, as chroma upsampling usually is).
func resample(p plane, dw, dh int) []byte {
	sw := min(int(math.Ceil(p.w)), p.stride)
	sh := min(int(math.Ceil(p.h)), len(p.pix)/max(p.stride, 1))
	if sw == 0 || sh == 0 {
		return make([]byte, dw*dh)
	}
	if p.w == float64(dw) && p.h == float64(dh) {
		// Already the size (a 640x480 photo's 4/8 decode for a 320x240
		// thumbnail): a copy.
		out := make([]byte, dw*dh)
		for y := range dh {
			copy(out[y*dw:(y+1)*dw], p.pix[y*p.stride:])
		}
		return out
	}
	xw := axisWeights(p.w, dw, sw)
	yw := axisWeights(p.h, dh, sh)
	// Horizontal pass into 8.8 fixed point, then vertical.
	tmp := make([]uint16, dw*sh)
	for y := range sh {
		row := p.pix[y*p.stride:]
		k := 0
		for x := range dw {
			s, n := int(xw.start[x]), int(xw.n[x])
			acc := int32(0)
			for j := range n {
				acc += int32(row[s+j]) * xw.w[k+j]
			}
			k += n
			tmp[y*dw+x] = uint16((acc + 1<<5) >> 6)
		}
	}
	out := make([]byte, dw*dh)
	k := 0
	for y := range dh {
		s, n := int(yw.start[y]), int(yw.n[y])
		for x := range dw {
			acc := int32(0)
			for j := range n {
				acc += int32(tmp[(s+j)*dw+x]) * yw.w[k+j]
			}
			out[y*dw+x] = byte(min((acc+1<<21)>>22, 255))
		}
		k += n
	}
	return out
}

// orientPlane applies an EXIF orientation to a w x h plane (stride w),
// returning the new plane and its size.
func orientPlane(p []byte, w, h, o int) ([]byte, int, int) {
	if o < 2 || o > 8 {
		return p, w, h
	}
	W, H := w, h
	if o >= 5 {
		W, H = h, w
	}
	dst := make([]byte, W*H)
	for y := range h {
		for x := range w {
			var dx, dy int
			switch o {
			case 2:
				dx, dy = w-1-x, y
			case 3:
				dx, dy = w-1-x, h-1-y
			case 4:
				dx, dy = x, h-1-y
			case 5:
				dx, dy = y, x
			case 6:
				dx, dy = h-1-y, x
			case 7:
				dx, dy = h-1-y, w-1-x
			case 8:
				dx, dy = y, w-1-x
			}
			dst[dy*W+dx] = p[y*w+x]
		}
	}
	return dst, W, H
}
