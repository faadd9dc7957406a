package flows

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/lianxin/lianxin"
)

// normalizeReply makes a resident's reply comparable with command words: trimmed,
// full-width letters and digits made half-width, lower-cased, and trailing
// punctuation ("确认。" "好的!") dropped. Phones send all of these.
func normalizeReply(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range strings.TrimSpace(s) {
		switch {
		case r >= 0xFF01 && r <= 0xFF5E: // full-width ASCII
			r -= 0xFEE0
		case r == 0x3000: // ideographic space
			r = ' '
		}
		b.WriteRune(unicode.ToLower(r))
	}
	out := strings.TrimSpace(b.String())
	return strings.TrimRightFunc(out, func(r rune) bool {
		return unicode.IsPunct(r) || unicode.IsSpace(r) || r == '~' || r == '～'
	})
}

// words are the command words residents use, normalised.
var (
	wordsReport   = set("报事", "我要报事", "反映问题", "我要反映", "反映", "报告问题", "投诉")
	wordsProgress = set("进度", "我的", "查进度", "查询", "查询进度", "我的反映")
	wordsHelp     = set("帮助", "help", "?", "怎么用", "使用帮助")
	wordsMenu     = set("菜单", "menu", "主菜单")
	wordsGreeting = set("你好", "您好", "hi", "hello", "喂")
	wordsHere     = set("在吗", "在不在", "在么", "有人吗", "有人在吗")
	wordsThanks   = set("谢谢", "谢谢你", "谢谢你们", "谢了", "多谢", "感谢", "非常感谢", "太感谢了", "辛苦了", "辛苦你们了")
	wordsOK       = set("好的", "好", "嗯", "嗯嗯", "哦", "知道了", "收到", "明白", "明白了", "行", "可以", "ok", "没事了", "不用了")
	wordsNew      = set("新的", "新反映", "报新的", "新问题", "反映新的")
	// The menu's numbers mean something only outside a report, where no
	// step is waiting for a number.
	menuNumbers   = map[string]string{"1": "报事", "一": "报事", "2": "进度", "二": "进度", "3": "帮助", "三": "帮助", "0": "菜单"}
	wordsBack     = set("返回", "上一步", "退回上一步", "back")
	wordsCancel   = set("取消", "不报了", "算了", "不要了", "cancel")
	wordsStaff    = set("人工", "转人工", "人工服务", "找人", "找工作人员", "客服")
	wordsContinue = set("继续", "继续填写", "接着填")
	wordsRestart  = set("重新开始", "重新填写", "重来", "重新")
	wordsYes      = set("是", "是的", "对", "对的", "嗯", "好", "好的", "确认", "确定", "提交", "确认提交", "ok", "yes", "y", "没错", "没问题")
	wordsNo       = set("不是", "否", "不对", "no", "n", "都不是")
	wordsDone     = set("完成", "好了", "发完了", "完了", "就这些", "没了", "没有了", "ok", "好", "好的", "下一步")
	wordsSkip     = set("跳过", "没有", "无", "不用", "不留", "不方便", "skip", "略过", "不需要")
)

func set(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}

var chineseDigits = map[rune]int{'一': 1, '二': 2, '两': 2, '三': 3, '四': 4, '五': 5, '六': 6, '七': 7, '八': 8, '九': 9, '十': 10}

// choiceNumber reads "3", "3号", "第3个", "三" as 3.
func choiceNumber(s string) (int, bool) {
	s = strings.TrimPrefix(s, "第")
	s = strings.TrimRight(s, "号个项条.、")
	if n, err := strconv.Atoi(s); err == nil {
		return n, true
	}
	if r, size := utf8.DecodeRuneInString(s); size == len(s) && size > 0 {
		n, ok := chineseDigits[r]
		return n, ok
	}
	if s == "十一" {
		return 11, true
	}
	if s == "十二" {
		return 12, true
	}
	return 0, false
}

