package configs

import (
	"strings"
	"testing"

	"github.com/lianxin/lianxin"
)

func TestEmbeddedCategories(t *testing.T) {
	b, err := ReadData("", "categories.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cats, err := LoadCategories(b)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ key, name, dept string }{
		{"property", "物业管理", "property_office"},
		{"heating", "供暖", "heating_company"},
		{"utilities", "水电气", "water_power_gas"},
		{"roads", "道路设施", "road_maintenance"},
		{"trees", "树木绿化", "greening"},
		{"sanitation", "环境卫生", "sanitation"},
		{"elderly", "养老助残", "civil_affairs"},
		{"housing", "房屋产权", "housing_bureau"},
		{"safety", "安全隐患", "emergency"},
		{"other", "意见建议与其他", "station_office"},
	}
	if len(cats) != len(want) {
		t.Fatalf("got %d categories, want %d", len(cats), len(want))
	}
	for i, w := range want {
		c := cats[i]
		if c.Key != w.key || c.Name != w.name || c.Department != w.dept {
			t.Errorf("category %d = %s %s %s, want %s %s %s", i, c.Key, c.Name, c.Department, w.key, w.name, w.dept)
		}
		if c.AcceptHours <= 0 || c.ResolveDays <= 0 {
			t.Errorf("%s: SLA %dh/%dd", c.Key, c.AcceptHours, c.ResolveDays)
		}
		if c.Key != lianxin.OtherCategory && len(c.Keywords) < 20 {
			t.Errorf("%s: only %d keywords; residents say things many ways", c.Key, len(c.Keywords))
		}
	}
}

func TestParseKeyword(t *testing.T) {
	for _, tc := range []struct {
		in   string
		word string
		w    float64
		ok   bool
	}{
		{"暖气", "暖气", 1, true},
		{"暖气^3", "暖气", 3, true},
		{"建议^0.5", "建议", 0.5, true},
		{"树立^0", "树立", 0, true},
		{"老年大学^-1", "老年大学", -1, true},
		{"暖气^", "", 0, false},
		{"暖气^x", "", 0, false},
		{"暖气^3^2", "", 0, false},
		{"暖气^11", "", 0, false},
		{"暖气^NaN", "", 0, false},
		{"^3", "", 0, false},
		{" 暖气", "", 0, false},
		{"", "", 0, false},
	} {
		word, w, err := ParseKeyword(tc.in)
		if (err == nil) != tc.ok || word != tc.word || w != tc.w {
			t.Errorf("ParseKeyword(%q) = %q, %v, %v; want %q, %v, ok=%v", tc.in, word, w, err, tc.word, tc.w, tc.ok)
		}
	}
}

// validCategory is one well-formed list item; tests break one field at a time.
const validCategory = `
  - key: heating
    name: 供暖
    accept_hours: 4
    resolve_days: 2
    department: heating_company
    keywords:
      - 暖气^3
      - 不热
`

func TestLoadCategoriesRefuses(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		want       []string // substrings of the error: the category, the line and the cause
	}{
		{"not yaml", "categories: [", []string{"categories:"}},
		{"empty", "", []string{"empty"}},
		{"no list", "categories: 3\n", []string{"line 1", "list"}},
		{"unknown top field", "categorys:\n" + validCategory, []string{"line 1", `"categorys"`}},
		{"bad key", strings.Replace("categories:"+validCategory, "key: heating", "key: Heating", 1),
			[]string{"line 2", `category "Heating"`, "lower-case"}},
		{"missing key", strings.Replace("categories:"+validCategory, "key: heating", "kee: heating", 1),
			[]string{"line 2", "category #1", `unknown field "kee"`}},
		{"empty name", strings.Replace("categories:"+validCategory, "name: 供暖", `name: ""`, 1),
			[]string{"line 2", `category "heating"`, "name is required"}},
		{"zero accept", strings.Replace("categories:"+validCategory, "accept_hours: 4", "accept_hours: 0", 1),
			[]string{"line 4", `category "heating"`, "accept_hours"}},
		{"negative resolve", strings.Replace("categories:"+validCategory, "resolve_days: 2", "resolve_days: -1", 1),
			[]string{"line 5", `category "heating"`, "resolve_days"}},
		{"not a number", strings.Replace("categories:"+validCategory, "resolve_days: 2", "resolve_days: two", 1),
			[]string{`category "heating"`, "line 5"}},
		{"no department", strings.Replace("categories:"+validCategory, "    department: heating_company\n", "", 1),
			[]string{"line 2", `category "heating"`, "department"}},
		{"bad weight", strings.Replace("categories:"+validCategory, "暖气^3", "暖气^三", 1),
			[]string{"line 8", `category "heating"`, `"暖气^三"`}},
		{"duplicate keyword", strings.Replace("categories:"+validCategory, "- 不热", "- 暖气", 1),
			[]string{"line 9", `category "heating"`, "already listed on line 8"}},
		{"no keywords", strings.Replace("categories:"+validCategory, "      - 暖气^3\n      - 不热\n", "", 1),
			[]string{"line 7", `category "heating"`, "at least one keyword"}},
		{"only negative keywords", strings.Replace("categories:"+validCategory, "      - 暖气^3\n      - 不热\n", "      - 热水^-1\n", 1),
			[]string{"line 8", `category "heating"`, "positive weight"}},
		{"keywords not a list", strings.Replace("categories:"+validCategory, "    keywords:\n      - 暖气^3\n      - 不热\n", "    keywords: 暖气\n", 1),
			[]string{"line 7", `category "heating"`, "must be a list"}},
		{"duplicate key", "categories:" + validCategory + validCategory,
			[]string{"line 11", `"heating" is already defined on line 2`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadCategories([]byte(tc.yaml))
			if err == nil {
				t.Fatalf("accepted:\n%s", tc.yaml)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestLoadCategoriesOtherNeedsNoKeywords(t *testing.T) {
	b := "categories:" + validCategory + `
  - key: other
    name: 其他
    accept_hours: 48
    resolve_days: 15
    department: station_office
`
	cats, err := LoadCategories([]byte(b))
	if err != nil {
		t.Fatal(err)
	}
	if len(cats) != 2 || cats[1].Key != "other" || cats[0].Keywords[0] != "暖气^3" {
		t.Errorf("got %+v", cats)
	}
}

func TestLoadCategoriesReportsEveryBadCategory(t *testing.T) {
	b := "categories:" + strings.Replace(validCategory, "accept_hours: 4", "accept_hours: 0", 1) +
		strings.Replace(strings.Replace(validCategory, "heating", "roads", 1), "name: 供暖", `name: ""`, 1)
	_, err := LoadCategories([]byte(b))
	if err == nil || !strings.Contains(err.Error(), `category "heating"`) || !strings.Contains(err.Error(), `category "roads"`) {
		t.Errorf("want both bad categories named, got %v", err)
	}
}
