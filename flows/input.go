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
	wordsGreeting = set("你好", "您好", "在吗", "在不在", "hi", "hello", "喂")
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

// mobilePhone extracts an 11-digit mainland mobile number from what the
// resident typed ("138 1234 5678", "+86-13812345678").
func mobilePhone(s string) (string, bool) {
	var digits strings.Builder
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits.WriteRune(r)
		case r == ' ' || r == '-' || r == '+' || r == '(' || r == ')':
		default:
			return "", false
		}
	}
	d := strings.TrimPrefix(digits.String(), "86")
	if len(d) != 11 || d[0] != '1' || d[1] < '3' {
		return "", false
	}
	return d, true
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
