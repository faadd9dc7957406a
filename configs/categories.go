package configs

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode"

	"go.yaml.in/yaml/v3"

	"github.com/lianxin/lianxin"
)

// MaxKeywordWeight bounds a keyword's weight so that one entry cannot drown
// every other word a resident wrote.
const MaxKeywordWeight = 10

var categoryKeyRE = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// ParseKeyword splits a keyword entry of categories.yaml, "暖气^3", into the
// word and its weight (1 when no "^" is given). The syntax lives here, beside
// the file it belongs to, so that the loader and the classifier cannot disagree.
func ParseKeyword(s string) (word string, weight float64, err error) {
	word, w, hasWeight := strings.Cut(s, "^")
	if word == "" || strings.TrimSpace(word) != word {
		return "", 0, fmt.Errorf("keyword %q: the word must be non-empty with no spaces around it", s)
	}
	if !hasWeight {
		return word, 1, nil
	}
	weight, err = strconv.ParseFloat(w, 64)
	if err != nil || math.IsNaN(weight) || math.Abs(weight) > MaxKeywordWeight {
		return "", 0, fmt.Errorf("keyword %q: weight after ^ must be a number between -%d and %d", s, MaxKeywordWeight, MaxKeywordWeight)
	}
	return word, weight, nil
}

// LoadCategories parses and validates categories.yaml. Errors name the
// category and the line, because the people editing the file are station
// staff, not programmers.
func LoadCategories(b []byte) (lianxin.Categories, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("categories: %w", err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, errors.New("categories: the file is empty")
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("categories: line %d: expected \"categories:\" followed by a list", root.Line)
	}
	var list *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if k.Value != "categories" {
			return nil, fmt.Errorf("categories: line %d: unknown field %q", k.Line, k.Value)
		}
		list = v
	}
	if list == nil {
		return nil, fmt.Errorf("categories: line %d: missing \"categories:\"", root.Line)
	}
	if list.Kind != yaml.SequenceNode || len(list.Content) == 0 {
		return nil, fmt.Errorf("categories: line %d: \"categories:\" must be a non-empty list", list.Line)
	}

	var errs []error
	seen := map[string]int{} // key → line of first definition
	cats := make([]lianxin.Category, 0, len(list.Content))
	for i, n := range list.Content {
		c, err := loadCategory(n, i+1)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if first, dup := seen[c.Key]; dup {
			errs = append(errs, fmt.Errorf("categories: line %d: category %q is already defined on line %d", n.Line, c.Key, first))
			continue
		}
		seen[c.Key] = n.Line
		cats = append(cats, c)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return cats, nil
}

// loadCategory decodes and checks one list item; pos is its 1-based position,
// used to name a category that has no usable key.
func loadCategory(n *yaml.Node, pos int) (lianxin.Category, error) {
	var c lianxin.Category
	name := fmt.Sprintf("category #%d", pos)
	fail := func(line int, format string, args ...any) error {
		return fmt.Errorf("categories: line %d: %s: %s", line, name, fmt.Sprintf(format, args...))
	}
	if n.Kind != yaml.MappingNode {
		return c, fail(n.Line, "expected a mapping with key, name, keywords, accept_hours, resolve_days, department")
	}
	fields := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch k.Value {
		case "key", "name", "keywords", "accept_hours", "resolve_days", "department":
		default:
			return c, fail(k.Line, "unknown field %q", k.Value)
		}
		if _, dup := fields[k.Value]; dup {
			return c, fail(k.Line, "field %q is given twice", k.Value)
		}
		fields[k.Value] = v
	}
	// Name the category by its key as early as possible so later errors say which one.
	if v := fields["key"]; v != nil && v.Kind == yaml.ScalarNode && v.Value != "" {
		name = fmt.Sprintf("category %q", v.Value)
	}
	kw := fields["keywords"]
	if kw != nil && kw.Kind != yaml.SequenceNode && kw.Tag != "!!null" {
		return c, fail(kw.Line, "keywords must be a list")
	}
	if err := n.Decode(&c); err != nil {
		return c, fail(n.Line, "%v", err)
	}

	switch v := fields["key"]; {
	case v == nil || c.Key == "":
		return c, fail(n.Line, "key is required")
	case !categoryKeyRE.MatchString(c.Key):
		return c, fail(v.Line, "key %q must be lower-case letters, digits and _, starting with a letter", c.Key)
	}
	if v := fields["name"]; v == nil || strings.TrimSpace(c.Name) == "" {
		return c, fail(n.Line, "name is required")
	}
	if v := fields["accept_hours"]; v == nil || c.AcceptHours <= 0 {
		return c, fail(lineOf(v, n), "accept_hours must be a positive number of hours")
	}
	if v := fields["resolve_days"]; v == nil || c.ResolveDays <= 0 {
		return c, fail(lineOf(v, n), "resolve_days must be a positive number of days")
	}
	if v := fields["department"]; v == nil || strings.TrimSpace(c.Department) == "" {
		return c, fail(lineOf(v, n), "department is required")
	}

	positive := false
	words := map[string]int{}
	if kw != nil {
		for _, k := range kw.Content {
			word, w, err := ParseKeyword(k.Value)
			if err != nil {
				return c, fail(k.Line, "%v", err)
			}
			if strings.IndexFunc(word, unicode.IsSpace) >= 0 {
				return c, fail(k.Line, "keyword %q must not contain spaces: they are ignored when matching", word)
			}
			norm := strings.ToLower(word)
			if first, dup := words[norm]; dup {
				return c, fail(k.Line, "keyword %q is already listed on line %d", word, first)
			}
			words[norm] = k.Line
			if w > 0 {
				positive = true
			}
		}
	}
	if !positive && c.Key != lianxin.OtherCategory {
		return c, fail(lineOf(kw, n), "needs at least one keyword with a positive weight, or residents' reports can never be suggested for it")
	}
	return c, nil
}

// lineOf is the line of a field's value, or of its category when the field is missing.
func lineOf(v, parent *yaml.Node) int {
	if v != nil {
		return v.Line
	}
	return parent.Line
}
