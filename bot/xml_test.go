package bot

import (
	"encoding/xml"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/lianxin/lianxin"
)

func TestParseXMLWeChatMessages(t *testing.T) {
	doc := `<xml><ToUserName><![CDATA[gh_123]]></ToUserName>
<FromUserName><![CDATA[oUser]]></FromUserName>
<CreateTime>1732700000</CreateTime>
<MsgType><![CDATA[location]]></MsgType>
<Location_X>37.862</Location_X><Location_Y>113.582</Location_Y><Scale>15</Scale>
<Label><![CDATA[阳泉市矿区平潭街]]></Label>
<MsgId>1234567890123456</MsgId>
</xml>`
	fields, err := parseXML([]byte(doc), nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := inboundFromXML(fields)
	if err != nil {
		t.Fatal(err)
	}
	want := lianxin.Inbound{Account: "gh_123", OpenID: "oUser", Kind: lianxin.KindLocation, MsgID: 1234567890123456,
		CreateTime: 1732700000, Lat: 37.862, Lng: 113.582, Label: "阳泉市矿区平潭街"}
	if *m != want {
		t.Errorf("got %+v\nwant %+v", *m, want)
	}
}

func TestParseXMLTextForms(t *testing.T) {
	for name, tc := range map[string]struct{ doc, want string }{
		"cdata":             {`<xml><Content><![CDATA[a<b>&c]]></Content></xml>`, "a<b>&c"},
		"escaped":           {`<xml><Content>a&lt;b&gt;&amp;c&quot;&apos;</Content></xml>`, `a<b>&c"'`},
		"char refs":         {`<xml><Content>&#26262;&#x6C14;</Content></xml>`, "暖气"},
		"mixed":             {`<xml><Content>前<![CDATA[中]]>后</Content></xml>`, "前中后"},
		"split cdata":       {`<xml><Content><![CDATA[a]]]]><![CDATA[>b]]></Content></xml>`, "a]]>b"},
		"empty":             {`<xml><Content></Content></xml>`, ""},
		"self closing":      {`<xml><Content/></xml>`, ""},
		"declaration":       {`<?xml version="1.0" encoding="UTF-8"?><xml><Content>x</Content></xml>`, "x"},
		"comment":           {`<xml><!-- c --><Content>x</Content></xml>`, "x"},
		"attribute ignored": {`<xml><Content lang="zh">x</Content></xml>`, "x"},
	} {
		fields, err := parseXML([]byte(tc.doc), nil)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		got, _ := findField(fields, "Content")
		if got != tc.want {
			t.Errorf("%s: Content = %q, want %q", name, got, tc.want)
		}
	}
}

func TestParseXMLNestedEvent(t *testing.T) {
	doc := `<xml><ToUserName><![CDATA[gh]]></ToUserName><FromUserName><![CDATA[u]]></FromUserName><CreateTime>1</CreateTime>
<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[pic_weixin]]></Event><EventKey><![CDATA[photo]]></EventKey>
<SendPicsInfo><Count>1</Count><PicList><item><PicMd5Sum><![CDATA[abc]]></PicMd5Sum></item></PicList></SendPicsInfo></xml>`
	fields, err := parseXML([]byte(doc), nil)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := findField(fields, "SendPicsInfo.PicList.item.PicMd5Sum"); v != "abc" {
		t.Errorf("nested field = %q (fields %v)", v, fields)
	}
}

func TestParseXMLRefusesHostileInput(t *testing.T) {
	for name, tc := range map[string]struct {
		doc  string
		want error
	}{
		"doctype":         {`<!DOCTYPE xml [<!ENTITY x "y">]><xml><Content>&x;</Content></xml>`, errXMLDoctype},
		"doctype inside":  {`<xml><!DOCTYPE x><Content>1</Content></xml>`, errXMLDoctype},
		"external entity": {`<?xml version="1.0"?><!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><xml><Content>&xxe;</Content></xml>`, errXMLDoctype},
		"unknown entity":  {`<xml><Content>&xxe;</Content></xml>`, errXMLEntity},
		"nul char ref":    {`<xml><Content>&#0;</Content></xml>`, errXMLEntity},
		"bad utf8":        {"<xml><Content>\xff\xfe</Content></xml>", errXMLUTF8},
		"wrong root":      {`<msg><Content>x</Content></msg>`, errXMLRoot},
		"unclosed":        {`<xml><Content>x</Content>`, errXMLSyntax},
		"mismatched":      {`<xml><Content>x</Contentx></xml>`, errXMLSyntax},
		"trailing":        {`<xml></xml><xml></xml>`, errXMLSyntax},
		"text in root":    {`<xml>hello</xml>`, errXMLSyntax},
		"empty":           {``, errXMLSyntax},
		"cdata unclosed":  {`<xml><Content><![CDATA[x</Content></xml>`, errXMLSyntax},
		"processing":      {`<xml><?php x ?><Content>x</Content></xml>`, errXMLDoctype},
		"deep":            {`<xml><a><b><c><d><e><f><g><h><i><j>x</j></i></h></g></f></e></d></c></b></a></xml>`, errXMLTooDeep},
		"too many fields": {`<xml>` + strings.Repeat(`<a>1</a>`, maxXMLFields+1) + `</xml>`, errXMLTooLarge},
	} {
		_, err := parseXML([]byte(tc.doc), nil)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", name, err, tc.want)
		}
	}
}

