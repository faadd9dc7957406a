package flows

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/lianxin/lianxin"
)

// Consultations on draft regulations in chat: residents answer a published
// draft with «意见 第五条 ……» in one message, or step by step after 「意见」
// (which draft, which article, the opinion, optionally a name and phone
// for a follow-up); voice counts as text. Each opinion is acknowledged
// with its number. Staff publish and conclude consultations from the
// console through PublishConsultation and ConcludeConsultation, which
// build the push and the contributors' notices from messages.yaml.

// ConsultationStore is what consultations read and write (store.DB).
type ConsultationStore interface {
	ConsultationsTakingOpinions(ctx context.Context, since time.Time) ([]lianxin.Consultation, error)
	AddOpinion(ctx context.Context, o lianxin.NewOpinion) (*lianxin.Opinion, bool, error)
	Consultation(ctx context.Context, scope lianxin.Scope, id int64) (*lianxin.Consultation, error)
	PublishConsultation(ctx context.Context, scope lianxin.Scope, id int64, sends []lianxin.MassSend, quota int, notices []lianxin.Notice, a lianxin.AuditEntry) error
	ConcludeConsultation(ctx context.Context, scope lianxin.Scope, id int64, notices func(c *lianxin.Consultation, ops []lianxin.Opinion) (map[int64]lianxin.Notice, error), a lianxin.AuditEntry) (int, error)
	GridWorkerOpenIDs(ctx context.Context, workerIDs []string) (map[string]string, error)
}

var consultationTexts = []string{
	"opinion_none", "opinion_choose", "opinion_choose_line", "opinion_article", "opinion_article_line", "opinion_article_more",
	"opinion_text", "opinion_contact", "opinion_thanks", "opinion_late", "opinion_whole", "opinion_bad_article",
	"opinion_too_short", "opinion_cancelled", "opinion_contact_bad", "opinion_concluded",
	"consult_push", "consult_push_link", "consult_push_howto", "consult_push_informant", "consult_outcome", "consult_outcome_title",
	"consult_outcome_adopted", "consult_outcome_partly", "consult_outcome_not_adopted", "consult_outcome_none",
	"consult_outcome_reason",
}

// consultations is the store's consultations, when it keeps them.
func (e *Engine) consultations() (ConsultationStore, bool) {
	cs, ok := e.cfg.Store.(ConsultationStore)
	return cs, ok
}

// opinionDraft is an opinion given step by step: the step waiting for an
// answer ("c" which consultation, "a" which article, "t" the opinion, "n"
// a name and phone) and what was said so far.
type opinionDraft struct {
	Step         string  `json:"s"`
	Consultation int64   `json:"c,omitempty"`
	Article      int     `json:"a,omitempty"`
	Text         string  `json:"t,omitempty"`
	Voice        int64   `json:"v,omitempty"`
	Choices      []int64 `json:"ch,omitempty"`
}

// opinionWords start the step-by-step opinion.
var opinionWords = set("意见", "提意见", "我有意见", "立法意见", "草案意见", "发表意见", "征求意见")

// opinionInline is «意见 第五条 ……» (or 意见 总体 ……): the command word, an
// article (or the whole draft) and the opinion.
var opinionInline = regexp.MustCompile(`^(?:提)?意见[\s\x{3000}:：,，]*(第[一二三四五六七八九十百千零〇两0-9０-９]+条|总体|整体|全文|总的)[\s\x{3000}:：,，、]*`)

// articlePrefix is an article at the start of an answer, before the words.
var articlePrefix = regexp.MustCompile(`^(第[一二三四五六七八九十百千零〇两0-9０-９]+条|总体|整体|全文)[\s\x{3000}:：,，、]*`)

// opinionTakingSince is how long after a consultation is concluded an
// opinion on it is still kept (late) rather than refused.
const opinionTakingSince = 30 * 24 * time.Hour

