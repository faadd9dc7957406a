package lianxin

// Category is a kind of problem. Keys are stable identifiers; names, keywords
// and deadlines are data a station edits in configs/.
type Category struct {
	Key         string   `json:"key" yaml:"key"`
	Name        string   `json:"name" yaml:"name"`
	Keywords    []string `json:"keywords,omitempty" yaml:"keywords"`
	AcceptHours int      `json:"accept_hours,omitempty" yaml:"accept_hours"`
	ResolveDays int      `json:"resolve_days,omitempty" yaml:"resolve_days"`
	Department  string   `json:"department,omitempty" yaml:"department"`
}

// OtherCategory is the fallback category: a report without a fitting one
// gets it, and it may have no keywords because the classifier falls back to
// it when nothing else matches.
const OtherCategory = "other"

// Categories are the categories in the order residents see them.
type Categories []Category

// ByKey returns the category with the key.
func (cs Categories) ByKey(key string) (Category, bool) {
	for _, c := range cs {
		if c.Key == key {
			return c, true
		}
	}
	return Category{}, false
}

// Name is the category's name, or the key itself for a category that is no
// longer in the list (a case keeps the key it was filed under).
func (cs Categories) Name(key string) string {
	if c, ok := cs.ByKey(key); ok {
		return c.Name
	}
	return key
}

// Keys are the categories' keys, in order.
func (cs Categories) Keys() []string {
	keys := make([]string, len(cs))
	for i, c := range cs {
		keys[i] = c.Key
	}
	return keys
}
