package main

import (
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
)

// runCLI runs `lianxin ARGS` against the service's database and data.
func runCLI(t *testing.T, ts *testService, args ...string) string {
	t.Helper()
	var out, errOut strings.Builder
	if code := run(context.Background(), args, ts.Env(), strings.NewReader(""), &out, &errOut); code != 0 {
		t.Fatalf("lianxin %s: exit %d: %s", strings.Join(args, " "), code, errOut.String())
	}
	return out.String()
}

func TestCasesCommands(t *testing.T) {
	ts := startService(t, testConfig(t))
	number := ts.ReportCase(t, "oCLI_resident_000000001")

	var shown struct {
		Number      string `json:"number"`
		Status      string `json:"status"`
		Category    string `json:"category"`
		StationID   string `json:"station_id"`
		AssigneeID  string `json:"assignee_id"`
		Description string `json:"description"`
		Contact     string `json:"contact"`
		SLA         string `json:"sla"`
		Location    struct {
			Lat   float64 `json:"lat"`
			Label string  `json:"label"`
		} `json:"location"`
		Attachments []struct {
			Kind   string `json:"kind"`
			Status string `json:"status"`
		} `json:"attachments"`
		Timeline []struct {
			Type string `json:"type"`
		} `json:"timeline"`
	}
	out := runCLI(t, ts, "cases", "show", number, "--json")
	if err := json.Unmarshal([]byte(out), &shown); err != nil {
		t.Fatalf("show --json is not one JSON object: %v\n%s", err, out)
	}
	if shown.Number != number || shown.Status != "registered" || shown.Category != "heating" || shown.StationID != "shuitan" {
		t.Errorf("show: %+v", shown)
	}
	if shown.SLA != "green" && shown.SLA != "yellow" && shown.SLA != "red" {
		t.Errorf("an open case shows its standing against its deadlines: sla = %q", shown.SLA)
	}
	if shown.Contact != "138****5678" || strings.Contains(out, "13812345678") {
		t.Errorf("contact must be masked everywhere in the output: %q", shown.Contact)
	}
	if len(shown.Attachments) != 1 || shown.Attachments[0].Kind != "image" || shown.Attachments[0].Status != "pending" {
		t.Errorf("attachments: %+v", shown.Attachments)
	}
	if len(shown.Timeline) < 2 || shown.Timeline[0].Type != "created" || shown.Timeline[1].Type != "routed" {
		t.Errorf("timeline: %+v", shown.Timeline)
	}

	var list []map[string]any
	out = runCLI(t, ts, "cases", "list", "--json")
	if err := json.Unmarshal([]byte(out), &list); err != nil || len(list) != 1 || list[0]["number"] != number {
		t.Errorf("list --json: %v\n%s", err, out)
	}
	text := runCLI(t, ts, "cases", "list")
	for _, want := range []string{number, "供暖", "水滩社区人大代表联络点"} {
		if !strings.Contains(text, want) {
			t.Errorf("list does not show %q:\n%s", want, text)
		}
	}
	text = runCLI(t, ts, "cases", "show", number)
	for _, want := range []string{number, "138****5678", "Timeline", "image pending"} {
		if !strings.Contains(text, want) {
			t.Errorf("show does not show %q:\n%s", want, text)
		}
	}
	var errOut strings.Builder
	if code := run(context.Background(), []string{"cases", "show", "KQ20990101-0001"}, ts.Env(), nil, io.Discard, &errOut); code != 1 || !strings.Contains(errOut.String(), "no case") {
		t.Errorf("unknown case: exit %d %q", code, errOut.String())
	}
}

func TestCategoriesSuggest(t *testing.T) {
	ts := startService(t, testConfig(t))
	out := runCLI(t, ts, "categories", "suggest", "我家暖气片漏水,地板都泡了")
	if !strings.HasPrefix(out, "heating ") {
		t.Errorf("first line should start with the key: %q", out)
	}
}

func TestOutboxCommand(t *testing.T) {
	ts := startService(t, testConfig(t))
	ts.ReportCase(t, "oOutboxResident000000001")
	// No AppSecret in this service: the deputy's notification waits.
	out := runCLI(t, ts, "outbox", "--pending")
	if !strings.Contains(out, "deputy:d-st-02") || !strings.Contains(out, "pending") {
		t.Errorf("outbox --pending:\n%s", out)
	}
	if out := runCLI(t, ts, "outbox", "--dead"); !strings.Contains(out, "nothing in the outbox") {
		t.Errorf("outbox --dead:\n%s", out)
	}
	var rows []map[string]any
	if err := json.Unmarshal([]byte(runCLI(t, ts, "outbox", "--json")), &rows); err != nil || len(rows) == 0 {
		t.Errorf("outbox --json: %v %v", rows, err)
	}
}