// opinionTurn handles opinions on draft regulations: the next answer of a
// step-by-step opinion, «意见 第五条 ……», or 「意见」. handled is false for
// anything else, and when no consultation takes opinions «意见 ……» is
// left to the rest of the conversation (it may be a resident's
// 意见建议 on something else).
func (t *turn) opinionTurn() (string, bool, error) {
	if t.m.Kind != lianxin.KindText && t.m.Kind != lianxin.KindVoice {
		return "", false, nil
	}
	cs, ok := t.e.consultations()
	if !ok {
		return "", false, nil
	}
	raw := strings.TrimSpace(textOf(t.m))
	w := normalizeReply(raw)
	if t.s.Op != nil && t.stale() {
		t.s.Op = nil // left half-way long ago: a number now is not its answer
	}
	if t.s.Op != nil {
		return t.opinionStep(cs, raw, w)
	}
	inline := opinionInline.FindStringSubmatch(raw)
	if inline == nil && !opinionWords[w] {
		return "", false, nil
	}
	open, err := cs.ConsultationsTakingOpinions(t.ctx, t.now.Add(-opinionTakingSince))
	if err != nil {
		return "", true, err
	}
	if len(open) == 0 {
		if inline == nil {
			return t.txt("opinion_none"), true, nil
		}
		return "", false, nil
	}
	reminder := ""
	if t.s.inFlow() && !t.s.Paused {
		reminder = t.short()
	}
	op := &opinionDraft{Step: "a", Article: -1}
	if inline != nil {
		if n, ok := lianxin.ArticleNumber(inline[1]); ok {
			op.Article = n
		} else {
			op.Article = 0 // 总体
		}
		op.Text = strings.TrimSpace(raw[len(inline[0]):])
		if op.Text != "" && t.m.Kind == lianxin.KindVoice {
			if op.Voice, err = t.st.RegisterAttachment(t.ctx, t.m); err != nil {
				return "", true, err
			}
		}
	}
	if len(open) > 1 {
		op.Step = "c"
		for _, c := range open {
			op.Choices = append(op.Choices, c.ID)
		}
		t.s.Op = op
		return join(t.chooseConsultation(open), reminder), true, nil
	}
	reply, err := t.opinionAfterConsultation(cs, op, &open[0])
	return join(reply, reminder), true, err
}

// opinionAfterConsultation moves on once the consultation is known: an
// opinion whose article and words were given at once is recorded, one
// with an article is asked for its words, and otherwise for the article.
func (t *turn) opinionAfterConsultation(cs ConsultationStore, op *opinionDraft, c *lianxin.Consultation) (string, error) {
	op.Consultation, op.Choices = c.ID, nil
	switch {
	case op.Article > 0 && t.article(c, op.Article) == nil:
		t.s.Op = &opinionDraft{Step: "a", Consultation: c.ID, Article: -1}
		return join(t.txt("opinion_bad_article", "article", t.articleName(op.Article)), t.articlePrompt(c)), nil
	case op.Article >= 0 && op.Text != "":
		t.s.Op = nil
		return t.recordOpinion(cs, c, op, "", "")
	case op.Article >= 0:
		op.Step = "t"
		t.s.Op = op
		return t.txt("opinion_text", "article", t.articleLabel(c, op.Article)), nil
	}
	op.Step = "a"
	t.s.Op = op
	return t.articlePrompt(c), nil
}

