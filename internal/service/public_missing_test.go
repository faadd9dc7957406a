package service_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// A resident who follows a link to a draft that is not (or no longer)
// published reads a page for them: no console brand, no link to the
// register (which would only ask them to sign in).
func TestPublicDraftNotFoundIsForResidents(t *testing.T) {
	s := startService(t, testConfig(t))
	for _, p := range []string{"/c/999", "/c/999/1", "/c/abc"} {
		res, err := http.Get(s.Server.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		page := string(body)
		if res.StatusCode != http.StatusNotFound || !strings.Contains(page, "没有找到") || strings.Contains(page, "登记簿") || strings.Contains(page, "工作台") {
			t.Errorf("GET %s: %d\n%s", p, res.StatusCode, page)
		}
	}
}