// editNumber reads "修改 2", "修改2", "改第2项" as 2.
func editNumber(s string) (int, bool) {
	for _, p := range []string{"修改", "改"} {
		if rest, ok := strings.CutPrefix(s, p); ok {
			return choiceNumber(strings.TrimSpace(rest))
		}
	}
	return 0, false
}

// Phone problems: why a phone number was refused, as messages.yaml keys.
const (
	phoneNone   = "phone_none"    // no digits at all
	phoneLength = "phone_length"  // a mobile number with too few or too many digits
	phoneBad    = "phone_invalid" // digits, but neither a mobile nor a landline
)

// phoneNumber reads the phone number in what a resident sent: a mainland
// mobile ("13812345678", "138 1234 5678", "+86-13812345678") or a landline
// with its area code ("0353-1234567", "0353 1234567", "03531234567"), typed
// with full-width digits, after words ("我的电话13812345678") or with
// punctuation after it ("13812345678。", voice recognition adds one). A
// landline is kept as AREA-NUMBER. When there is none, problem says why and
// digits counts the digits of the number that was meant.
func phoneNumber(s string) (phone, problem string, digits int) {
	var runs [][]string // each run: its groups of digits
	var cur []string
	var group strings.Builder
	flush := func() {
		if group.Len() > 0 {
			cur = append(cur, group.String())
			group.Reset()
		}
	}
	for _, r := range s {
		if r >= 0xFF01 && r <= 0xFF5E { // full-width ASCII
			r -= 0xFEE0
		}
		switch {
		case r >= '0' && r <= '9':
			group.WriteRune(r)
		case r == ' ' || r == '-' || r == '(' || r == ')' || r == '+' || r == 0x3000:
			flush() // separators inside a number
		default:
			flush()
			if len(cur) > 0 {
				runs = append(runs, cur)
				cur = nil
			}
		}
	}
	flush()
	if len(cur) > 0 {
		runs = append(runs, cur)
	}
	if len(runs) == 0 {
		return "", phoneNone, 0
	}
	problem = phoneBad
	for _, groups := range runs {
		if p, ok := parsePhone(groups); ok {
			return p, "", 0
		}
		all := strings.Join(groups, "")
		if d := strings.TrimPrefix(all, "86"); len(all) > 11 && d != all {
			all = d
		}
		if len(all) > digits {
			digits = len(all)
			problem = phoneBad
			if all[0] == '1' {
				problem = phoneLength
			}
		}
	}
	return "", problem, digits
}

// parsePhone reads one run of digit groups (as separated by spaces or
// dashes) as a mobile or a landline.
func parsePhone(groups []string) (string, bool) {
	d := strings.Join(groups, "")
	if len(d) == 13 && strings.HasPrefix(d, "86") {
		d = d[2:]
	}
	if len(d) == 11 && d[0] == '1' && d[1] >= '3' {
		return d, true
	}
	if len(d) < 10 || len(d) > 12 || d[0] != '0' {
		return "", false
	}
	// The area code as typed, or by its shape: 010 and 02x have three
	// digits, the rest four; the number after it has seven or eight.
	area := 4
	if d[1] == '1' || d[1] == '2' {
		area = 3
	}
	if len(groups) > 1 && len(groups[0]) >= 3 && len(groups[0]) <= 4 {
		area = len(groups[0])
	}
	if local := len(d) - area; local < 7 || local > 8 {
		return "", false
	}
	return d[:area] + "-" + d[area:], true
}

// textOf is what a text or voice message says (voice: WeChat's recognition).
func textOf(m *lianxin.Inbound) string {
	if m.Kind == lianxin.KindText || m.Kind == lianxin.KindVoice {
		return m.Text
	}
	return ""
}

func runeLen(s string) int { return utf8.RuneCountInString(s) }

// clip shortens s to n runes for summaries.
func clip(s string, n int) string {
	if runeLen(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}