// opinionStep takes the answer to the step waiting in a step-by-step opinion.
func (t *turn) opinionStep(cs ConsultationStore, raw, w string) (string, bool, error) {
	op := t.s.Op
	if wordsCancel[w] {
		t.s.Op = nil
		return t.txt("opinion_cancelled"), true, nil
	}
	if wordsMenu[w] || wordsHelp[w] || wantsProgress(w) || wordsReport[w] || wordsStaff[w] {
		// Leaving the opinion for something else: it is dropped (the
		// messages stay in the journal), and the rest handles the word.
		t.s.Op = nil
		return "", false, nil
	}
	var c *lianxin.Consultation
	if op.Consultation != 0 {
		var err error
		if c, err = cs.Consultation(t.ctx, lianxin.Scope{All: true}, op.Consultation); err != nil {
			t.s.Op = nil
			return "", true, err
		}
	}
	switch op.Step {
	case "c":
		n, ok := choiceNumber(w)
		if !ok || n < 1 || n > len(op.Choices) {
			open, err := cs.ConsultationsTakingOpinions(t.ctx, t.now.Add(-opinionTakingSince))
			if err != nil {
				return "", true, err
			}
			return join(t.txt("invalid_choice"), t.chooseConsultation(open)), true, nil
		}
		c, err := cs.Consultation(t.ctx, lianxin.Scope{All: true}, op.Choices[n-1])
		if err != nil {
			return "", true, err
		}
		reply, err := t.opinionAfterConsultation(cs, op, c)
		return reply, true, err
	case "a":
		n, ok := articleChoice(w)
		rest := ""
		if m := articlePrefix.FindStringSubmatch(raw); !ok && m != nil {
			// The article and the opinion in one message: 第五条 应该限速.
			n, ok = articleChoice(normalizeReply(m[1]))
			rest = strings.TrimSpace(raw[len(m[0]):])
		}
		if !ok || (n > 0 && t.article(c, n) == nil) {
			return join(t.txt("opinion_bad_article", "article", clip(raw, 10)), t.articlePrompt(c)), true, nil
		}
		op.Article, op.Step = n, "t"
		if runeLen(rest) >= 2 {
			op.Text, op.Step = rest, "n"
			return t.txt("opinion_contact"), true, nil
		}
		return t.txt("opinion_text", "article", t.articleLabel(c, n)), true, nil
	case "t":
		if runeLen(raw) < 2 {
			return t.txt("opinion_too_short"), true, nil
		}
		op.Text = raw
		if t.m.Kind == lianxin.KindVoice {
			id, err := t.st.RegisterAttachment(t.ctx, t.m)
			if err != nil {
				return "", true, err
			}
			op.Voice = id
		}
		op.Step = "n"
		return t.txt("opinion_contact"), true, nil
	case "n":
		name, phone := "", ""
		if !wordsSkip[w] {
			p, problem, _ := phoneNumber(raw)
			if problem == "" {
				phone = p
			}
			name = contactName(raw)
			if phone == "" && name == "" {
				return t.txt("opinion_contact_bad"), true, nil
			}
		}
		t.s.Op = nil
		reply, err := t.recordOpinion(cs, c, op, name, phone)
		return reply, true, err
	}
	t.s.Op = nil
	return "", false, nil
}

// contactName is the name in «王大爷 13812345678»: the text without its
// digits and punctuation, when what is left is short enough to be a name.
func contactName(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9', r >= '０' && r <= '９', r == '-', r == '+':
		case strings.ContainsRune(" \u3000,，:：;；.。、()（）", r):
			b.WriteRune(' ')
		default:
			b.WriteRune(r)
		}
	}
	name := strings.Join(strings.Fields(b.String()), " ")
	for _, p := range []string{"我叫", "姓名", "名字", "电话", "手机", "联系方式"} {
		name = strings.TrimSpace(strings.ReplaceAll(name, p, ""))
	}
	if runeLen(name) > 20 {
		return ""
	}
	return name
}

// articleChoice reads the article a resident picks: 5, 第五条, 五; 0 or
// 总体 for the draft as a whole.
func articleChoice(w string) (int, bool) {
	switch w {
	case "0", "总体", "整体", "全文", "总的", "整部", "全部":
		return 0, true
	}
	return lianxin.ArticleNumber(w)
}

// article finds the article a resident means by its number: the one
// labelled 第N条, else the N-th.
func (t *turn) article(c *lianxin.Consultation, n int) *lianxin.Article {
	if c == nil {
		return nil
	}
	for i := range c.Articles {
		if m, ok := lianxin.ArticleNumber(c.Articles[i].Label); ok && m == n {
			return &c.Articles[i]
		}
	}
	if n >= 1 && n <= len(c.Articles) {
		return &c.Articles[n-1]
	}
	return nil
}

// articleLabel names article n as the draft writes it (第五条), so the
// resident reads back what they chose; articleName when the draft has none.
func (t *turn) articleLabel(c *lianxin.Consultation, n int) string {
	if a := t.article(c, n); a != nil && n > 0 && a.Label != "" {
		return a.Label
	}
	return t.articleName(n)
}

func (t *turn) articleName(n int) string {
	if n == 0 {
		return t.txt("opinion_whole")
	}
	return "第" + strconv.Itoa(n) + "条"
}

func (t *turn) chooseConsultation(open []lianxin.Consultation) string {
	loc := t.e.cfg.Numbering.Location
	lines := make([]string, len(open))
	for i, c := range open {
		lines[i] = t.txt("opinion_choose_line", "n", itoa(i+1), "title", c.Title, "deadline", c.Deadline.In(loc).Format("1月2日"))
	}
	return t.txt("opinion_choose", "list", strings.Join(lines, "\n"))
}

