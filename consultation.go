package lianxin

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Consultations on draft regulations (立法联系点): a station, as a
// legislative contact point, publishes a draft (草案) split into its
// articles (第X条), residents send their opinions on an article in chat,
// staff review them article by article (merging duplicates, marking each
// adopted or not), hand the written suggestions (书面建议) upward, and
// tell every contributor what became of their opinion.

// ConsultStatus is where a consultation is in its life.
type ConsultStatus string

// Consultation statuses: staff write the draft, publish it (it is pushed to
// its audience and takes opinions; after the deadline they are kept and
// marked late), and conclude it once the outcome is known (the
// contributors are told).
const (
	ConsultDraft     ConsultStatus = "draft"     // 草稿: only staff see it
	ConsultPublished ConsultStatus = "published" // 征求意见中
	ConsultConcluded ConsultStatus = "concluded" // 已反馈结果
)

// Consultation audiences: who the publication is pushed to.
const (
	// AudienceAll: every follower of the official account (mass send to
	// all, which uses the month's mass-send quota).
	AudienceAll = "all"
	// AudienceStation: the residents of the consultation's station (mass
	// send to the station's WeChat tag, StationTag).
	AudienceStation = "station"
	// AudienceInformants: the registered information officers (信息员) of
	// the station: its bound grid workers, told one by one (no quota).
	AudienceInformants = "informants"
)

// Audiences are the audiences in the order the console offers them.
var Audiences = []string{AudienceStation, AudienceAll, AudienceInformants}

// Consultation is a draft regulation put to residents for their opinions.
type Consultation struct {
	ID    int64  `json:"id" db:"id"`
	Title string `json:"title" db:"title"`
	// Intro says what the draft is about and how to answer (shown above
	// the draft and in the push).
	Intro string `json:"intro" db:"intro"`
	// StationID is the station (legislative contact point) that runs it;
	// staff see the consultations of their station.
	StationID   string        `json:"station_id" db:"station_id"`
	Audience    string        `json:"audience" db:"audience"`
	Deadline    time.Time     `json:"deadline" db:"deadline"`
	Status      ConsultStatus `json:"status" db:"status"`
	CreatedBy   string        `json:"created_by" db:"created_by"`
	CreatedAt   time.Time     `json:"created_at" db:"created_at"`
	UpdatedAt   time.Time     `json:"updated_at" db:"updated_at"`
	PublishedAt *time.Time    `json:"published_at,omitempty" db:"published_at"`
	ConcludedAt *time.Time    `json:"concluded_at,omitempty" db:"concluded_at"`
	Articles    []Article     `json:"articles"`
	// Opinions is how many opinions it has (lists only).
	Opinions int `json:"opinions" db:"opinions"`
}

// Open reports whether the consultation takes opinions: published, and
// not yet concluded. After the deadline they are still taken, marked late.
func (c *Consultation) Open() bool { return c.Status == ConsultPublished }

// Article is one article (条) of a draft.
type Article struct {
	Seq int `json:"seq" db:"seq"` // 1, 2, ... in the draft's order
	// Label is how the draft numbers it: 第五条.
	Label string `json:"label" db:"label"`
	// Chapter is the chapter heading it falls under (第二章 登记管理), if any.
	Chapter string `json:"chapter,omitempty" db:"chapter"`
	Text    string `json:"text" db:"text"`
	// Recommendation is the station's recommendation on it, for the
	// written suggestions.
	Recommendation string `json:"recommendation,omitempty" db:"recommendation"`
}

// Opinion outcomes, marked by staff when they review the opinions.
const (
	OpinionAdopted    = "adopted"     // 采纳
	OpinionPartly     = "partly"      // 部分采纳
	OpinionNotAdopted = "not_adopted" // 未采纳
)

// OpinionOutcomes are the outcomes in the order the console offers them.
var OpinionOutcomes = []string{OpinionAdopted, OpinionPartly, OpinionNotAdopted}

