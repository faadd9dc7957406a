package configs

import (
	"fmt"

	"go.yaml.in/yaml/v3"

	"github.com/lianxin/lianxin"
)

// CheckDirectory puts a directory and categories changed in the console
// through exactly the validation `lianxin import` applies to the files: it
// writes them as directory.yaml and categories.yaml would be written and
// loads them back. It returns what loaded (as routing will read it), or
// the loaders' error naming the record at fault.
func CheckDirectory(dir *lianxin.Directory, cats lianxin.Categories) (*lianxin.Directory, lianxin.Categories, error) {
	cb, err := yaml.Marshal(struct {
		Categories lianxin.Categories `yaml:"categories"`
	}{cats})
	if err != nil {
		return nil, nil, fmt.Errorf("categories: %w", err)
	}
	loadedCats, err := LoadCategories(cb)
	if err != nil {
		return nil, nil, err
	}
	db, err := yaml.Marshal(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("directory: %w", err)
	}
	loadedDir, err := LoadDirectory(db, loadedCats.Keys())
	if err != nil {
		return nil, nil, err
	}
	return loadedDir, loadedCats, nil
}
