package open311

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// telephone is what reads as a telephone number in an answer: a mobile
// (138 1234 5678 with or without spaces or dashes), a landline with its
// area code (0353-1234567, （0353）1234567), or any other run of seven or
// more digits (a local number); full-width digits too.
var telephone = regexp.MustCompile(`1[3-9][0-9][ \-－]?[0-9]{4}[ \-－]?[0-9]{4}` +
	`|[（(]?0[0-9]{2,3}[）)\-－ ]?[0-9]{7,8}` +
	`|[0-9０-９]{7,}`)

// maskTelephones hides the telephone numbers of a text the public may read
// (status_notes: the answer written to the resident in their own chat),
// keeping the rest. Digits that follow a letter are a case number
// (KQ20261202-0001), not a telephone, and stay.
func maskTelephones(s string) string {
	var b strings.Builder
	last := 0
	for _, m := range telephone.FindAllStringIndex(s, -1) {
		if r, _ := utf8.DecodeLastRuneInString(s[:m[0]]); m[0] > 0 && (unicode.IsLetter(r) && r < utf8.RuneSelf || r == '-') {
			continue
		}
		b.WriteString(s[last:m[0]])
		b.WriteString(maskDigits(s[m[0]:m[1]]))
		last = m[1]
	}
	b.WriteString(s[last:])
	return b.String()
}

// maskDigits keeps a mobile's first three and last four digits (138****5678,
// as the console shows them) and hides every digit of anything else.
func maskDigits(number string) string {
	var digits []rune
	for _, r := range number {
		if unicode.IsDigit(r) {
			digits = append(digits, r)
		}
	}
	if len(digits) == 11 && digits[0] == '1' {
		return string(digits[:3]) + "****" + string(digits[7:])
	}
	return strings.Repeat("*", len(digits))
}
