package web

import (
	"strings"
	"testing"

	"github.com/lianxin/lianxin"
)

func TestPasswords(t *testing.T) {
	h, err := HashPassword("一个很长的密码 with spaces")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("hash %q is not argon2id in PHC form", h)
	}
	if !CheckPassword(h, "一个很长的密码 with spaces") || CheckPassword(h, "一个很长的密码 with space") {
		t.Error("CheckPassword is wrong")
	}
	for _, bad := range []string{"", "$argon2id$", "$bcrypt$x$y$z$w", strings.Replace(h, "m=19456", "m=99999999", 1)} {
		if CheckPassword(bad, "x") {
			t.Errorf("CheckPassword accepts %q", bad)
		}
	}
	h2, _ := HashPassword("一个很长的密码 with spaces")
	if h2 == h {
		t.Error("two hashes of one password are equal: no salt")
	}
}

// TestLabels: every code the console shows has its Chinese words.
func TestLabels(t *testing.T) {
	want := map[string][]string{
		"status": {"registered", "accepted", "forwarded", "resolved", "reopened", "cancelled"},
		"sla":    {"green", "yellow", "red"},
		"source": lianxin.Sources,
		"queue":  lianxin.Queues,
		"role":   lianxin.Roles,
		"sort":   {lianxin.SortNewest, lianxin.SortOldest, lianxin.SortDue, lianxin.SortUpdated},
		"event": {lianxin.EventCreated, lianxin.EventRouted, lianxin.EventAssigned, lianxin.EventStaff, lianxin.EventAccepted,
			lianxin.EventAnswered, lianxin.EventForwarded, lianxin.EventProgress, lianxin.EventResolved, lianxin.EventReturned,
			lianxin.EventRated, lianxin.EventReopened, lianxin.EventReminded, lianxin.EventOverdue, lianxin.EventNote, lianxin.EventMerged,
			lianxin.EventDuplicate, lianxin.EventPrivate, lianxin.EventPhotoHidden, lianxin.EventRerouted, lianxin.EventBlocked,
			lianxin.EventTold, lianxin.EventFollowUp, lianxin.EventStaffAnswered, lianxin.EventErased, lianxin.EventTypical,
			lianxin.EventSupported, lianxin.EventSuggestion, lianxin.EventSuggestionOutcome},
		"verb": {lianxin.ActAssign, lianxin.ActAccept, lianxin.ActAnswer, lianxin.ActForward, lianxin.ActProgress, lianxin.ActResolve,
			lianxin.ActReturn, lianxin.ActReopen, lianxin.ActNote, lianxin.ActReroute, lianxin.ActMerge, lianxin.ActPrivate,
			lianxin.ActHidePhoto, lianxin.ActBlock, lianxin.AuditLogin, lianxin.AuditViewPhone, lianxin.AuditUserAdd,
			lianxin.AuditDirectory, lianxin.AuditOutboxRetry, lianxin.AuditDeactivate,
			// The practices' actions, as the audit log lists them.
			"consultation_create", "consultation_edit", "consultation_publish", "consultation_conclude", "consultation_export",
			"consultation_recommend", "opinion_record", "opinion_review", "grid_invite", "grid_unbind", "qr_create", "qr_bind",
			"open311_key_add", "open311_key_revoke", "suggestion_create", "suggestion_progress", "suggestion_forwarded", "suggestion_answered"},
		"flash":  {lianxin.ActAssign, lianxin.ActAccept, lianxin.ActAnswer, lianxin.ActForward, lianxin.ActProgress, lianxin.ActResolve, lianxin.ActReturn, lianxin.ActReopen, lianxin.ActNote},
		"rating": {lianxin.Satisfied, lianxin.FairlySatisfied, lianxin.Unsatisfied},
		// Every message key a Validate or handler returns.
		"err": {"login_empty", "login_bad", "login_locked", "text_required", "text_too_long", "deputy_required", "deputy_same",
			"needs_assignee", "department_required", "reroute_nothing", "duplicate_required", "duplicate_unknown", "invalid",
			"source_required", "category_required", "description_short", "phone_invalid", "station_required", "photos_too_many",
			"photo_too_large", "photo_bad", "photos_unavailable", "title_required", "name_required", "id_invalid", "number_required",
			"level_required", "robot_invalid", "directory_refused", "deactivate_refused", "username_invalid", "username_taken",
			"role_required", "password_short"},
	}
	for kind, codes := range want {
		for _, c := range codes {
			if _, ok := labels[kind+":"+c]; !ok {
				t.Errorf("no label %s:%s in templates/labels.html", kind, c)
			}
		}
	}
}

// A clerk reads who did each step of the timeline in words: a reply sent with
// `lianxin cases reply --by 王芳` is 王芳's, not «staff:王芳».
func TestTimelineActorsInWords(t *testing.T) {
	h := &Handler{}
	dir := &lianxin.Directory{}
	for actor, want := range map[string]string{
		"staff:王芳": "王芳", "user:pt-clerk": "pt-clerk", "cli:operator": "operator", "system": "系统", "resident": "群众",
		"user:open311:12345热线": "12345热线",
	} {
		if got := h.actorName(dir, actor); got != want {
			t.Errorf("actorName(%q) = %q, want %q", actor, got, want)
		}
	}
}

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"/console/cases/KQ1": "/console/cases/KQ1", "https://evil.example/": "/console/cases", "//evil.example/console/": "/console/cases",
		"/console/\\\\evil": "/console/cases", "": "/console/cases", "/metrics": "/console/cases",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

// The audit log says what was registered in words: a walk-in's source is
// 来电, an Open311 client's is its own name; the action reads for both.
func TestAuditDetailInWords(t *testing.T) {
	for _, tc := range []struct{ action, detail, want string }{
		{"register", "call", "来电"},
		{"register", "visit", "来访"},
		{"register", "12345热线", "12345热线"},
		{"typical", "群众不满意", "群众不满意"},
	} {
		if got := auditDetail(tc.action, tc.detail); got != tc.want {
			t.Errorf("auditDetail(%q, %q) = %q, want %q", tc.action, tc.detail, got, tc.want)
		}
	}
	if got := label("verb", "register"); got != "登记反映" {
		t.Errorf("register reads %q: an Open311 filing is no walk-in", got)
	}
}

// The case page's notices say in Chinese why one was not sent: the outbox
// keeps the operator's English reason.
func TestNoticeReasonInChinese(t *testing.T) {
	for reason, want := range map[string]string{
		`its case moved on (now forwarded, assigned to "d-st-02")`:             "案件已有变化",
		"attachment 3 is still being fetched":                                  "照片还在",
		"deputy d-st-02 has not bound their WeChat yet":                        "还没有绑定微信",
		"wxapi: message/custom/send: errcode 45015 response out of time limit": "微信接口",
		"": "",
	} {
		if got := noticeReason(reason); (want == "" && got != "") || !strings.Contains(got, want) || (want != "微信接口" && strings.ContainsAny(got, "abcdefghijklmnopqrstuvwxyz")) {
			t.Errorf("noticeReason(%q) = %q, want it to say %q", reason, got, want)
		}
	}
	if _, ok := labels["outbox:"+lianxin.OutboxDropped]; !ok {
		t.Error("no label outbox:dropped: the case page shows «dropped»")
	}
}
