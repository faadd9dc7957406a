package flows

import (
	"slices"
	"unicode"
	"unicode/utf8"

	"github.com/lianxin/lianxin"
	"github.com/lianxin/lianxin/configs"
)

// Suggestion is one category's score for a resident's text.
type Suggestion struct {
	Key   string
	Score float64
}

// Confidence thresholds for offering a suggestion ("是否属于【供暖】?").
// A single weak word (漏水, 老人, 建议) weighs 1 and is not enough on its
// own: it happens in too many categories. One strong word (暖气, 垃圾) or two
// weak ones that agree is. The margin keeps the bot from guessing between two
// categories the resident mentioned equally; then it shows the list instead.
const (
	minConfidentScore  = 2
	minConfidentMargin = 1
)

// strongScore is one unmistakable keyword (weight 3 in categories.yaml).
const strongScore = 3

// Classifier suggests a category for free text from the keywords in the
// categories file. It is built once and is safe for concurrent use.
//
// Why keywords and not a trained model: stations edit the vocabulary
// themselves, a keyword explains its own decision to a deputy, and residents'
// reports are short and name the thing that is broken (暖气, 路灯, 垃圾).
type Classifier struct {
	keys  []string
	other int // index of the fallback category in keys, or -1

	cats    matcher // category keywords; hit class = category index
	markers matcher // conversational cues for LooksLikeProblem
}

// NewClassifier compiles the categories' keywords. Entries that do not parse
// are skipped: configs.LoadCategories refuses them before they get here.
func NewClassifier(cats lianxin.Categories) *Classifier {
	c := &Classifier{keys: make([]string, len(cats)), other: -1}
	var b matcherBuilder
	for i, cat := range cats {
		c.keys[i] = cat.Key
		if cat.Key == lianxin.OtherCategory {
			c.other = i
		}
		for _, k := range cat.Keywords {
			word, w, err := configs.ParseKeyword(k)
			if err != nil {
				continue
			}
			b.add(word, i, w)
		}
	}
	c.cats = b.build(true)

	var m matcherBuilder
	for class, words := range cueWords {
		for _, w := range words {
			m.add(w, class, 1)
		}
	}
	c.markers = m.build(false)
	return c
}

// Rank scores every category for the text, best first. Equal scores go to
// the category the text mentions first (Chinese puts the topic first: in
// "小区里的草好久没人管了" the grass is the subject, the neglect is the
// complaint), then to file order; the fallback category loses every tie, since
// it is the answer only when nothing more specific is.
func (c *Classifier) Rank(text string) []Suggestion {
	var buf [maxStackRunes]rune
	var tb tallyBuf
	t := c.tally(normalize(buf[:0], text), &tb)
	order := make([]int, len(c.keys))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(i, j int) int {
		if c.before(t, i, j) {
			return -1
		}
		if c.before(t, j, i) {
			return 1
		}
		return 0
	})
	out := make([]Suggestion, len(order))
	for n, i := range order {
		out[n] = Suggestion{Key: c.keys[i], Score: t.scores[i]}
	}
	return out
}

// Suggest returns the best category and whether it is confident enough to
// offer ("是否属于【供暖】?"). When nothing matches it returns ("other", false).
func (c *Classifier) Suggest(text string) (Suggestion, bool) {
	var buf [maxStackRunes]rune
	var tb tallyBuf
	t := c.tally(normalize(buf[:0], text), &tb)
	best, second := -1, -1
	for i := range t.scores {
		switch {
		case best < 0 || c.before(t, i, best):
			best, second = i, best
		case second < 0 || c.before(t, i, second):
			second = i
		}
	}
	if best < 0 || t.scores[best] <= 0 {
		return Suggestion{Key: lianxin.OtherCategory}, false
	}
	s := Suggestion{Key: c.keys[best], Score: t.scores[best]}
	runnerUp := 0.0
	if second >= 0 {
		runnerUp = max(t.scores[second], 0)
	}
	return s, s.Score >= minConfidentScore && s.Score-runnerUp >= minConfidentMargin
}

