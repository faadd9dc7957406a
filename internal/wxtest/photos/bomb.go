package photos

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"hash/crc32"
)

// BlankPNG returns a valid w x h RGBA PNG (16 bits a channel when wide) of
// transparent black, built without ever holding its pixels: the shape of a
// decompression bomb, a file of a few hundred kB that decodes to w*h*8
// bytes (392 MB for 7000x7000 at 16 bits). A sanitiser must refuse it, or
// decode it within its memory budget, from its header alone.
//
// Zeros compress the same way chunk after chunk, so the deflate stream is
// one compressed chunk repeated: pushing 392 MB through zlib would take
// seconds, and tens of seconds under the race detector.
func BlankPNG(w, h int, wide bool) []byte {
	depth, bpp := byte(8), 4
	if wide {
		depth, bpp = 16, 8
	}
	row := 1 + w*bpp // filter byte (None) and the samples: all zero
	total := uint64(h) * uint64(row)

	// compress deflates n zeros into non-final blocks ending on a byte
	// boundary. After the first chunk the window holds 32 KiB of zeros, so
	// a writer primed with that dictionary writes what a continuing one
	// would, and the same bytes for every chunk.
	const chunk = 1 << 16
	zeros := make([]byte, chunk)
	compress := func(n int, primed bool) []byte {
		var buf bytes.Buffer
		var fw *flate.Writer
		if primed {
			fw, _ = flate.NewWriterDict(&buf, flate.BestSpeed, zeros[:32<<10])
		} else {
			fw, _ = flate.NewWriter(&buf, flate.BestSpeed)
		}
		fw.Write(zeros[:n])
		fw.Flush()
		return buf.Bytes()
	}
	z := []byte{0x78, 0x01} // zlib header: deflate, 32K window
	var next []byte
	for done := uint64(0); done < total; {
		n := int(min(total-done, chunk))
		switch {
		case done == 0:
			z = append(z, compress(n, false)...)
		case n == chunk:
			if next == nil {
				next = compress(chunk, true)
			}
			z = append(z, next...)
		default:
			z = append(z, compress(n, true)...)
		}
		done += uint64(n)
	}
	z = append(z, 0x03, 0x00) // final empty block, fixed Huffman
	// Adler-32 of n zeros: a stays 1, b grows by 1 a byte.
	z = binary.BigEndian.AppendUint32(z, uint32(total%65521)<<16|1)

	out := []byte("\x89PNG\r\n\x1a\n")
	ihdr := binary.BigEndian.AppendUint32(nil, uint32(w))
	ihdr = binary.BigEndian.AppendUint32(ihdr, uint32(h))
	ihdr = append(ihdr, depth, 6, 0, 0, 0) // RGBA, deflate, adaptive, not interlaced
	out = pngChunk(out, "IHDR", ihdr)
	out = pngChunk(out, "IDAT", z)
	return pngChunk(out, "IEND", nil)
}

func pngChunk(b []byte, typ string, data []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(data)))
	start := len(b)
	b = append(b, typ...)
	b = append(b, data...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b[start:]))
}