// maxArticlesListed is how many articles the article prompt lists; longer
// drafts point to the page.
const maxArticlesListed = 12

func (t *turn) articlePrompt(c *lianxin.Consultation) string {
	var lines []string
	for i, a := range c.Articles {
		if i == maxArticlesListed {
			lines = append(lines, t.txt("opinion_article_more", "count", itoa(len(c.Articles))))
			break
		}
		lines = append(lines, t.txt("opinion_article_line", "label", a.Label, "text", clip(oneLine(a.Text), 18)))
	}
	return t.txt("opinion_article", "title", c.Title, "list", strings.Join(lines, "\n"))
}

// recordOpinion stores the opinion and acknowledges it with its number.
func (t *turn) recordOpinion(cs ConsultationStore, c *lianxin.Consultation, op *opinionDraft, name, phone string) (string, error) {
	deputy := ""
	if d, ok, err := t.e.cfg.Store.DeputyByOpenID(t.ctx, t.m.OpenID); err != nil {
		return "", err
	} else if ok {
		deputy = d.ID // a deputy's opinion counts as gathered by them
	}
	label := t.articleName(op.Article)
	if a := t.article(c, op.Article); op.Article > 0 && a != nil {
		label = a.Label
	}
	text := op.Text
	if runeLen(text) > 2000 {
		text = string([]rune(text)[:2000])
	}
	t.st.wrote = true
	o, _, err := cs.AddOpinion(t.ctx, lianxin.NewOpinion{ConsultationID: c.ID, ArticleSeq: t.articleSeq(c, op.Article), OpenID: t.m.OpenID,
		DeputyID: deputy, Name: name, Phone: phone, Text: text, Voice: op.Voice, Source: "chat", SourceKey: "opinion:" + t.m.Account + ":" + t.m.Key()})
	if err != nil {
		return "", err
	}
	late := ""
	if o.Late {
		late = t.txt("opinion_late", "deadline", c.Deadline.In(t.e.cfg.Numbering.Location).Format("1月2日"))
		if c.Status == lianxin.ConsultConcluded {
			late = t.txt("opinion_concluded")
		}
	}
	return t.txt("opinion_thanks", "title", c.Title, "article", label, "number", lianxin.OpinionNumber(c.ID, o.N), "late", late), nil
}

// articleSeq is the stored position of the article a resident named (0:
// the whole draft).
func (t *turn) articleSeq(c *lianxin.Consultation, n int) int {
	if n == 0 {
		return 0
	}
	if a := t.article(c, n); a != nil {
		return a.Seq
	}
	return 0
}

// ConsultationPush is the text pushed when a consultation is published:
// the title, the deadline, how to answer, and the page with the draft.
func (e *Engine) ConsultationPush(c *lianxin.Consultation, pageURL string) string {
	snap := e.dir.Load()
	station := e.texts.Get("district_office")
	if st, ok := snap.dir.Station(c.StationID); ok {
		station = st.Name
	}
	link := ""
	if pageURL != "" {
		link = e.texts.Get("consult_push_link", "url", pageURL)
	}
	intro := ""
	if strings.TrimSpace(c.Intro) != "" {
		intro = clip(oneLine(c.Intro), 120)
	}
	return join(e.texts.Get("consult_push", "station", station, "title", c.Title, "deadline", c.Deadline.In(e.cfg.Numbering.Location).Format("1月2日")),
		intro, link, e.texts.Get("consult_push_howto"))
}

