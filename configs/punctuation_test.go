package configs

import (
	"fmt"
	"strings"
	"testing"
	"unicode"

	"go.yaml.in/yaml/v3"
)

// Residents read the texts on phones, where an ASCII comma or bracket
// beside Chinese looks cramped and wrong. Every user-facing text in the
// shipped data uses full-width ，！？：；（） next to Chinese; this test keeps
// it so when texts are added or reworded.
func TestTextsUseChinesePunctuation(t *testing.T) {
	// The fields people read; ids, keys, keywords (matched, never shown)
	// and URLs are not text.
	userFacing := map[string][]string{
		"messages.yaml":   nil, // every value
		"flows.yaml":      {"title", "label", "prompt", "short", "help"},
		"categories.yaml": {"name"},
		"directory.yaml":  {"name", "address", "contact", "phone"},
	}
	for file, keys := range userFacing {
		b, err := ReadData("", file)
		if err != nil {
			t.Fatal(err)
		}
		var doc yaml.Node
		if err := yaml.Unmarshal(b, &doc); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		walkTexts(&doc, "", func(key string, n *yaml.Node) {
			if keys != nil && !contains(keys, key) {
				return
			}
			if bad := asciiPunctuationBesideChinese(n.Value); bad != "" {
				t.Errorf("%s:%d (%s): ASCII punctuation next to Chinese in %q; use full-width ，！？：；（）", file, n.Line, key, bad)
			}
		})
	}
}

func TestASCIIPunctuationBesideChinese(t *testing.T) {
	for s, bad := range map[string]bool{
		"您好,欢迎":                   true,
		"已通知群众(编号)":               true,
		"({number}):":             true,
		"类别:{value}":              true,
		"请回复「是」确认!":               true,
		"您好，欢迎！":                  false,
		"{n}. 类别：{value}":         false,
		"09:00-11:30":             false,
		"KQ20261127-0007, 2":      false,
		"https://example.com/a?b": false,
	} {
		if got := asciiPunctuationBesideChinese(s) != ""; got != bad {
			t.Errorf("%q: flagged = %v, want %v", s, got, bad)
		}
	}
}

// walkTexts calls fn for every scalar value in a mapping, with its key.
func walkTexts(n *yaml.Node, key string, fn func(key string, n *yaml.Node)) {
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, c := range n.Content {
			walkTexts(c, key, fn)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			walkTexts(n.Content[i+1], n.Content[i].Value, fn)
		}
	case yaml.ScalarNode:
		fn(key, n)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// asciiPunctuationBesideChinese returns the stretch around the first ASCII
// , ! ? : ; ( or ) that touches Chinese: a Han character, Chinese
// punctuation, or a {placeholder} (which is filled with Chinese words or
// Chinese-punctuated text). It returns "" when there is none.
func asciiPunctuationBesideChinese(s string) string {
	r := []rune(s)
	chinese := func(i int) bool {
		if i < 0 || i >= len(r) {
			return false
		}
		c := r[i]
		return unicode.Is(unicode.Han, c) || (c >= 0x3000 && c <= 0x303F) || (c >= 0xFF00 && c <= 0xFFEF) ||
			c == '…' || c == '—' || c == '·' || c == '{' || c == '}'
	}
	for i, c := range r {
		if !strings.ContainsRune(",!?:;()", c) {
			continue
		}
		// A placeholder's brace counts as Chinese only on its outer side:
		// "{n}." is fine, "({number})" is not.
		before := chinese(i-1) && r[i-1] != '{'
		after := chinese(i+1) && r[i+1] != '}'
		if before || after {
			return fmt.Sprintf("…%s…", string(r[max(0, i-6):min(len(r), i+7)]))
		}
	}
	return ""
}
