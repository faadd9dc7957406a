package flows

import (
	"context"
	"fmt"
	"strings"

	"github.com/lianxin/lianxin"
)

// Suggestions (建议) from recurring problems (每月一题): staff or a deputy
// turn a group of similar cases into one formal suggestion with its own
// handling (progress, 交办 to a department, the answer) and timeline. When
// it is answered, the residents of every case in it, and those who joined
// them (同一件), are told the outcome, on each case's timeline as well.

// SuggestionStore is what suggestions read and write (store.DB).
type SuggestionStore interface {
	CreateSuggestion(ctx context.Context, scope lianxin.Scope, s lianxin.Suggestion, numbers []string, caseEvent lianxin.Event, a lianxin.AuditEntry) (*lianxin.Suggestion, error)
	Suggestion(ctx context.Context, scope lianxin.Scope, id int64) (*lianxin.Suggestion, error)
	ChangeSuggestion(ctx context.Context, ch lianxin.SuggestionChange) error
	Supporters(ctx context.Context, caseID int64) ([]lianxin.Supporter, error)
}

var suggestionTexts = []string{
	"suggestion_case_event", "suggestion_outcome_event", "suggestion_outcome", "suggestion_outcome_title", "timeline_suggestion_outcome",
	"event_supported", "event_suggestion", "event_suggestion_outcome",
}

func (e *Engine) suggestions() (SuggestionStore, error) {
	ss, ok := e.cfg.Store.(SuggestionStore)
	if !ok {
		return nil, lianxin.Errorf(lianxin.EUNAVAILABLE, "suggestions are not wired")
	}
	return ss, nil
}

// CreateSuggestion makes a suggestion of the cases (numbers, each within
// the scope) with a title and a summary; its category and station are the
// cases' most common. A deputy making it is its proposer.
func (e *Engine) CreateSuggestion(ctx context.Context, scope lianxin.Scope, actor lianxin.User, numbers []string, title, summary, addr string) (*lianxin.Suggestion, error) {
	ss, err := e.suggestions()
	if err != nil {
		return nil, err
	}
	title, summary = strings.TrimSpace(title), strings.TrimSpace(summary)
	if title == "" || summary == "" {
		return nil, lianxin.Errorf(lianxin.EINVALID, "a suggestion needs a title and a summary")
	}
	if len(numbers) < 1 {
		return nil, lianxin.Errorf(lianxin.EINVALID, "a suggestion needs cases")
	}
	snap := e.dir.Load()
	cats, units := map[string]int{}, map[string]int{}
	for _, n := range numbers {
		c, err := e.cfg.Store.Case(ctx, n)
		if err != nil {
			return nil, err
		}
		cats[c.CategoryKey]++
		if st, ok := snap.dir.StationOf(c.StationID); ok {
			units[st.ID]++
		} else {
			units[c.StationID]++
		}
	}
	s := lianxin.Suggestion{Title: title, Summary: summary, Category: most(cats), StationID: most(units), CreatedBy: actor.Ref()}
	if actor.Role == lianxin.RoleDeputy {
		s.DeputyID = actor.DeputyID
	}
	ev := lianxin.Event{Type: lianxin.EventSuggestion, Actor: actor.Ref(), Text: e.texts.Get("suggestion_case_event", "title", title), Audience: lianxin.AudienceStaff}
	a := lianxin.AuditEntry{Actor: actor.Ref(), Action: "suggestion_create", Detail: strings.Join(numbers, " "), Addr: addr}
	return ss.CreateSuggestion(ctx, scope, s, numbers, ev, a)
}

// most is the key counted most often (the smallest of ties, for a stable answer).
func most(counts map[string]int) string {
	best, bestN := "", -1
	for k, n := range counts {
		if n > bestN || n == bestN && k < best {
			best, bestN = k, n
		}
	}
	return best
}

// ActOnSuggestion records one step of a suggestion's handling: progress
// (进展), 交办 to a department, a note, or the answer (办复), which tells
// the residents of every case in it the outcome.
func (e *Engine) ActOnSuggestion(ctx context.Context, scope lianxin.Scope, actor lianxin.User, id int64, verb, text, departmentID, addr string) error {
	ss, err := e.suggestions()
	if err != nil {
		return err
	}
	text = strings.TrimSpace(text)
	snap := e.dir.Load()
	ch := lianxin.SuggestionChange{ID: id, Scope: scope,
		Audit: lianxin.AuditEntry{Actor: actor.Ref(), Action: "suggestion_" + verb, Detail: strings.TrimSpace(departmentID + " " + text), Addr: addr}}
	ch.Event = lianxin.SuggestionEvent{Type: verb, Actor: actor.Ref(), Text: text}
	switch verb {
	case lianxin.SuggestProgress, lianxin.SuggestNote:
		if text == "" {
			return lianxin.Errorf(lianxin.EINVALID, "%s needs words", verb)
		}
	case lianxin.SuggestForward:
		d, ok := snap.dir.Department(departmentID)
		if !ok {
			return lianxin.Errorf(lianxin.EINVALID, "no department %q", departmentID)
		}
		ch.Status = lianxin.SuggestionForwarded
		ch.Event.Text = strings.TrimSpace(d.Name + " " + text)
	case lianxin.SuggestAnswer:
		if text == "" {
			return lianxin.Errorf(lianxin.EINVALID, "the answer needs the outcome")
		}
		s, err := ss.Suggestion(ctx, scope, id)
		if err != nil {
			return err
		}
		ch.Status, ch.Outcome = lianxin.SuggestionAnswered, text
		ch.CaseEvents, ch.CaseNotices = map[int64][]lianxin.Event{}, map[int64][]lianxin.Notice{}
		for i := range s.Cases {
			c := &s.Cases[i]
			ch.CaseEvents[c.ID] = []lianxin.Event{{Type: lianxin.EventSuggestionOutcome, Actor: actor.Ref(),
				Text: e.texts.Get("suggestion_outcome_event", "title", s.Title, "text", text), Audience: lianxin.AudienceResident}}
			body := e.texts.Get("suggestion_outcome", "number", c.Number, "title", s.Title, "count", itoa(s.Residents), "text", text)
			tell := map[string]bool{}
			if c.OpenID != "" {
				tell[c.OpenID] = true
			}
			sup, err := ss.Supporters(ctx, c.ID)
			if err != nil {
				return err
			}
			for _, p := range sup {
				if p.OpenID != "" {
					tell[p.OpenID] = true
				}
			}
			for openid := range tell {
				ch.CaseNotices[c.ID] = append(ch.CaseNotices[c.ID], e.notice(fmt.Sprintf("suggestion:%d:answer:%d:%s", id, c.ID, openid), openid, body,
					e.texts.Get("suggestion_outcome_title"), c, "", snap.cats, snap.dir))
			}
		}
	default:
		return lianxin.Errorf(lianxin.EINVALID, "no suggestion action %q", verb)
	}
	return ss.ChangeSuggestion(ctx, ch)
}
