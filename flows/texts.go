package flows

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/lianxin/lianxin"
	"go.yaml.in/yaml/v3"
)

// Texts are the Chinese texts the service sends, keyed by name, loaded from
// configs/messages.yaml so a station can reword them without a release.
type Texts map[string]string

// requiredTexts must exist in every messages file.
var requiredTexts = []string{
	"welcome", "menu", "unknown", "help", "busy", "late", "error",
	"suggest", "photo_first", "location_first", "already_reporting", "resume_offer", "resumed", "restarted",
	"nothing_to_resume", "draft_expired", "flow_updated", "session_reset", "paused_menu",
	"photo_kept", "photo_added", "photos_full", "photo_over", "location_kept", "unsupported", "voice_unrecognized",
	"invalid_choice", "too_short", "too_long", "address_too_short", "phone_invalid", "not_optional",
	"photos_expected", "confirm_expected", "edit_invalid", "fails_hint", "back_first",
	"cancelled", "cancelled_empty", "staff_case", "staff_no_draft", "submitted",
	"summary_category", "summary_description", "summary_photos", "summary_no_photos", "summary_location",
	"summary_station", "summary_phone", "summary_no_phone", "summary_text", "draft_photos",
	"my_cases_empty", "my_cases", "case_line", "case_detail", "case_not_found",
	"bind_ok", "bind_bad", "bind_locked", "role_head", "role_deputy", "deputy_help", "deputy_not_yours",
	"deputy_case_unknown", "deputy_case_ambiguous", "deputy_need_case", "deputy_need_text", "deputy_need_dept",
	"deputy_dept_unknown", "deputy_wrong_status", "deputy_my_empty", "deputy_my", "deputy_case_line", "deputy_detail",
	"deputy_accepted", "deputy_answered", "deputy_forwarded", "deputy_progress", "deputy_resolved", "deputy_returned",
	"deputy_returned_queue", "deputy_conflict", "no_phone", "none", "sla_green", "sla_yellow", "sla_red",
	"verb_accept", "verb_answer", "verb_forward", "verb_progress", "verb_resolve", "verb_return",
	"rated_thanks", "rated_unsatisfied", "notify_new_case", "notify_new_case_title", "notify_resident_accepted",
	"notify_resident_answered", "notify_resident_forwarded", "notify_resident_progress", "notify_resident_resolved",
	"notify_resident_title", "notify_reopened", "notify_reopened_title", "remind_accept", "remind_resolve",
	"remind_title", "overdue", "overdue_title", "overdue_accept", "overdue_resolve", "robot_new_case", "unassigned",
	"rating_satisfied", "rating_fairly_satisfied", "rating_unsatisfied", "event_assigned", "submitted_deputy",
	"reason_in_area", "reason_nearby", "reason_address", "reason_choice", "reason_specialty", "reason_on_duty",
	"reason_fewest_open", "reason_round_robin", "reason_sole", "reason_point_head", "reason_head", "reason_parent", "reason_join",
	// Trust: residents and deputies (issue 11).
	"timeline_created", "timeline_told", "timeline_accepted", "timeline_answered", "timeline_forwarded", "timeline_progress",
	"timeline_resolved", "timeline_rated", "timeline_reopened", "timeline_follow_up", "timeline_staff_requested",
	"event_told", "event_note", "event_follow_up", "told_assigned", "told_reassigned", "told_requeued",
	"notify_resident_reassigned", "notify_resident_requeued", "note_to_department", "case_ambiguous",
	"notify_reopened_why", "notify_follow_up", "follow_up_thanks", "follow_up_none",
	"phone_none", "phone_length", "paused_reminder", "paused_new_problem", "pending_offer", "pending_started", "welcome_back",
	"cancel_confirm", "too_long_kept", "summary_photos_failed", "photo_failed_draft", "photo_failed_case",
	"thanks_reply", "ok_reply", "here_reply", "contact_yours", "contact_all", "contact_line",
	"deputy_help_resident", "deputy_help_hint", "example_answer", "example_progress", "example_resolve", "example_return",
	"owner_deputy", "owner_staff", "deputy_dept_ambiguous", "deputy_forwarded_told", "notify_department", "notify_department_title",
	"department_told", "told_resident", "told_queued", "told_unsubscribed", "told_window", "told_nobody", "bind_backlog",
	"new_case_photos", "new_case_no_photos", "detail_photos", "detail_photos_failed", "detail_voices", "detail_media_follow",
	// Console (issue 12).
	"notify_resident_answered_staff", "notify_reopened_staff", "notify_merged_resident", "notify_merged_other", "notify_case_link",
	"reason_staff_assigned", "reason_staff_registered", "unassigned_blocked", "reason_deputy_left",
}

// LoadTexts parses a messages file and checks that every text the code uses is there.
func LoadTexts(b []byte) (Texts, error) {
	t := Texts{}
	if err := yaml.Unmarshal(b, &t); err != nil {
		return nil, fmt.Errorf("messages: %w", err)
	}
	var missing []string
	for _, k := range slices.Concat(requiredTexts, staffTexts, lianxin.ErrorTextKeys(), consultationTexts, receptionTexts, gridTexts, meTooTexts, suggestionTexts) {
		if _, ok := t[k]; !ok {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return nil, fmt.Errorf("messages: missing texts: %s", strings.Join(missing, ", "))
	}
	return t, nil
}

// Get returns a text with its {name} placeholders filled from pairs
// ("name", value, ...).
func (t Texts) Get(key string, pairs ...string) string {
	s, ok := t[key]
	if !ok {
		// A missing text is a configuration bug; show the key rather than nothing.
		return "[" + key + "]"
	}
	if len(pairs) == 0 || strings.IndexByte(s, '{') < 0 {
		return s
	}
	// One pass over the text, so a value that itself contains "{name}" (a
	// resident's words) is never substituted again; cheaper per reply than
	// building a strings.Replacer each time.
	var b strings.Builder
	b.Grow(len(s) + 32)
	for {
		open := strings.IndexByte(s, '{')
		if open < 0 {
			break
		}
		end := strings.IndexByte(s[open:], '}')
		if end < 0 {
			break
		}
		name, value, found := s[open+1:open+end], "", false
		for i := 0; i+1 < len(pairs); i += 2 {
			if pairs[i] == name {
				value, found = pairs[i+1], true
				break
			}
		}
		if !found {
			b.WriteString(s[:open+1])
			s = s[open+1:]
			continue
		}
		b.WriteString(s[:open])
		b.WriteString(value)
		s = s[open+end+1:]
	}
	b.WriteString(s)
	return b.String()
}