// tally is the evidence for each category in one text.
type tally struct {
	scores []float64
	first  []int // rune offset of the category's first positive match; -1 when none
}

// tallyBuf lets a tally of a usual number of categories live on the stack.
type tallyBuf struct {
	scores [maxStackCats]float64
	first  [maxStackCats]int
}

func (c *Classifier) tally(text []rune, b *tallyBuf) tally {
	n := len(c.keys)
	t := tally{scores: b.scores[:0], first: b.first[:0]}
	t.scores = slices.Grow(t.scores, n)[:n]
	t.first = slices.Grow(t.first, n)[:n]
	for i := range n {
		t.first[i] = -1
	}
	c.cats.scan(text, func(h hit, start, _ int) {
		t.scores[h.class] += h.weight
		if h.weight > 0 && t.first[h.class] < 0 {
			t.first[h.class] = start
		}
	})
	return t
}

// before reports whether category i ranks above category j (see Rank).
func (c *Classifier) before(t tally, i, j int) bool {
	if t.scores[i] != t.scores[j] {
		return t.scores[i] > t.scores[j]
	}
	if (i == c.other) != (j == c.other) {
		return j == c.other
	}
	fi, fj := t.first[i], t.first[j]
	if fi != fj && fi >= 0 && fj >= 0 {
		return fi < fj
	}
	return i < j
}

// Cue classes for LooksLikeProblem.
const (
	cueChatter  = iota // greetings, acknowledgements, particles: say nothing about a problem
	cueThanks          // gratitude: the resident is closing, not opening, a conversation
	cueResolved        // "it is fixed now"
	cueProblem         // something is wrong or wanted
	cueBot             // a question about the service itself or a menu word
)

// cueWords are the conversational words LooksLikeProblem weighs. They are
// kept apart from the category keywords because they say whether the text is
// a report, not what it is about. The matcher takes the longest word at each
// place, so "不客气" is chatter even though "不" is a problem cue.
var cueWords = [...][]string{
	cueChatter: {
		"你好", "您好", "你们好", "大家好", "早上好", "上午好", "中午好", "下午好", "晚上好", "早", "喂",
		"在吗", "在不在", "在么", "有人吗", "有人在吗", "请问",
		"好的", "好滴", "好", "嗯", "嗯嗯", "哦", "噢", "喔", "行", "可以", "收到", "知道了", "明白", "明白了",
		"了解", "懂了", "对", "是的", "没事", "没事了", "没关系", "没问题", "不用了", "不客气", "算了",
		"再见", "拜拜", "晚安", "哈哈", "呵呵", "嘿嘿", "啊", "呀", "吧", "呢", "哈", "嘛", "呐", "哟", "了",
		"ok", "okay", "hi", "hello", "yes", "no", "微笑", "呲牙", "玫瑰", "抱拳", "强", "赞",
	},
	cueThanks: {"谢谢", "谢谢你", "谢谢你们", "谢了", "多谢", "感谢", "辛苦了", "辛苦", "点赞", "给力", "太好了"},
	cueResolved: {
		"修好", "修好了", "弄好了", "好了", "已经好了", "解决了", "已解决", "处理好了", "办好了", "已经解决", "解决好了",
		"热了", "来水了", "来电了", "来气了",
	},
	cueProblem: {
		"不", "没", "没有", "无", "坏", "漏", "堵", "破", "臭", "脏", "乱", "吵", "冷", "塌", "裂", "歪", "掉",
		"停", "断", "差", "难", "急", "险", "危险", "隐患", "问题", "反映", "投诉", "举报", "建议", "意见",
		"希望", "能不能", "能否", "可不可以", "怎么办", "咋办", "麻烦", "帮忙", "帮帮", "管管", "管一管",
		"修", "维修", "太", "严重", "影响", "一直", "好几天", "好久", "至今", "迟迟", "多次", "老是", "总是",
		"没人", "无人", "需要", "要求", "申请", "解决",
	},
	cueBot: {
		"你是谁", "你是", "你们是", "机器人", "公众号", "小程序", "怎么用", "怎么使用", "怎么弄", "怎么操作",
		"干什么的", "干啥的", "是什么", "能做什么", "能干什么", "有什么用",
		"菜单", "帮助", "报事", "进度", "查询", "查进度", "人工", "客服", "返回", "取消", "退出", "测试",
	},
}