// Opinion is one resident's opinion on an article (or on the whole draft).
type Opinion struct {
	ID             int64 `json:"id" db:"id"`
	ConsultationID int64 `json:"consultation_id" db:"consultation_id"`
	// N numbers the consultation's opinions from 1, as the resident is
	// told it (OpinionNumber).
	N int `json:"n" db:"n"`
	// ArticleSeq is the article it is about; 0 is the draft as a whole.
	ArticleSeq int    `json:"article" db:"article_seq"`
	OpenID     string `json:"-" db:"openid"`
	// DeputyID is the deputy who gathered it: a deputy sending it in chat,
	// or staff recording one a deputy collected (a 座谈会).
	DeputyID string `json:"deputy_id,omitempty" db:"deputy_id"`
	Name     string `json:"-" db:"name"`
	Phone    string `json:"-" db:"phone"`
	Text     string `json:"text" db:"text"`
	// Voice is the voice message it was said in, if any.
	Voice *int64 `json:"voice,omitempty" db:"voice_id"`
	// Late: it arrived after the deadline (kept all the same).
	Late bool `json:"late" db:"late"`
	// MergedInto is the opinion this one duplicates (0: none); a merged
	// opinion counts as one more resident of its primary and shares its
	// outcome.
	MergedInto int64  `json:"merged_into,omitempty" db:"merged_into"`
	Outcome    string `json:"outcome,omitempty" db:"outcome"`
	Reason     string `json:"reason,omitempty" db:"reason"`
	// Source is how it came: "chat", or "console" (staff recorded it).
	Source     string     `json:"source" db:"source"`
	CreatedAt  time.Time  `json:"created_at" db:"created_at"`
	NotifiedAt *time.Time `json:"notified_at,omitempty" db:"notified_at"`
}

// OpinionNumber is how a resident is told an opinion's number: YJ3-012.
func OpinionNumber(consultationID int64, n int) string {
	return fmt.Sprintf("YJ%d-%03d", consultationID, n)
}

// NewOpinion is an opinion as it is submitted.
type NewOpinion struct {
	ConsultationID int64
	ArticleSeq     int
	OpenID         string
	DeputyID       string
	Name, Phone    string
	Text           string
	Voice          int64
	Source         string
	// SourceKey makes submitting idempotent: the message that sent it.
	SourceKey string
	// Audit is written with it when staff recorded it.
	Audit []AuditEntry
}

// OpinionReview is staff's change to an opinion (a review action).
type OpinionReview struct {
	OpinionID int64
	// Outcome and Reason, when Outcome is set.
	Outcome, Reason string
	// MergeInto merges it into another opinion of the same consultation
	// (0: no merge); Unmerge undoes a merge.
	MergeInto int64
	Unmerge   bool
	Audit     AuditEntry
}

// Errors publishing a consultation can meet.
var (
	// ErrNoInformants: the audience is the station's informants and none
	// of its grid workers has bound their WeChat.
	ErrNoInformants = Errorf(EINVALID, "no informant (bound grid worker) to push to")
	// ErrDeadlinePassed: the deadline is over before it was published.
	ErrDeadlinePassed = Errorf(EINVALID, "the deadline has passed")
)

// ConsultationEdit is staff's change to a draft consultation.
type ConsultationEdit struct {
	Title, Intro string
	StationID    string
	Audience     string
	Deadline     time.Time
	Articles     []Article
}

// Validate says which field is wrong, as the key of the console's message.
func (e *ConsultationEdit) Validate() map[string]string {
	errs := map[string]string{}
	if n := utf8.RuneCountInString(strings.TrimSpace(e.Title)); n == 0 || n > 100 {
		errs["title"] = "consult_title"
	}
	if e.Deadline.IsZero() {
		errs["deadline"] = "consult_deadline"
	}
	if e.Audience != AudienceAll && e.Audience != AudienceStation && e.Audience != AudienceInformants {
		errs["audience"] = "consult_audience"
	}
	if len(e.Articles) == 0 {
		errs["text"] = "consult_no_articles"
	}
	if len(e.Articles) > MaxArticles {
		errs["text"] = "consult_too_many"
	}
	for _, a := range e.Articles {
		if strings.TrimSpace(a.Text) == "" {
			errs["text"] = "consult_empty_article"
		}
	}
	return errs
}

// MaxArticles bounds a draft: the longest local regulations have a few
// hundred articles.
const MaxArticles = 500

