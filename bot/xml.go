package bot

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"
)

// WeChat posts flat XML documents: <xml> with one level of children holding
// text or CDATA (a few events nest one level deeper). encoding/xml accepts far
// more than that (DOCTYPE directives, namespaces, arbitrary nesting) and is
// slow, so this reader accepts exactly the WeChat shape and refuses the rest:
// no DOCTYPE or other declarations, no entity other than the five predefined
// ones and character references, valid UTF-8, balanced tags, bounded depth.

var (
	errXMLSyntax   = errors.New("malformed XML")
	errXMLDoctype  = errors.New("XML declarations (DOCTYPE, ENTITY) are not accepted")
	errXMLEntity   = errors.New("undefined XML entity")
	errXMLUTF8     = errors.New("invalid UTF-8")
	errXMLRoot     = errors.New("root element is not <xml>")
	errXMLTooDeep  = errors.New("XML nested too deeply")
	errXMLTooLarge = errors.New("XML has too many elements")
)

const (
	maxXMLDepth  = 8
	maxXMLFields = 256
)

// xmlField is one child of <xml>: its name and decoded text. Nested children
// (SendPicsInfo and the like) are validated and flattened as "Parent.Child".
type xmlField struct {
	name  string
	value string
}

// parseXML reads a WeChat XML document into its fields.
func parseXML(b []byte, fields []xmlField) ([]xmlField, error) {
	if !utf8.Valid(b) {
		return nil, errXMLUTF8
	}
	p := xmlParser{b: b}
	p.skipSpace()
	if bytes.HasPrefix(p.b[p.i:], []byte("<?xml")) {
		end := bytes.Index(p.b[p.i:], []byte("?>"))
		if end < 0 {
			return nil, errXMLSyntax
		}
		p.i += end + 2
	}
	if err := p.skipMisc(); err != nil {
		return nil, err
	}
	name, selfClosing, err := p.openTag()
	if err != nil {
		return nil, err
	}
	if name != "xml" {
		return nil, errXMLRoot
	}
	p.fields = fields
	if !selfClosing {
		if err := p.children("", 1); err != nil {
			return nil, err
		}
	}
	if err := p.skipMisc(); err != nil {
		return nil, err
	}
	if p.i != len(p.b) {
		return nil, errXMLSyntax
	}
	return p.fields, nil
}

