package open311

import (
	"context"
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/lianxin/lianxin"
)

// fakes stand in for the store and the engine: the endpoint's own rules
// (keys, limits, formats) are what these tests check; the whole path runs
// in internal/service's TestOpen311RequestToStatus.
type fakes struct {
	filed []lianxin.Report
	cases map[string]*lianxin.Case
}

func (f *fakes) Open311Client(_ context.Context, key string) (lianxin.Open311Client, error) {
	if key != "good" {
		return lianxin.Open311Client{}, lianxin.Errorf(lianxin.EUNAUTHORIZED, "bad key")
	}
	return lianxin.Open311Client{ID: 1, Name: "网上信访"}, nil
}

func (f *fakes) Case(_ context.Context, number string) (*lianxin.Case, error) {
	if c, ok := f.cases[number]; ok {
		return c, nil
	}
	return nil, lianxin.Errorf(lianxin.ENOTFOUND, "no case %s", number)
}

func (f *fakes) Cases(context.Context, lianxin.CaseFilter) ([]lianxin.Case, error) {
	var out []lianxin.Case
	for _, c := range f.cases {
		out = append(out, *c)
	}
	return out, nil
}

func (f *fakes) Register(_ context.Context, r lianxin.Report, _ lianxin.User, _ string) (*lianxin.Case, error) {
	f.filed = append(f.filed, r)
	return &lianxin.Case{Number: "KQ20261201-0001"}, nil
}

func (f *fakes) Directory() (*lianxin.Directory, lianxin.Categories) {
	return &lianxin.Directory{}, lianxin.Categories{{Key: "roads", Name: "道路", ResolveDays: 7}}
}

func TestRateLimitAndXML(t *testing.T) {
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	f := &fakes{cases: map[string]*lianxin.Case{
		"KQ20261201-0002": {Number: "KQ20261201-0002", Status: lianxin.StatusRegistered, CategoryKey: "roads", Private: true},
	}}
	h := New(Config{Keys: f, Cases: f, Filer: f, RatePerMinute: 2, Now: func() time.Time { return now }})
	post := func(format string) *httptest.ResponseRecorder {
		form := url.Values{"api_key": {"good"}, "service_code": {"roads"}, "address_string": {"平潭街"}, "description": {"路面塌陷"}}
		r := httptest.NewRequest(http.MethodPost, Prefix+"requests."+format, strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	w := post("xml")
	var created struct {
		Requests []struct {
			ID string `xml:"service_request_id"`
		} `xml:"request"`
	}
	if err := xml.Unmarshal(w.Body.Bytes(), &created); w.Code != http.StatusCreated || err != nil || len(created.Requests) != 1 ||
		created.Requests[0].ID != "KQ20261201-0001" {
		t.Fatalf("POST xml: %d %v %s", w.Code, err, w.Body)
	}
	if f.filed[0].Source != "网上信访" || f.filed[0].Location.Address != "平潭街" {
		t.Errorf("filed: %+v", f.filed[0])
	}
	post("json")
	if w := post("json"); w.Code != http.StatusTooManyRequests || !strings.Contains(w.Body.String(), `"code":429`) {
		t.Errorf("the third POST in a minute: %d %s", w.Code, w.Body)
	}
	now = now.Add(time.Minute)
	if w := post("json"); w.Code != http.StatusCreated {
		t.Errorf("the next minute: %d %s", w.Code, w.Body)
	}
	get := func(path string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, Prefix+path, nil))
		return w
	}
	if w := get("requests/KQ20261201-0002.json"); w.Code != http.StatusNotFound {
		t.Errorf("a private case: %d %s", w.Code, w.Body)
	}
	if w := get("requests.json"); w.Code != 200 || strings.TrimSpace(w.Body.String()) != "[]" {
		t.Errorf("the list without the private case: %d %s", w.Code, w.Body)
	}
	if w := get("services.txt"); w.Code != http.StatusNotFound || !strings.Contains(w.Body.String(), "json and xml") {
		t.Errorf("an unknown format: %d %s", w.Code, w.Body)
	}
	if w := get("requests.json?status=maybe"); w.Code != http.StatusBadRequest {
		t.Errorf("a bad status: %d %s", w.Code, w.Body)
	}
}

// TestBadCoordinatesSayWhatIsWrong: a client that sends one coordinate, a
// word, or a point off the globe is told which it is, in GeoReport's error
// format, and nothing is filed.
func TestBadCoordinatesSayWhatIsWrong(t *testing.T) {
	f := &fakes{}
	h := New(Config{Keys: f, Cases: f, Filer: f, RatePerMinute: 100})
	for _, tc := range []struct {
		lat, long, want string
	}{
		{"37.8561", "", "must both be given"},
		{"north", "113.5727", "decimal degrees, e.g."},
		{"137.8561", "113.5727", "within ±90 and ±180"},
		{"37.8561", "213.5727", "within ±90 and ±180"},
	} {
		form := url.Values{"api_key": {"good"}, "service_code": {"roads"}, "lat": {tc.lat}, "long": {tc.long}, "description": {"路面塌陷"}}
		r := httptest.NewRequest(http.MethodPost, Prefix+"requests.json", strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), tc.want) || !strings.Contains(w.Body.String(), `"code":400`) {
			t.Errorf("lat=%q long=%q: %d %s, want 400 saying %q", tc.lat, tc.long, w.Code, w.Body, tc.want)
		}
	}
	if len(f.filed) != 0 {
		t.Errorf("filed %d requests with bad coordinates", len(f.filed))
	}
}
