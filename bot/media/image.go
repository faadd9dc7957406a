package media

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	stddraw "image/draw"
	"image/gif"
	"image/jpeg"
	"image/png"
	"net/http"

	xdraw "golang.org/x/image/draw"
	"golang.org/x/image/webp"
)

// Photo handling. Residents' phone photos carry EXIF with the GPS position of
// where they were taken, often their home; nothing may leave this package
// with it. The decisions:
//
//   - Accepted: JPEG, PNG, GIF, WebP, told apart by their leading bytes, never
//     by the Content-Type or a file name. Anything else is refused.
//   - JPEG, nearly every photo, is stored losslessly: its segments are
//     rewritten without the metadata ones and the compressed picture is kept
//     byte for byte (jpeg.go says what is kept). It is verified by decoding
//     every block of it at a reduced scale (jpegdec.go), which also gives the
//     thumbnail; progressive and unusual JPEGs are verified with the standard
//     decoder instead. This costs a fraction of decoding and encoding again,
//     and keeps the resident's picture at full quality.
//   - A JPEG taken sideways keeps its EXIF Orientation, alone in an EXIF
//     segment of its own: turning the pixels losslessly is not possible for
//     every size, and turning them lossily is the cost this path avoids.
//     Browsers, phones and WeChat all honour the tag. The thumbnail is turned
//     upright in its pixels.
//   - PNG stays PNG (screenshots stay sharp, transparency is kept), decoded
//     and encoded again (reencode), as GIF and WebP are.
//   - WebP is stored as JPEG (the standard library cannot encode WebP), with
//     any transparency flattened onto white.
//   - GIF keeps only its first frame, re-encoded as a one-frame GIF: an
//     animation is not evidence of a broken pipe, and decoding every frame of
//     a 10 MiB GIF can take gigabytes of memory.
//   - Images over maxPixels are refused before decoding, for the same reason
//     (a small file can claim an enormous canvas), and so is one whose decode
//     would need more memory than the whole photo budget (budget.go).
//   - The thumbnail is a JPEG at most thumbMax pixels on its longer side
//     (320 by default: a phone list row at 2x).

// maxPixels bounds the canvas a photo may claim: 50 megapixels is beyond any
// phone camera and costs 200 MB decoded.
const maxPixels = 50_000_000

// rejectError is a photo that will never be stored, whatever the retries:
// the reason is shown on the case.
type rejectError struct{ reason string }

func (e *rejectError) Error() string { return e.reason }

func reject(format string, args ...any) error {
	return &rejectError{reason: fmt.Sprintf(format, args...)}
}

// Formats as sniffed from the leading bytes.
const (
	mimeJPEG = "image/jpeg"
	mimePNG  = "image/png"
	mimeGIF  = "image/gif"
	mimeWebP = "image/webp"
)

// sniffImage names the image format of b from its signature, or "".
func sniffImage(b []byte) string {
	switch {
	case len(b) >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF:
		return mimeJPEG
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return mimePNG
	case bytes.HasPrefix(b, []byte("GIF87a")) || bytes.HasPrefix(b, []byte("GIF89a")):
		return mimeGIF
	case len(b) >= 12 && string(b[:4]) == "RIFF" && string(b[8:12]) == "WEBP":
		return mimeWebP
	}
	return ""
}

// photo is a sanitised image ready to store.
type photo struct {
	data  []byte
	mime  string
	ext   string
	thumb []byte // JPEG
	w, h  int    // as shown: a JPEG's orientation applied
}

// sanitize makes a photo ready to store from downloaded bytes, refusing
// canvases over pixelLimit (maxPixels; the fuzz test uses less), with one
// CPU slot and the default memory budget. Its errors are *rejectError: the
// bytes are unusable.
func sanitize(data []byte, thumbMax, pixelLimit int) (*photo, error) {
	return newPhotoLimits(thumbMax, pixelLimit, 1, DefaultPhotoMemory).sanitize(context.Background(), data)
}

// sanitize makes a photo ready to store within l's limits: it reads the
// header, reserves the memory processing will take, waits for a CPU slot,
// and processes. Errors are *rejectError, or ctx's when it ends first.
func (l *photoLimits) sanitize(ctx context.Context, data []byte) (*photo, error) {
	job, err := l.plan(data)
	if err != nil {
		return nil, err
	}
	if job.cost > l.mem.size {
		return nil, job.refusal(l.mem.size)
	}
	// Memory first: a photo waiting for memory holds no CPU slot that a
	// smaller one could use.
	if err := l.mem.acquire(ctx, job.cost); err != nil {
		return nil, err
	}
	defer l.mem.release(job.cost)
	select {
	case l.cpu <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-l.cpu }()
	l.busy(1)
	defer l.busy(-1)
	return runLowPriority(func() (p *photo, err error) {
		// A decoder bug on a hostile file costs that photo, not the
		// service (the resident is told it did not arrive).
		defer func() {
			if v := recover(); v != nil {
				p, err = nil, reject("processing failed: %v", v)
			}
		}()
		return job.run()
	})
}

