package web

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"unicode/utf8"
)

// A draft uploaded as a Word document (.docx) is read with the standard
// library alone: a .docx is a zip whose word/document.xml holds the body's
// paragraphs (w:p) and their runs' text (w:t). Paragraphs become lines,
// which is what splitting by «第X条» needs; formatting is dropped.

// maxDocxXML bounds the unpacked document.xml, so a small zip cannot
// unpack into gigabytes.
const maxDocxXML = 32 << 20

// ErrNotDocx is a file that is not a Word document.
var ErrNotDocx = errors.New("not a .docx document")

// DocxText returns the text of a .docx, one paragraph a line.
func DocxText(data []byte) (string, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return "", ErrNotDocx
	}
	var doc *zip.File
	for _, f := range zr.File {
		if f.Name == "word/document.xml" {
			doc = f
		}
	}
	if doc == nil {
		return "", ErrNotDocx
	}
	rc, err := doc.Open()
	if err != nil {
		return "", ErrNotDocx
	}
	defer rc.Close()
	lr := &io.LimitedReader{R: rc, N: maxDocxXML + 1}
	dec := xml.NewDecoder(lr)
	var b strings.Builder
	inText := false
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		} else if err != nil {
			return "", ErrNotDocx
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "t":
				inText = true
			case "tab":
				b.WriteByte('\t')
			case "br", "cr":
				b.WriteByte('\n')
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "t":
				inText = false
			case "p":
				b.WriteByte('\n')
			}
		case xml.CharData:
			if inText {
				b.Write(t)
			}
		}
		if lr.N <= 0 {
			return "", ErrNotDocx
		}
	}
	return b.String(), nil
}

func utf8Valid(b []byte) bool { return utf8.Valid(b) }
