package flows

import (
	"testing"

	"github.com/lianxin/lianxin"
)

// TestTextsFillPlaceholdersOnce: a reply's placeholders are filled from the
// pairs, an unknown one is left for the reader to see, and a resident's own
// words that happen to look like a placeholder are shown as they were typed.
func TestTextsFillPlaceholdersOnce(t *testing.T) {
	texts := Texts{"ack": "已登记，编号{number}。我们会联系{phone}。{unknown}", "plain": "好的。"}
	cases := []struct {
		key   string
		pairs []string
		want  string
	}{
		{"ack", []string{"number", "KQ-1", "phone", "138****5678"}, "已登记，编号KQ-1。我们会联系138****5678。{unknown}"},
		{"ack", []string{"number", "{phone}", "phone", "x"}, "已登记，编号{phone}。我们会联系x。{unknown}"},
		{"ack", nil, "已登记，编号{number}。我们会联系{phone}。{unknown}"},
		{"plain", []string{"number", "1"}, "好的。"},
		{"missing", nil, "[missing]"},
	}
	for _, c := range cases {
		if got := texts.Get(c.key, c.pairs...); got != c.want {
			t.Errorf("Get(%q, %q) = %q, want %q", c.key, c.pairs, got, c.want)
		}
	}
}

// A deputy's 详情 names every step of the timeline in words: a case marked
// typical or whose contact was erased showed «[event_typical]».
func TestEveryTimelineEventHasItsWords(t *testing.T) {
	texts, _, _, _ := loadShipped(t)
	for _, typ := range []string{lianxin.EventCreated, lianxin.EventRouted, lianxin.EventAssigned, lianxin.EventStaff, lianxin.EventAccepted,
		lianxin.EventAnswered, lianxin.EventForwarded, lianxin.EventProgress, lianxin.EventResolved, lianxin.EventReturned,
		lianxin.EventRated, lianxin.EventReopened, lianxin.EventReminded, lianxin.EventOverdue, lianxin.EventTold, lianxin.EventNote,
		lianxin.EventFollowUp, lianxin.EventStaffAnswered, lianxin.EventMerged, lianxin.EventDuplicate, lianxin.EventPrivate,
		lianxin.EventPhotoHidden, lianxin.EventRerouted, lianxin.EventBlocked, lianxin.EventErased, lianxin.EventTypical,
		lianxin.EventSupported, lianxin.EventSuggestion, lianxin.EventSuggestionOutcome} {
		if _, ok := texts["event_"+typ]; !ok {
			t.Errorf("configs/messages.yaml has no event_%s", typ)
		}
	}
}