// plan reads a photo's header: its kind, size, and what processing it will
// cost.
func (l *photoLimits) plan(data []byte) (*photoJob, error) {
	kind := sniffImage(data)
	if kind == "" {
		return nil, reject("unsupported type %s (only JPEG, PNG, GIF and WebP photos are kept)", describe(data))
	}
	if kind == mimeJPEG {
		return l.planJPEG(data)
	}
	cfg, err := decodeConfig(kind, data)
	if err != nil {
		return nil, reject("cannot read the %s: %v", kind, err)
	}
	if err := l.checkPixels(cfg.Width, cfg.Height); err != nil {
		return nil, err
	}
	job := &photoJob{w: cfg.Width, h: cfg.Height}
	bpp, interlaced, flatten := 4, false, false
	switch kind {
	case mimePNG:
		// IHDR: bit depth at 24, interlace method at 28. A 16-bit PNG
		// decodes to 8 bytes a pixel.
		depth := int(data[24])
		if depth == 16 {
			bpp = 8
		}
		interlaced = len(data) > 28 && data[28] != 0
		job.what = fmt.Sprintf("%d-bit PNG", depth)
	case mimeGIF:
		bpp, job.what = 1, "GIF"
	case mimeWebP:
		flatten, job.what = true, "WebP"
	}
	job.cost = reencodeCost(cfg.Width, cfg.Height, bpp, interlaced, flatten)
	job.run = func() (*photo, error) { return reencode(kind, data, l.thumbMax) }
	return job, nil
}

func (l *photoLimits) checkPixels(w, h int) error {
	if w <= 0 || h <= 0 || w > l.pixelLimit || h > l.pixelLimit || w*h > l.pixelLimit {
		return reject("image is %dx%d pixels, over the limit of %d pixels", w, h, l.pixelLimit)
	}
	return nil
}

// planJPEG plans the lossless path: walk the segments, read the frame,
// choose the scale the thumbnail needs and whether the reduced decoder can
// verify it.
func (l *photoLimits) planJPEG(data []byte) (*photoJob, error) {
	f, err := walkJPEG(data)
	if err != nil {
		return nil, reject("cannot read the %s: %v", mimeJPEG, err)
	}
	fr, err := f.readFrame()
	if err != nil {
		return nil, reject("cannot read the %s: %v", mimeJPEG, err)
	}
	if err := l.checkPixels(fr.width, fr.height); err != nil {
		return nil, err
	}
	o := jpegOrientation(data)
	tw, th := thumbSize(fr.width, fr.height, l.thumbMax)
	n := reducedScale(fr.width, fr.height, tw, th)
	fast := n < 8 && f.fastOK(fr)
	job := &photoJob{w: fr.width, h: fr.height, what: "baseline JPEG",
		cost: 2*int64(len(data)) + thumbCost(tw, th) + costFixed}
	if fr.progressive {
		job.what = "progressive JPEG"
	}
	if fast {
		job.cost += reducedCost(fr, n)
	} else {
		job.cost += stdJPEGCost(f, fr)
	}
	job.run = func() (*photo, error) { return cleanJPEG(data, f, o, n, fast, tw, th) }
	return job, nil
}

// cleanJPEG stores a JPEG losslessly: its segments rewritten (jpeg.go), the
// result verified by decoding it whole, the thumbnail made from that decode.
func cleanJPEG(data []byte, f *jpegFile, o, n int, fast bool, tw, th int) (*photo, error) {
	out := f.clean(data, o)
	// What is verified is what will be stored: the rewritten bytes.
	g, err := walkJPEG(out)
	if err != nil {
		return nil, reject("cannot read the %s: %v", mimeJPEG, err)
	}
	fr, err := g.readFrame()
	if err != nil {
		return nil, reject("cannot read the %s: %v", mimeJPEG, err)
	}
	var thumb []byte
	if fast {
		r, err := decodeReduced(out, g, fr, n)
		if err != nil {
			return nil, reject("cannot decode the %s: %v", mimeJPEG, err)
		}
		thumb, err = thumbFromPlanes(r.planesFor(), tw, th, o)
		if err != nil {
			return nil, reject("cannot make the thumbnail: %v", err)
		}
	} else {
		img, err := jpeg.Decode(bytes.NewReader(out))
		if err != nil {
			return nil, reject("cannot decode the %s: %v", mimeJPEG, err)
		}
		if ps := planesOf(img); ps != nil {
			thumb, err = thumbFromPlanes(ps, tw, th, o)
		} else {
			thumb, err = encodeThumb(orient(thumbRGBA(img, max(tw, th)), o))
		}
		if err != nil {
			return nil, reject("cannot make the thumbnail: %v", err)
		}
	}
	p := &photo{data: out, mime: mimeJPEG, ext: ".jpg", thumb: thumb, w: fr.width, h: fr.height}
	if o >= 5 && o <= 8 {
		p.w, p.h = p.h, p.w
	}
	return p, nil
}