// LooksLikeProblem reports whether free text reads like a report of a problem
// or a suggestion (as opposed to greetings, thanks, questions about the bot, or
// very short chatter like "你好", "在吗", "谢谢", "好的", "1"). Used to decide
// whether to start a report from free text.
//
// Starting a report by mistake costs the resident a "取消"; missing one costs
// the report. So beyond clear chatter, anything that names a category's thing
// or reads like a complaint of some length counts.
func (c *Classifier) LooksLikeProblem(text string) bool {
	var buf [maxStackRunes]rune
	var tb tallyBuf
	t := normalize(buf[:0], text)

	var counts [len(cueWords)]int
	chatterRunes := 0
	c.markers.scan(t, func(h hit, _, fresh int) {
		counts[h.class]++
		if h.class == cueChatter || h.class == cueThanks || h.class == cueResolved {
			chatterRunes += fresh
		}
	})
	content := 0
	for _, r := range t {
		if r != boundary && !unicode.IsDigit(r) {
			content++
		}
	}
	// What is left once greetings and acknowledgements are set aside: a bare
	// "1" or "你好啊" leaves nothing.
	rest := content - chatterRunes
	if rest <= 1 {
		return false
	}
	best := 0.0
	for _, s := range c.tally(t, &tb).scores {
		best = max(best, s)
	}
	switch {
	case counts[cueBot] > 0 && best < strongScore:
		// "这个怎么用", "我要查进度": about the service, not a problem; a
		// strong topic word ("报事:楼道里全是垃圾") still wins.
		return false
	case counts[cueThanks] > 0 && counts[cueResolved] > 0,
		(counts[cueThanks] > 0 || counts[cueResolved] > 0) && counts[cueProblem] == 0:
		// "谢谢,暖气已经热了", "太感谢了,问题已经解决了" name a problem but close it.
		return false
	case best >= minConfidentScore:
		return true
	case counts[cueProblem] > 0 && rest >= 4:
		return true
	}
	// A long message that is neither chatter nor about the bot is most likely
	// someone describing something in words the keywords do not know.
	return rest >= 10
}

// maxStackRunes and maxStackCats size the per-call buffers so a typical
// message is scored without touching the heap; longer ones still work.
const (
	maxStackRunes = 256
	maxStackCats  = 16
)

// boundary replaces punctuation in normalized text so a keyword never
// matches across "暖气,不热" style clause breaks into an unrelated word.
const boundary = '|'

// normalize appends text to dst in the form keywords are matched against:
// full-width ASCII folded to half-width, ASCII lower-cased, spaces dropped
// ("暖气 不热" and "暖 气" are what phone keyboards produce), and every run of
// punctuation or symbols collapsed into one boundary.
func normalize(dst []rune, text string) []rune {
	for _, r := range text {
		switch {
		case r >= 0xFF01 && r <= 0xFF5E: // full-width ASCII block
			r -= 0xFEE0
		case r == utf8.RuneError:
			r = boundary
		}
		switch {
		case r >= 'A' && r <= 'Z':
			r += 'a' - 'A'
		case unicode.IsSpace(r) || r == '\u200b' || r == '\ufeff': // zero-width space and BOM come with pasted text
			continue
		case unicode.IsPunct(r) || unicode.IsSymbol(r) || unicode.IsControl(r):
			r = boundary
		}
		if r == boundary && len(dst) > 0 && dst[len(dst)-1] == boundary {
			continue
		}
		dst = append(dst, r)
	}
	return dst
}

