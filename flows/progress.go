package flows

import (
	"regexp"
	"slices"
	"strings"

	"github.com/lianxin/lianxin"
)

// A resident's 进度: their cases, or one case's timeline as the resident
// may read it (lianxin.Event.VisibleTo).

// progressRef finds the case a 进度 message names: "进度 1", "进度1",
// "进度 KQ20261127-0001", "进度 20261127-1". It is "" for 进度 alone and
// for words after it ("进度怎么样了"), which ask for the list.
var progressRef = regexp.MustCompile(`[a-z]{1,8}\d{8}-\d{1,6}|\d{8}-\d{1,6}|\d{1,6}`)

// wantsProgress reports whether a normalised message asks for 进度.
func wantsProgress(w string) bool { return wordsProgress[w] || strings.HasPrefix(w, "进度") }

// progress answers 进度: one of the resident's cases when the message names
// one, else the list of them.
func (t *turn) progress(w string) (string, error) {
	if wordsProgress[w] {
		return t.myCases()
	}
	ref := progressRef.FindString(strings.TrimPrefix(w, "进度"))
	if ref == "" {
		return t.myCases()
	}
	c, problem, err := t.ownCase(ref)
	if err != nil || problem != "" {
		return problem, err
	}
	return t.caseDetail(c), nil
}

// ownCase resolves a full or short case number among the resident's own
// cases. problem is the reply when it names none, or more than one.
func (t *turn) ownCase(ref string) (*lianxin.Case, string, error) {
	notFound := t.txt("case_not_found", "number", strings.ToUpper(ref))
	store := t.e.cfg.Store
	if fullNumber.MatchString(ref) {
		c, err := store.Case(t.ctx, ref)
		if err == nil && c.OpenID != t.m.OpenID {
			if ok, ferr := t.follows(c); ferr != nil || ok {
				return c, "", ferr
			}
			if gc, ok, gerr := t.gridCase(ref); gerr != nil || ok {
				return gc, "", gerr
			}
			return nil, notFound, nil
		}
		if lianxin.ErrorCode(err) == lianxin.ENOTFOUND {
			return nil, notFound, nil
		}
		return c, "", err
	}
	cases, err := store.Cases(t.ctx, lianxin.CaseFilter{OpenID: t.m.OpenID, Limit: 500})
	if err != nil {
		return nil, "", err
	}
	followed, err := t.followed(500)
	if err != nil {
		return nil, "", err
	}
	matches := matchShort(append(cases, followed...), ref)
	switch len(matches) {
	case 0:
		// A grid worker follows the cases of their grid too.
		if c, ok, err := t.gridCase(ref); err != nil || ok {
			return c, "", err
		}
		return nil, notFound, nil
	case 1:
		c, err := store.Case(t.ctx, matches[0].Number)
		return c, "", err
	}
	return nil, t.txt("case_ambiguous", "ref", ref, "example", matches[0].Number), nil
}

// matchShort picks the cases a short reference means: "7" is the 7th case
// of some day, "20261127-7" of that day. When several match, the open ones
// are meant ("受理 7" means the 7 still being handled).
func matchShort(cases []lianxin.Case, ref string) []lianxin.Case {
	day, seq, hasDay := strings.Cut(ref, "-")
	if !hasDay {
		seq, day = day, ""
	}
	want := strings.TrimLeft(seq, "0")
	var matches []lianxin.Case
	for _, c := range cases {
		if lianxin.ShortNumber(c.Number) == want && (day == "" || strings.Contains(c.Number, day+"-")) {
			matches = append(matches, c)
		}
	}
	if len(matches) > 1 {
		open := slices.DeleteFunc(slices.Clone(matches), func(c lianxin.Case) bool { return !c.Status.Open() })
		if len(open) >= 1 {
			matches = open
		}
	}
	return matches
}

// myCases lists the resident's latest cases, each with the start of its
// description, so two heating cases can be told apart.
func (t *turn) myCases() (string, error) {
	cases, err := t.e.cfg.Store.Cases(t.ctx, lianxin.CaseFilter{OpenID: t.m.OpenID, Limit: 5})
	if err != nil {
		return "", err
	}
	followed, err := t.followed(5)
	if err != nil {
		return "", err
	}
	if len(cases) == 0 && len(followed) == 0 {
		return t.txt("my_cases_empty"), nil
	}
	lines := make([]string, 0, len(cases)+len(followed)+1)
	for _, c := range cases {
		lines = append(lines, t.txt("case_line", "number", c.Number, "category", t.cats.Name(c.CategoryKey),
			"status", t.txt("status_"+string(c.Status)), "summary", clip(oneLine(c.Description), 16)))
	}
	if len(followed) > 0 {
		lines = append(lines, t.txt("followed_head"))
		for _, c := range followed {
			lines = append(lines, t.txt("followed_line", "number", c.Number, "category", t.cats.Name(c.CategoryKey),
				"status", t.txt("status_"+string(c.Status)), "summary", clip(oneLine(c.Description), 16)))
		}
	}
	if len(cases) == 0 {
		cases = followed
	}
	return t.txt("my_cases", "count", itoa(len(cases)), "cases", strings.Join(lines, "\n"),
		"short", lianxin.ShortNumber(cases[0].Number)), nil
}

// caseDetail is one case as its resident reads it: only the events meant
// for them, in their words.
func (t *turn) caseDetail(c *lianxin.Case) string {
	loc := t.e.cfg.Numbering.Location
	lines := make([]string, 0, len(c.Events))
	for _, ev := range c.Events {
		if !ev.VisibleTo(true) {
			continue
		}
		text := t.txt("timeline_"+ev.Type, "text", ev.Text)
		if _, known := t.e.texts["timeline_"+ev.Type]; !known {
			text = ev.Text // a resident event of a kind without its own wording
		}
		if text != "" {
			lines = append(lines, ev.At.In(loc).Format("01-02 15:04")+" "+text)
		}
	}
	return t.txt("case_detail", "number", c.Number, "category", t.cats.Name(c.CategoryKey), "status", t.txt("status_"+string(c.Status)),
		"description", clip(c.Description, 100), "timeline", strings.Join(lines, "\n"))
}

// oneLine joins a text's lines with spaces, for one-line summaries.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
