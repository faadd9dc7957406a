package service_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"

	"github.com/lianxin/lianxin"
	"github.com/lianxin/lianxin/internal/wxtest/wxsim"
)

// A resident who asked to stay anonymous is not shown to the deputy: 详情
// gives no phone number.
func TestDeputyDoesNotSeeAnAnonymousResidentsPhone(t *testing.T) {
	ts := startService(t, testConfig(t))
	ctx := context.Background()
	number := ts.ReportCase(t, "oAnonymous_resident_0001")
	c, err := ts.DB.Case(ctx, number)
	if err != nil {
		t.Fatal(err)
	}
	// The conversation that asks is issue 11's; the flag is what it sets.
	raw, err := sql.Open("sqlite3", "file:"+ts.DB.Path()+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(`UPDATE cases SET anonymous = 1 WHERE id = ?`, c.ID); err != nil {
		t.Fatal(err)
	}
	client := ts.Client(wxsim.Safe)
	bindDeputy(t, ts, client, "oDeputy_anonymous_test01", c.AssigneeID)
	reply := say(t, client, "oDeputy_anonymous_test01", "详情 "+lianxin.ShortNumber(number))
	if strings.Contains(reply, "13812345678") || !strings.Contains(reply, "匿名") {
		t.Errorf("详情 of an anonymous case:\n%s", reply)
	}
}