// articleHead is an article's number at the start of a line: 第五条,
// 第一百零五条, 第5条 (full-width digits too).
var articleHead = regexp.MustCompile(`^[\s\x{3000}]*第([一二三四五六七八九十百千零〇两0-9０-９]+)条[\s\x{3000}:：、.．]*`)

// chapterHead is a chapter or section heading: 第二章 登记管理, 第一节 一般规定.
var chapterHead = regexp.MustCompile(`^[\s\x{3000}]*第[一二三四五六七八九十百零〇两0-9０-９]+[章节][\s\x{3000}]*\S*`)

// SplitArticles splits a draft's text into its articles by the «第X条» that
// starts each (Chinese numerals or digits). Text before the first article
// (the title, a preamble) is returned as the preamble; a chapter heading
// goes with the articles under it. A text without any «第X条» is one
// article, so nothing typed is lost.
func SplitArticles(text string) (preamble string, articles []Article) {
	text = strings.ReplaceAll(strings.ReplaceAll(text, "\r\n", "\n"), "\r", "\n")
	var pre []string
	chapter := ""
	var cur *Article
	for _, line := range strings.Split(text, "\n") {
		if m := articleHead.FindStringSubmatch(line); m != nil {
			articles = append(articles, Article{Seq: len(articles) + 1, Label: "第" + strings.TrimSpace(m[1]) + "条", Chapter: chapter})
			cur = &articles[len(articles)-1]
			if rest := strings.TrimSpace(line[len(m[0]):]); rest != "" {
				cur.Text = rest
			}
			continue
		}
		if chapterHead.MatchString(line) && utf8.RuneCountInString(strings.TrimSpace(line)) <= 40 {
			chapter = strings.Join(strings.Fields(strings.ReplaceAll(line, "\u3000", " ")), " ")
			cur = nil
			continue
		}
		l := strings.TrimSpace(strings.ReplaceAll(line, "\u3000", " "))
		if l == "" {
			continue
		}
		switch {
		case cur != nil && cur.Text == "":
			cur.Text = l
		case cur != nil:
			cur.Text += "\n" + l
		case len(articles) > 0:
			// Text after a chapter heading, before its first article: it
			// belongs to the previous article's end (an appendix line).
			last := &articles[len(articles)-1]
			last.Text += "\n" + l
		default:
			pre = append(pre, l)
		}
	}
	if len(articles) == 0 && len(pre) > 0 {
		return "", []Article{{Seq: 1, Label: "全文", Text: strings.Join(pre, "\n")}}
	}
	return strings.Join(pre, "\n"), articles
}

// ArticleNumber reads an article reference as residents write it: 第五条,
// 五, 第5条, 5, 第十二条 (full-width digits too). ok is false for
// anything else.
func ArticleNumber(s string) (int, bool) {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "第")
	s = strings.TrimSuffix(strings.TrimSuffix(s, "条"), "款")
	return ChineseNumber(s)
}

var zhDigits = map[rune]int{'零': 0, '〇': 0, '一': 1, '二': 2, '两': 2, '三': 3, '四': 4, '五': 5, '六': 6, '七': 7, '八': 8, '九': 9}

// ChineseNumber reads a number written in digits (half or full width) or
// in Chinese numerals up to the thousands: 十二, 二十, 一百零五, 三百一十.
func ChineseNumber(s string) (int, bool) {
	var b strings.Builder
	for _, r := range s {
		if r >= '０' && r <= '９' {
			r = r - '０' + '0'
		}
		b.WriteRune(r)
	}
	s = b.String()
	if s == "" {
		return 0, false
	}
	if n, err := strconv.Atoi(s); err == nil {
		return n, n >= 0
	}
	total, digit := 0, -1
	for _, r := range s {
		if d, ok := zhDigits[r]; ok {
			digit = d
			continue
		}
		unit := map[rune]int{'十': 10, '百': 100, '千': 1000}[r]
		if unit == 0 {
			return 0, false
		}
		if digit < 0 {
			digit = 1 // 十二: an implicit one
		}
		total += digit * unit
		digit = -1
	}
	if digit > 0 {
		total += digit
	}
	return total, total > 0
}