// hit is what one matched word contributes: weight to class.
type hit struct {
	class  int
	weight float64
}

// term is a normalized word and what it contributes when matched.
type term struct {
	rest []rune // the word after its first rune (the index already matched that)
	hits []hit
}

// matcher finds words in normalized text. Every occurrence counts except one
// lying wholly inside a longer occurrence: a specific word overrides the
// generic one it contains ("暖气片" counts once, not also as "暖气"; "煤气味"
// is not also "煤气"; "树立^0" masks "树"), while overlapping words both count
// ("下水井盖" is both "下水井" and "井盖"), which greedy left-to-right
// segmentation would get wrong.
//
// A separable matcher also finds a two-character word split by an aspect or
// potential particle, as Chinese verb-object words are in speech: 过户 in
// "过不了户", 着火 in "着了火", 停电 in "停了电".
type matcher struct {
	byFirst   map[rune][]term // candidates by first rune, longest first
	separable bool
}

// isInfix reports whether r is a particle that may split a two-character word.
func isInfix(r rune) bool {
	switch r {
	case '了', '不', '没', '得', '过', '着':
		return true
	}
	return false
}

type matcherBuilder struct {
	words map[string]*term
	order []string
}

func (b *matcherBuilder) add(word string, class int, weight float64) {
	norm := string(normalize(nil, word))
	if norm == "" || norm == string(boundary) {
		return
	}
	if b.words == nil {
		b.words = map[string]*term{}
	}
	t, ok := b.words[norm]
	if !ok {
		t = &term{}
		b.words[norm] = t
		b.order = append(b.order, norm)
	}
	// Several categories may list the same word; each keeps its own weight.
	t.hits = append(t.hits, hit{class: class, weight: weight})
}

func (b *matcherBuilder) build(separable bool) matcher {
	m := matcher{byFirst: make(map[rune][]term, len(b.order)), separable: separable}
	for _, w := range b.order {
		rs := []rune(w)
		t := *b.words[w]
		t.rest = rs[1:]
		m.byFirst[rs[0]] = append(m.byFirst[rs[0]], t)
	}
	for _, ts := range m.byFirst {
		// Stable, so equal-length words keep file order and results are deterministic.
		slices.SortStableFunc(ts, func(a, b term) int { return len(b.rest) - len(a.rest) })
	}
	return m
}

// scan calls f for every hit of every counted occurrence, with where the
// occurrence starts and how many runes it covers that no earlier one did.
func (m *matcher) scan(text []rune, f func(h hit, start, fresh int)) {
	covered := 0 // end of the furthest-reaching occurrence so far
	for i := range text {
		// Only the longest word starting here can count, and only when an
		// earlier occurrence does not already contain it.
		t, end := m.longestAt(text, i)
		if t == nil || end <= covered {
			continue
		}
		fresh := end - max(i, covered)
		for _, h := range t.hits {
			f(h, i, fresh)
		}
		covered = end
	}
}

// longestAt returns the longest word occurring at text[i] and where it ends,
// trying a split two-character word only when nothing matches whole.
func (m *matcher) longestAt(text []rune, i int) (*term, int) {
	cands := m.byFirst[text[i]]
	for k := range cands {
		if hasPrefix(text[i+1:], cands[k].rest) {
			return &cands[k], i + 1 + len(cands[k].rest)
		}
	}
	if !m.separable {
		return nil, 0
	}
	for k := range cands {
		if len(cands[k].rest) != 1 { // only two-character words split
			continue
		}
		last := cands[k].rest[0]
		for j := i + 1; j < len(text) && j <= i+2 && isInfix(text[j]); j++ {
			if j+1 < len(text) && text[j+1] == last {
				return &cands[k], j + 2
			}
		}
	}
	return nil, 0
}

func hasPrefix(s, prefix []rune) bool {
	if len(prefix) > len(s) {
		return false
	}
	for i, r := range prefix {
		if s[i] != r {
			return false
		}
	}
	return true
}
