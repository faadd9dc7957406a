package configs

import (
	"strings"
	"testing"
)

// TestCheckDirectoryRoundTrip: the shipped files pass through the console's
// check unchanged, and a change the import would refuse is refused.
func TestCheckDirectoryRoundTrip(t *testing.T) {
	cb, _ := ReadData("", "categories.yaml")
	cats, err := LoadCategories(cb)
	if err != nil {
		t.Fatal(err)
	}
	db, _ := ReadData("", "directory.yaml")
	dir, err := LoadDirectory(db, cats.Keys())
	if err != nil {
		t.Fatal(err)
	}
	d2, c2, err := CheckDirectory(dir, cats)
	if err != nil {
		t.Fatalf("the shipped directory fails the console's check: %v", err)
	}
	if len(d2.Stations) != len(dir.Stations) || len(d2.Deputies) != len(dir.Deputies) || len(c2) != len(cats) {
		t.Fatalf("round trip lost records")
	}
	// Two heads of one unit: the import refuses it, so does the console.
	dir.Deputies[1].Head = true
	if _, _, err := CheckDirectory(dir, cats); err == nil || !strings.Contains(err.Error(), "head") {
		t.Fatalf("two heads accepted: %v", err)
	}
}