// PublishConsultation publishes a draft consultation within the scope:
// queued as a mass send to its audience's tag (all followers, or its
// station's residents), within the month's quota, or, for informants, as a
// message to each bound grid worker of its station. pageURL is the public
// page with the draft ("" when the console has no public address).
func (e *Engine) PublishConsultation(ctx context.Context, scope lianxin.Scope, id int64, pageURL string, quota int, actor lianxin.User, addr string) error {
	cs, ok := e.consultations()
	if !ok {
		return lianxin.Errorf(lianxin.EUNAVAILABLE, "consultations are not wired")
	}
	c, err := cs.Consultation(ctx, scope, id)
	if err != nil {
		return err
	}
	if quota <= 0 {
		quota = lianxin.MassSendQuota
	}
	now := e.now()
	if !c.Deadline.After(now) {
		return lianxin.ErrDeadlinePassed
	}
	text := e.ConsultationPush(c, pageURL)
	month := now.In(e.cfg.Numbering.Location).Format("2006-01")
	purpose := fmt.Sprintf("consultation:%d", c.ID)
	var sends []lianxin.MassSend
	var notices []lianxin.Notice
	switch c.Audience {
	case lianxin.AudienceAll:
		sends = append(sends, lianxin.MassSend{Purpose: purpose, Tag: "", Text: text, Month: month})
	case lianxin.AudienceStation:
		sends = append(sends, lianxin.MassSend{Purpose: purpose, Tag: lianxin.StationTag(c.StationID), Text: text, Month: month})
	case lianxin.AudienceInformants:
		snap := e.dir.Load()
		var ids []string
		for _, g := range snap.dir.GridsOf(c.StationID) {
			for _, w := range g.Workers {
				ids = append(ids, w.ID)
			}
		}
		bound, err := cs.GridWorkerOpenIDs(ctx, ids)
		if err != nil {
			return err
		}
		if len(bound) == 0 {
			return lianxin.ErrNoInformants
		}
		body := join(e.texts.Get("consult_push_informant"), text)
		for _, wid := range ids {
			if openid := bound[wid]; openid != "" {
				notices = append(notices, e.notice(purpose+":informant:"+wid, openid, body, c.Title, nil, "", snap.cats, snap.dir))
			}
		}
	default:
		return lianxin.Errorf(lianxin.EINVALID, "consultation %d has no audience", c.ID)
	}
	a := lianxin.AuditEntry{Actor: actor.Ref(), Action: "consultation_publish", Detail: c.Audience, Addr: addr}
	return cs.PublishConsultation(ctx, scope, id, sends, quota, notices, a)
}

func (e *Engine) now() time.Time {
	if e.cfg.Now != nil {
		return e.cfg.Now()
	}
	return time.Now()
}

// ConcludeConsultation records that the consultation's outcome is known
// and tells every contributor reachable in chat what became of their
// opinion (a duplicate shares its primary's outcome). It returns how many
// were told.
func (e *Engine) ConcludeConsultation(ctx context.Context, scope lianxin.Scope, id int64, actor lianxin.User, addr string) (int, error) {
	cs, ok := e.consultations()
	if !ok {
		return 0, lianxin.Errorf(lianxin.EUNAVAILABLE, "consultations are not wired")
	}
	snap := e.dir.Load()
	a := lianxin.AuditEntry{Actor: actor.Ref(), Action: "consultation_conclude", Addr: addr}
	return cs.ConcludeConsultation(ctx, scope, id, func(c *lianxin.Consultation, ops []lianxin.Opinion) (map[int64]lianxin.Notice, error) {
		byID := make(map[int64]lianxin.Opinion, len(ops))
		for _, o := range ops {
			byID[o.ID] = o
		}
		out := map[int64]lianxin.Notice{}
		for _, o := range ops {
			if o.OpenID == "" || o.NotifiedAt != nil {
				continue
			}
			decided := o
			if o.MergedInto != 0 {
				decided = byID[o.MergedInto]
			}
			label := e.texts.Get("opinion_whole")
			for _, art := range c.Articles {
				if art.Seq == o.ArticleSeq && o.ArticleSeq > 0 {
					label = art.Label
				}
			}
			outcome := e.texts.Get("consult_outcome_none")
			if decided.Outcome != "" {
				outcome = e.texts.Get("consult_outcome_" + decided.Outcome)
			}
			reason := ""
			if decided.Reason != "" {
				reason = e.texts.Get("consult_outcome_reason", "text", decided.Reason)
			}
			body := e.texts.Get("consult_outcome", "title", c.Title, "article", label, "number", lianxin.OpinionNumber(c.ID, o.N),
				"text", clip(oneLine(o.Text), 30), "outcome", outcome, "reason", reason)
			out[o.ID] = e.notice(fmt.Sprintf("consultation:%d:outcome:%d", c.ID, o.ID), o.OpenID, body,
				e.texts.Get("consult_outcome_title"), nil, "", snap.cats, snap.dir)
		}
		return out, nil
	}, a)
}

// stale reports whether the resident left the conversation longer than the
// idle time ago, so a question asked then no longer waits for its answer.
func (t *turn) stale() bool {
	return t.s.Last != 0 && t.now.Sub(time.Unix(t.s.Last, 0)) > t.e.cfg.IdleTTL
}
