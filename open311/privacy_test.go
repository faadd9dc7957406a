package open311

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/lianxin/lianxin"
)

// The public view's status_notes is the answer written to the resident in
// their own chat. Answers carry phone numbers (the resident's, a
// repairman's, a landline to call back): anyone reading the public API must
// not get them.
func TestPublicStatusNotesHideTelephoneNumbers(t *testing.T) {
	answer := "张先生您好，KQ20261201-0003已安排师傅上门，师傅电话13912345678，有事打0353-1234567或（0353）7654321找我们。"
	f := &fakes{cases: map[string]*lianxin.Case{
		"KQ20261201-0003": {Number: "KQ20261201-0003", Status: lianxin.StatusAccepted, CategoryKey: "roads",
			Events: []lianxin.Event{{Type: lianxin.EventAnswered, Text: answer, Audience: lianxin.AudienceResident}}},
	}}
	h := New(Config{Keys: f, Cases: f, Filer: f, Now: func() time.Time { return time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC) }})
	for _, path := range []string{"requests/KQ20261201-0003.json", "requests/KQ20261201-0003.xml", "requests.json"} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, Prefix+path, nil))
		body := w.Body.String()
		if w.Code != http.StatusOK || !strings.Contains(body, "KQ20261201-0003已安排师傅上门") || !strings.Contains(body, "139****5678") {
			t.Fatalf("GET %s: %d %s", path, w.Code, body)
		}
		for _, number := range []string{"13912345678", "1234567", "7654321"} {
			if strings.Contains(body, number) {
				t.Errorf("GET %s shows %s: %s", path, number, body)
			}
		}
	}
}
