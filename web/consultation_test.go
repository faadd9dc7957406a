package web

import (
	"archive/zip"
	"bytes"
	"io"
	"strings"
	"testing"
)

func docx(t *testing.T, document string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create("word/document.xml")
	io.WriteString(w, document)
	zw.Close()
	return buf.Bytes()
}

// TestDocxText: a Word document's paragraphs become lines, whatever runs
// Word cut them into; tabs and line breaks are kept; what is not a .docx
// is refused.
func TestDocxText(t *testing.T) {
	doc := `<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>` +
		`<w:p><w:r><w:t>第一条</w:t></w:r><w:r><w:tab/><w:t xml:space="preserve">为了 </w:t></w:r><w:r><w:rPr><w:b/></w:rPr><w:t>加强管理。</w:t></w:r></w:p>` +
		`<w:p><w:r><w:t>第二条 甲&amp;乙</w:t><w:br/><w:t>续行</w:t></w:r></w:p><w:p/>` +
		`<w:p><w:r><w:instrText>PAGE</w:instrText></w:r></w:p></w:body></w:document>`
	got, err := DocxText(docx(t, doc))
	if err != nil {
		t.Fatal(err)
	}
	if want := "第一条\t为了 加强管理。\n第二条 甲&乙\n续行\n\n\n"; got != want {
		t.Errorf("DocxText = %q, want %q", got, want)
	}
	var styles bytes.Buffer
	zw := zip.NewWriter(&styles)
	zw.Create("word/styles.xml")
	zw.Close()
	for name, data := range map[string][]byte{"not a zip": []byte("第一条 纯文本"), "no document": styles.Bytes(),
		"bad xml": docx(t, "<w:document><w:p>")} {
		if _, err := DocxText(data); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestReadDraftUpload(t *testing.T) {
	open := func(b []byte) func() (io.ReadCloser, error) {
		return func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	}
	if text, problem := readDraftUpload("草案.TXT", open([]byte("\xef\xbb\xbf第一条 甲。"))); problem != "" || text != "第一条 甲。" {
		t.Errorf("txt with a BOM: %q %q", text, problem)
	}
	if _, problem := readDraftUpload("草案.txt", open([]byte{0xb5, 0xda, 0xd2, 0xbb})); problem != "consult_file_encoding" {
		t.Errorf("GBK text: %q", problem)
	}
	if _, problem := readDraftUpload("草案.pdf", open([]byte("%PDF"))); problem != "consult_file_type" {
		t.Errorf("pdf: %q", problem)
	}
	if _, problem := readDraftUpload("草案.docx", open([]byte("no zip"))); problem != "consult_file_bad" {
		t.Errorf("broken docx: %q", problem)
	}
	if !strings.HasPrefix(labels["err:consult_file_encoding"], "这个 .txt") {
		t.Error("the encoding problem has no words")
	}
}

// A push the account cannot make is explained to the clerk in Chinese, with
// what to do, not as WeChat's English error.
func TestMassSendFailureInChinese(t *testing.T) {
	got := massReason("wxapi: tags/get: no tag named 联络站:pingtanjie")
	if !strings.Contains(got, "「联络站:pingtanjie」") || !strings.Contains(got, "标签") || strings.Contains(got, "wxapi") || strings.Contains(got, "no tag") {
		t.Errorf("no tag: %q", got)
	}
	if got := massReason("wxapi: message/mass/sendall: errcode 40001 invalid credential"); !strings.HasPrefix(got, "微信接口") {
		t.Errorf("another failure: %q", got)
	}
	if got := massReason(""); got != "" {
		t.Errorf("no failure: %q", got)
	}
}