// reencode decodes an image and encodes it again without metadata, upright,
// with a thumbnail: the path for PNG, GIF and WebP, whose encoders in the
// standard library write no metadata at all. It was the path for JPEG too,
// and stays callable for one so the benchmarks can compare.
func reencode(kind string, data []byte, thumbMax int) (*photo, error) {
	var img image.Image
	var err error
	switch kind {
	case mimeJPEG:
		img, err = jpeg.Decode(bytes.NewReader(data))
		if err == nil {
			img = orient(img, jpegOrientation(data))
		}
	case mimePNG:
		img, err = png.Decode(bytes.NewReader(data))
	case mimeGIF:
		img, err = gif.Decode(bytes.NewReader(data)) // the first frame only
	case mimeWebP:
		img, err = webp.Decode(bytes.NewReader(data))
	}
	if err != nil {
		return nil, reject("cannot decode the %s: %v", kind, err)
	}

	p := &photo{w: img.Bounds().Dx(), h: img.Bounds().Dy()}
	var out bytes.Buffer
	switch kind {
	case mimePNG:
		p.mime, p.ext = mimePNG, ".png"
		err = (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&out, img)
	case mimeGIF:
		p.mime, p.ext = mimeGIF, ".gif"
		err = gif.Encode(&out, img, nil)
	default: // JPEG, and WebP converted to it
		p.mime, p.ext = mimeJPEG, ".jpg"
		err = jpeg.Encode(&out, opaque(img), &jpeg.Options{Quality: 85})
	}
	if err != nil {
		return nil, reject("cannot encode the image: %v", err)
	}
	p.data = out.Bytes()
	if p.thumb, err = thumbnail(img, thumbMax); err != nil {
		return nil, reject("cannot make the thumbnail: %v", err)
	}
	return p, nil
}

func decodeConfig(kind string, data []byte) (image.Config, error) {
	r := bytes.NewReader(data)
	switch kind {
	case mimeJPEG:
		return jpeg.DecodeConfig(r)
	case mimePNG:
		return png.DecodeConfig(r)
	case mimeGIF:
		return gif.DecodeConfig(r)
	default:
		return webp.DecodeConfig(r)
	}
}

// describe names what a refused file looks like, for the failure reason.
func describe(b []byte) string {
	switch {
	case len(b) == 0:
		return "(empty)"
	case bytes.HasPrefix(b, []byte("#!AMR")):
		return "audio/amr"
	case len(b) >= 12 && string(b[4:8]) == "ftyp":
		return "video/mp4 or HEIC"
	case bytes.HasPrefix(b, []byte("BM")):
		return "image/bmp"
	}
	return http.DetectContentType(b)
}

// opaque flattens transparency onto white: JPEG has no alpha, and a
// transparent pixel encoded as-is comes out black.
func opaque(img image.Image) image.Image {
	switch img.(type) {
	case *image.YCbCr, *image.Gray, *image.CMYK, *image.RGBA:
		return img // opaque by construction (RGBA here only comes from orient, of a JPEG)
	}
	return flatRGBA(img)
}

// thumbnail scales img to fit in side x side and encodes it as JPEG.
func thumbnail(img image.Image, side int) ([]byte, error) {
	return encodeThumb(thumbRGBA(img, side))
}

// thumbRGBA scales img to fit in side x side. It averages k x k blocks (a
// box filter: cheap, and no aliasing) to get within a factor of two of the
// size, then interpolates the rest bilinearly; a kernel scaler over the
// whole photo costs several times more for a picture 320 pixels wide.
func thumbRGBA(img image.Image, side int) *image.RGBA {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	tw, th := thumbSize(w, h, side)
	src := flatRGBA(img)
	if k := min(w/tw, h/th); k >= 2 {
		src = boxShrink(src, k)
	}
	dst := src
	if src.Rect.Dx() != tw || src.Rect.Dy() != th {
		dst = image.NewRGBA(image.Rect(0, 0, tw, th))
		xdraw.ApproxBiLinear.Scale(dst, dst.Bounds(), src, src.Rect, xdraw.Src, nil)
	}
	return dst
}