func TestTextReplyRoundTripsThroughEncodingXML(t *testing.T) {
	text := "您好]]>,<b>&\n第二行"
	b := textReplyXML("oUser", "gh_1", 1732700000, text)
	var r struct {
		ToUserName, FromUserName, MsgType, Content string
		CreateTime                                 int64
	}
	if err := xml.Unmarshal(b, &r); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	if r.Content != text || r.ToUserName != "oUser" || r.FromUserName != "gh_1" || r.MsgType != "text" || r.CreateTime != 1732700000 {
		t.Errorf("round trip: %+v", r)
	}
	// And through our own parser.
	fields, err := parseXML(b, nil)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := findField(fields, "Content"); v != text {
		t.Errorf("own parser: %q", v)
	}
}

// FuzzParseXML: nothing panics, and whatever parses re-encodes and re-parses
// to the same fields (the reader is consistent with the writer).
func FuzzParseXML(f *testing.F) {
	for _, s := range []string{
		`<xml><ToUserName><![CDATA[gh]]></ToUserName><FromUserName><![CDATA[u]]></FromUserName><CreateTime>1</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[暖气不热]]></Content><MsgId>1</MsgId></xml>`,
		`<xml><Content>&lt;&#x41;</Content></xml>`,
		`<!DOCTYPE x><xml/>`,
		`<xml><a><b>1</b></a></xml>`,
		`<?xml version="1.0"?><xml><Encrypt><![CDATA[abc]]></Encrypt></xml>`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fields, err := parseXML(b, nil)
		if err != nil {
			return
		}
		m, err := inboundFromXML(fields)
		if err != nil {
			return
		}
		_ = m.Key()
		for _, fl := range fields {
			if fl.name == "Content" {
				out := textReplyXML("u", "gh", 1, fl.value)
				again, err := parseXML(out, nil)
				if err != nil {
					t.Fatalf("our own reply does not parse: %v\n%q", err, out)
				}
				if v, _ := findField(again, "Content"); v != fl.value {
					t.Fatalf("content changed through a round trip: %q -> %q", fl.value, v)
				}
				// And an XML parser that is not ours reads it too.
				var doc struct{ Content string }
				if err := xml.Unmarshal(out, &doc); err != nil {
					t.Fatalf("encoding/xml refuses our reply: %v\n%q", err, out)
				}
			}
		}
	})
}

// What XML forbids is dropped from what arrives and from what is sent, so a
// reply is always a document WeChat can read (encoding/xml, like WeChat,
// refuses the rest).
func TestRepliesDropCharactersXMLForbids(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"暖气\x01不热", "暖气不热"},
		{"a\x00b\x1fc\x7f", "abc\x7f"},
		{"tab\tand newline\n", "tab\tand newline\n"},
		{"\uFFFE前\uFFFF后\uFFFD", "前后\uFFFD"},
		{"bad \xff utf-8", "bad  utf-8"},
		{"平常的话,没有问题。", "平常的话,没有问题。"},
	} {
		out := textReplyXML("oUser", "gh_account", 1, tc.in)
		var doc struct{ Content string }
		if err := xml.Unmarshal(out, &doc); err != nil {
			t.Errorf("%q: the reply is not XML: %v", tc.in, err)
		}
		if doc.Content != tc.want {
			t.Errorf("%q: reply content %q, want %q", tc.in, doc.Content, tc.want)
		}
		fields, err := parseXML([]byte("<xml><Content><![CDATA["+tc.in+"]]></Content></xml>"), nil)
		if !utf8.ValidString(tc.in) {
			continue // refused as it arrives
		}
		if v, _ := findField(fields, "Content"); err != nil || v != tc.want {
			t.Errorf("%q arrives as %q (%v), want %q", tc.in, v, err, tc.want)
		}
	}
}