type xmlParser struct {
	b      []byte
	i      int
	fields []xmlField
	text   []byte
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func (p *xmlParser) skipSpace() {
	for p.i < len(p.b) && isSpace(p.b[p.i]) {
		p.i++
	}
}

// skipMisc skips whitespace and comments between elements; it refuses any
// other markup declaration.
func (p *xmlParser) skipMisc() error {
	for {
		p.skipSpace()
		rest := p.b[p.i:]
		if bytes.HasPrefix(rest, []byte("<!--")) {
			end := bytes.Index(rest[4:], []byte("-->"))
			if end < 0 {
				return errXMLSyntax
			}
			p.i += 4 + end + 3
			continue
		}
		if bytes.HasPrefix(rest, []byte("<!")) || bytes.HasPrefix(rest, []byte("<?")) {
			return errXMLDoctype
		}
		return nil
	}
}

func isNameByte(c byte) bool {
	return c == '_' || c == '-' || c == '.' || c == ':' || c >= 0x80 ||
		(c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}

// openTag reads "<name attrs>" or "<name attrs/>" at the cursor.
func (p *xmlParser) openTag() (name string, selfClosing bool, err error) {
	if p.i >= len(p.b) || p.b[p.i] != '<' {
		return "", false, errXMLSyntax
	}
	p.i++
	start := p.i
	for p.i < len(p.b) && isNameByte(p.b[p.i]) {
		p.i++
	}
	if p.i == start {
		return "", false, errXMLSyntax
	}
	name = string(p.b[start:p.i])
	// Attributes are not part of WeChat's format but are legal XML; skip them,
	// refusing entity references inside values like everywhere else.
	for {
		p.skipSpace()
		if p.i >= len(p.b) {
			return "", false, errXMLSyntax
		}
		switch c := p.b[p.i]; {
		case c == '>':
			p.i++
			return name, false, nil
		case c == '/':
			if p.i+1 < len(p.b) && p.b[p.i+1] == '>' {
				p.i += 2
				return name, true, nil
			}
			return "", false, errXMLSyntax
		case isNameByte(c):
			for p.i < len(p.b) && isNameByte(p.b[p.i]) {
				p.i++
			}
			p.skipSpace()
			if p.i >= len(p.b) || p.b[p.i] != '=' {
				return "", false, errXMLSyntax
			}
			p.i++
			p.skipSpace()
			if p.i >= len(p.b) || (p.b[p.i] != '"' && p.b[p.i] != '\'') {
				return "", false, errXMLSyntax
			}
			q := p.b[p.i]
			end := bytes.IndexByte(p.b[p.i+1:], q)
			if end < 0 {
				return "", false, errXMLSyntax
			}
			val := p.b[p.i+1 : p.i+1+end]
			if bytes.IndexByte(val, '<') >= 0 {
				return "", false, errXMLSyntax
			}
			if _, err := decodeEntities(nil, val); err != nil {
				return "", false, err
			}
			p.i += end + 2
		default:
			return "", false, errXMLSyntax
		}
	}
}

// closeTag reads "</name>" at the cursor.
func (p *xmlParser) closeTag(name string) error {
	if !bytes.HasPrefix(p.b[p.i:], []byte("</")) {
		return errXMLSyntax
	}
	p.i += 2
	if !bytes.HasPrefix(p.b[p.i:], []byte(name)) {
		return errXMLSyntax
	}
	p.i += len(name)
	p.skipSpace()
	if p.i >= len(p.b) || p.b[p.i] != '>' {
		return errXMLSyntax
	}
	p.i++
	return nil
}

// children reads the content of the element named parent up to and including
// its end tag, recording each leaf child as a field.
func (p *xmlParser) children(parent string, depth int) error {
	closing := parent
	if depth == 1 {
		closing = "xml"
	}
	for {
		if err := p.skipMisc(); err != nil {
			return err
		}
		if p.i >= len(p.b) {
			return errXMLSyntax
		}
		if p.b[p.i] != '<' {
			// Text directly inside <xml> or a parent element: only whitespace
			// is meaningful XML here, and that was skipped.
			return errXMLSyntax
		}
		if bytes.HasPrefix(p.b[p.i:], []byte("</")) {
			return p.closeTag(closing)
		}
		name, selfClosing, err := p.openTag()
		if err != nil {
			return err
		}
		full := name
		if parent != "" {
			full = parent + "." + name
		}
		if selfClosing {
			if err := p.addField(full, ""); err != nil {
				return err
			}
			continue
		}
		if err := p.element(name, full, depth+1); err != nil {
			return err
		}
	}
}

// element reads the content of a child element: text and CDATA, or nested elements.
func (p *xmlParser) element(name, full string, depth int) error {
	if depth > maxXMLDepth {
		return errXMLTooDeep
	}
	p.text = p.text[:0]
	start := p.i
	for p.i < len(p.b) {
		c := p.b[p.i]
		if c != '<' {
			j := bytes.IndexByte(p.b[p.i:], '<')
			if j < 0 {
				return errXMLSyntax
			}
			var err error
			p.text, err = decodeEntities(p.text, p.b[p.i:p.i+j])
			if err != nil {
				return err
			}
			p.i += j
			continue
		}
		rest := p.b[p.i:]
		switch {
		case bytes.HasPrefix(rest, []byte("<![CDATA[")):
			end := bytes.Index(rest[9:], []byte("]]>"))
			if end < 0 {
				return errXMLSyntax
			}
			p.text = append(p.text, rest[9:9+end]...)
			p.i += 9 + end + 3
		case bytes.HasPrefix(rest, []byte("</")):
			value := string(p.text)
			if err := p.closeTag(name); err != nil {
				return err
			}
			return p.addField(full, value)
		case bytes.HasPrefix(rest, []byte("<!--")):
			end := bytes.Index(rest[4:], []byte("-->"))
			if end < 0 {
				return errXMLSyntax
			}
			p.i += 4 + end + 3
		case bytes.HasPrefix(rest, []byte("<!")), bytes.HasPrefix(rest, []byte("<?")):
			return errXMLDoctype
		default:
			// A nested element: only whitespace may precede it.
			if len(bytes.TrimSpace(p.b[start:p.i])) != 0 {
				return errXMLSyntax
			}
			return p.nested(name, full, depth)
		}
	}
	return errXMLSyntax
}

func (p *xmlParser) nested(name, full string, depth int) error {
	for {
		if err := p.skipMisc(); err != nil {
			return err
		}
		if p.i >= len(p.b) || p.b[p.i] != '<' {
			return errXMLSyntax
		}
		if bytes.HasPrefix(p.b[p.i:], []byte("</")) {
			return p.closeTag(name)
		}
		child, selfClosing, err := p.openTag()
		if err != nil {
			return err
		}
		if selfClosing {
			if err := p.addField(full+"."+child, ""); err != nil {
				return err
			}
			continue
		}
		if err := p.element(child, full+"."+child, depth+1); err != nil {
			return err
		}
	}
}

func (p *xmlParser) addField(name, value string) error {
	if len(p.fields) >= maxXMLFields {
		return errXMLTooLarge
	}
	p.fields = append(p.fields, xmlField{name: name, value: xmlSafe(value)})
	return nil
}

// xmlSafe drops what XML 1.0 forbids anywhere in a document, even in
// CDATA or as a character reference: the C0 control characters other than
// tab, newline and carriage return, U+FFFE and U+FFFF. (Invalid UTF-8 goes
// too.) A resident's phone can send them; kept, they would end up in a reply
// that is no longer XML, which WeChat drops, and in every later reply that
// quotes them. So they are dropped as messages arrive and again as replies
// are built, for what was stored before.
func xmlSafe(s string) string {
	clean := utf8.ValidString(s)
	for i := 0; clean && i < len(s); i++ {
		c := s[i]
		clean = (c >= 0x20 || c == '\t' || c == '\n' || c == '\r') && !(c == 0xEF && i+2 < len(s) && s[i+1] == 0xBF && s[i+2] >= 0xBE)
	}
	if clean {
		return s
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0xFFFE || r == 0xFFFF {
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, ""))
}

// decodeEntities appends s to dst with the predefined entities and character
// references decoded; any other entity is refused (no DTD, no expansion).
func decodeEntities(dst, s []byte) ([]byte, error) {
	for {
		j := bytes.IndexByte(s, '&')
		if j < 0 {
			if bytes.IndexByte(s, '>') >= 0 && bytes.Contains(s, []byte("]]>")) {
				return nil, errXMLSyntax
			}
			return append(dst, s...), nil
		}
		dst = append(dst, s[:j]...)
		s = s[j+1:]
		end := bytes.IndexByte(s, ';')
		if end < 1 || end > 10 {
			return nil, errXMLEntity
		}
		ent := s[:end]
		s = s[end+1:]
		switch string(ent) {
		case "lt":
			dst = append(dst, '<')
		case "gt":
			dst = append(dst, '>')
		case "amp":
			dst = append(dst, '&')
		case "quot":
			dst = append(dst, '"')
		case "apos":
			dst = append(dst, '\'')
		default:
			if ent[0] != '#' || len(ent) < 2 {
				return nil, errXMLEntity
			}
			var n uint64
			var err error
			if ent[1] == 'x' {
				n, err = strconv.ParseUint(string(ent[2:]), 16, 32)
			} else {
				n, err = strconv.ParseUint(string(ent[1:]), 10, 32)
			}
			r := rune(n)
			if err != nil || !utf8.ValidRune(r) || r == 0 {
				return nil, errXMLEntity
			}
			dst = utf8.AppendRune(dst, r)
		}
	}
}

// appendCDATA writes s as CDATA, splitting any "]]>" it contains.
func appendCDATA(dst []byte, s string) []byte {
	dst = append(dst, "<![CDATA["...)
	for {
		j := strings.Index(s, "]]>")
		if j < 0 {
			break
		}
		dst = append(dst, s[:j+2]...)
		dst = append(dst, "]]><![CDATA["...)
		s = s[j+2:]
	}
	dst = append(dst, s...)
	return append(dst, "]]>"...)
}

// textReplyXML is a passive text reply.
func textReplyXML(to, from string, createTime int64, text string) []byte {
	to, from, text = xmlSafe(to), xmlSafe(from), xmlSafe(text)
	// The tags and CDATA wrappers take about 190 bytes: room for all of
	// it at once, so the reply is not copied again as it grows.
	b := make([]byte, 0, 256+len(to)+len(from)+len(text))
	b = append(b, "<xml><ToUserName>"...)
	b = appendCDATA(b, to)
	b = append(b, "</ToUserName><FromUserName>"...)
	b = appendCDATA(b, from)
	b = append(b, "</FromUserName><CreateTime>"...)
	b = strconv.AppendInt(b, createTime, 10)
	b = append(b, "</CreateTime><MsgType><![CDATA[text]]></MsgType><Content>"...)
	b = appendCDATA(b, text)
	return append(b, "</Content></xml>"...)
}

// encryptedReplyXML is the envelope of an encrypted reply.
func encryptedReplyXML(encrypt, signature, timestamp, nonce string) []byte {
	b := make([]byte, 0, 192+len(encrypt)+len(signature)+len(timestamp)+len(nonce))
	b = append(b, "<xml><Encrypt>"...)
	b = appendCDATA(b, encrypt)
	b = append(b, "</Encrypt><MsgSignature>"...)
	b = appendCDATA(b, signature)
	b = append(b, "</MsgSignature><TimeStamp>"...)
	b = append(b, timestamp...)
	b = append(b, "</TimeStamp><Nonce>"...)
	b = appendCDATA(b, xmlSafe(nonce))
	return append(b, "</Nonce></xml>"...)
}