func encodeThumb(img image.Image) ([]byte, error) {
	var out bytes.Buffer
	if err := jpeg.Encode(&out, img, &jpeg.Options{Quality: 80}); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// flatRGBA copies img into an RGBA at the origin, transparency flattened
// onto white.
func flatRGBA(img image.Image) *image.RGBA {
	b := img.Bounds()
	dst := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	op := stddraw.Src
	switch img.(type) {
	case *image.YCbCr, *image.Gray, *image.CMYK:
	default:
		stddraw.Draw(dst, dst.Bounds(), image.NewUniform(color.White), image.Point{}, stddraw.Src)
		op = stddraw.Over
	}
	stddraw.Draw(dst, dst.Bounds(), img, b.Min, op)
	return dst
}

// boxShrink averages each k x k block of src into one pixel.
func boxShrink(src *image.RGBA, k int) *image.RGBA {
	w, h := src.Rect.Dx()/k, src.Rect.Dy()/k
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	n := uint32(k * k)
	for y := range h {
		for x := range w {
			var r, g, bl, a uint32
			for yy := y * k; yy < y*k+k; yy++ {
				p := src.Pix[yy*src.Stride+x*k*4:]
				for xx := range k {
					r += uint32(p[xx*4])
					g += uint32(p[xx*4+1])
					bl += uint32(p[xx*4+2])
					a += uint32(p[xx*4+3])
				}
			}
			d := dst.Pix[y*dst.Stride+x*4:]
			d[0], d[1], d[2], d[3] = uint8(r/n), uint8(g/n), uint8(bl/n), uint8(a/n)
		}
	}
	return dst
}

// orient applies an EXIF Orientation (1..8) to the pixels, so the picture is
// upright once the tag is gone.
func orient(img image.Image, o int) image.Image {
	if o < 2 || o > 8 {
		return img
	}
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	src := image.NewRGBA(image.Rect(0, 0, w, h))
	stddraw.Draw(src, src.Bounds(), img, b.Min, stddraw.Src)
	dw, dh := w, h
	if o >= 5 {
		dw, dh = h, w // the four that turn the picture a quarter
	}
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	for y := range h {
		row := src.Pix[y*src.Stride:]
		for x := range w {
			var dx, dy int
			switch o {
			case 2: // mirrored
				dx, dy = w-1-x, y
			case 3: // upside down
				dx, dy = w-1-x, h-1-y
			case 4: // mirrored upside down
				dx, dy = x, h-1-y
			case 5: // mirrored, turned
				dx, dy = y, x
			case 6: // taken with the phone turned right: turn clockwise
				dx, dy = h-1-y, x
			case 7:
				dx, dy = h-1-y, w-1-x
			case 8: // turned left: turn anticlockwise
				dx, dy = y, w-1-x
			}
			copy(dst.Pix[dy*dst.Stride+dx*4:dy*dst.Stride+dx*4+4], row[x*4:x*4+4])
		}
	}
	return dst
}

// jpegOrientation reads the Orientation tag from a JPEG's EXIF (1 when
// absent or unreadable). It walks the segments itself because image/jpeg
// skips APP1 entirely.
func jpegOrientation(b []byte) int {
	tiff := jpegEXIF(b)
	if len(tiff) < 8 {
		return 1
	}
	var bo binary.ByteOrder
	switch string(tiff[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return 1
	}
	off := uint64(bo.Uint32(tiff[4:8]))
	if off+2 > uint64(len(tiff)) {
		return 1
	}
	n := uint64(bo.Uint16(tiff[off:]))
	for i := range n {
		e := off + 2 + 12*i
		if e+12 > uint64(len(tiff)) {
			return 1
		}
		if bo.Uint16(tiff[e:]) == 0x0112 && bo.Uint16(tiff[e+2:]) == 3 { // Orientation, SHORT
			if v := int(bo.Uint16(tiff[e+8:])); v >= 1 && v <= 8 {
				return v
			}
			return 1
		}
	}
	return 1
}

// jpegEXIF returns the TIFF structure in a JPEG's APP1 Exif segment, if any,
// looking only at the segments before the scan.
func jpegEXIF(b []byte) []byte {
	if len(b) < 4 || b[0] != 0xFF || b[1] != 0xD8 {
		return nil
	}
	i := 2
	for i+4 <= len(b) {
		if b[i] != 0xFF {
			return nil
		}
		marker := b[i+1]
		switch {
		case marker == 0xFF:
			i++
			continue
		case marker == 0xDA || marker == 0xD9: // SOS, EOI
			return nil
		case marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7):
			i += 2
			continue
		}
		n := int(binary.BigEndian.Uint16(b[i+2:]))
		if n < 2 || i+2+n > len(b) {
			return nil
		}
		seg := b[i+4 : i+2+n]
		if marker == 0xE1 && bytes.HasPrefix(seg, []byte("Exif\x00\x00")) {
			return seg[6:]
		}
		i += 2 + n
	}
	return nil
}
