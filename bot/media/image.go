package media

import (
	"bytes"
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
// with it. Rather than edit metadata out (and miss a vendor's block), every
// photo is decoded to pixels and encoded again by the standard library, whose
// encoders write no metadata at all. The decisions:
//
//   - Accepted: JPEG, PNG, GIF, WebP, told apart by their leading bytes, never
//     by the Content-Type or a file name. Anything else is refused.
//   - JPEG stays JPEG (quality 85) after the EXIF Orientation is applied to
//     the pixels, so a photo taken sideways is stored upright once the tag
//     that said so is gone.
//   - PNG stays PNG (screenshots stay sharp, transparency is kept).
//   - WebP is stored as JPEG (the standard library cannot encode WebP), with
//     any transparency flattened onto white.
//   - GIF keeps only its first frame, re-encoded as a one-frame GIF: an
//     animation is not evidence of a broken pipe, and decoding every frame of
//     a 10 MiB GIF can take gigabytes of memory.
//   - Images over maxPixels are refused before decoding, for the same reason
//     (a small file can claim an enormous canvas).
//   - The thumbnail is a JPEG at most thumbMax pixels on its longer side
//     (320 by default: a phone list row at 2x), box-filtered then bilinear.

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
	w, h  int    // of the stored image
}

// sanitize decodes an image and encodes it again without metadata, upright,
// with a thumbnail, refusing canvases over pixelLimit (maxPixels; the fuzz
// test uses less). Its errors are *rejectError: the bytes are unusable.
func sanitize(data []byte, thumbMax, pixelLimit int) (*photo, error) {
	kind := sniffImage(data)
	if kind == "" {
		return nil, reject("unsupported type %s (only JPEG, PNG, GIF and WebP photos are kept)", describe(data))
	}
	cfg, err := decodeConfig(kind, data)
	if err != nil {
		return nil, reject("cannot read the %s: %v", kind, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width > pixelLimit || cfg.Height > pixelLimit || cfg.Width*cfg.Height > pixelLimit {
		return nil, reject("image is %dx%d pixels, over the limit of %d pixels", cfg.Width, cfg.Height, pixelLimit)
	}
	var img image.Image
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

// thumbnail scales img to fit in side x side and encodes it as JPEG. It
// averages k x k blocks (a box filter: cheap, and no aliasing) to get within
// a factor of two of the size, then interpolates the rest bilinearly; a
// kernel scaler over the whole photo costs several times more for a picture
// 320 pixels wide.
func thumbnail(img image.Image, side int) ([]byte, error) {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	tw, th := w, h
	if w > side || h > side {
		if w >= h {
			tw, th = side, max((h*side+w/2)/w, 1)
		} else {
			tw, th = max((w*side+h/2)/h, 1), side
		}
	}
	src := flatRGBA(img)
	if k := min(w/tw, h/th); k >= 2 {
		src = boxShrink(src, k)
	}
	dst := src
	if src.Rect.Dx() != tw || src.Rect.Dy() != th {
		dst = image.NewRGBA(image.Rect(0, 0, tw, th))
		xdraw.ApproxBiLinear.Scale(dst, dst.Bounds(), src, src.Rect, xdraw.Src, nil)
	}
	var out bytes.Buffer
	if err := jpeg.Encode(&out, dst, &jpeg.Options{Quality: 80}); err != nil {
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
