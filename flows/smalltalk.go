package flows

import (
	"strings"
	"unicode"

	"github.com/lianxin/lianxin"
)

// What residents say that is neither a report nor a command: thanks, "ok",
// "are you there", and how to reach a station. They get a short answer,
// not «没太明白» and the whole menu.

// contactWords are what residents ask a station's telephone or address with.
var contactWords = []string{"电话", "联系方式", "联系你们", "怎么联系", "地址", "在哪", "在什么地方", "怎么走", "怎么找你们", "办公地点"}

// questionWords mark a question.
var questionWords = []string{"多少", "什么", "哪", "吗", "么", "怎么", "？", "?", "号码", "告诉"}

// isContactQuestion reports whether a short message asks how to reach the
// stations ("你们电话多少", "联络站在哪里", "怎么联系你们"). A message with a
// number in it is someone giving theirs; one that reads like a problem
// ("供热站电话打不通") is a report that mentions a phone.
func (t *turn) isContactQuestion(raw string) bool {
	s := strings.TrimSpace(raw)
	if runeLen(s) > 20 || strings.IndexFunc(s, unicode.IsDigit) >= 0 {
		return false
	}
	return containsAny(s, contactWords) && containsAny(s, questionWords) && !t.cl.LooksLikeProblem(s)
}

func containsAny(s string, words []string) bool {
	for _, w := range words {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

// contact answers with the address and telephone of the unit that has the
// resident's latest case, or, for someone without one, of every station.
func (t *turn) contact() (string, error) {
	cases, err := t.e.cfg.Store.Cases(t.ctx, lianxin.CaseFilter{OpenID: t.m.OpenID, Limit: 1})
	if err != nil {
		return "", err
	}
	if len(cases) > 0 {
		if unit, ok := t.dir.Station(cases[0].StationID); ok {
			return t.txt("contact_yours", "unit", t.unitContact(unit)), nil
		}
	}
	var lines []string
	for _, st := range t.dir.Stations {
		if st.Kind == lianxin.StationKind {
			lines = append(lines, t.unitContact(st))
		}
	}
	return t.txt("contact_all", "units", strings.Join(lines, "\n")), nil
}

// unitContact is one unit's name, address and telephone; a point without a
// telephone of its own gives its station's.
func (t *turn) unitContact(u lianxin.Station) string {
	phone := u.Phone
	if phone == "" {
		if parent, ok := t.dir.Station(u.Parent); ok {
			phone = parent.Phone
		}
	}
	if phone == "" {
		phone = t.txt("none")
	}
	return t.txt("contact_line", "name", u.Name, "address", u.Address, "phone", phone)
}
