package obviousbot

import (
	"strconv"
	"strings"
)

// The texts are copied from configs/messages.yaml, configs/flows.yaml and
// configs/categories.yaml rather than loaded from them: the obvious bot has
// its words in its source. Where lianxin's text speaks of something this bot
// does not do (routing to a station and a deputy), it says less.

// category is one entry of the numbered list at the first step.
type category struct {
	key, name   string
	acceptHours int
}

var categories = []category{
	{"property", "物业管理", 24},
	{"heating", "供暖", 4},
	{"utilities", "水电气", 4},
	{"roads", "道路设施", 24},
	{"trees", "树木绿化", 24},
	{"sanitation", "环境卫生", 24},
	{"elderly", "养老助残", 24},
	{"housing", "房屋产权", 48},
	{"safety", "安全隐患", 2},
	{"other", "意见建议与其他", 48},
}

// categoryOptions is the numbered list, built once.
var categoryOptions = func() string {
	var b strings.Builder
	for i, c := range categories {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(strconv.Itoa(i+1) + " " + c.name)
	}
	return b.String()
}()

var stepLabels = map[string]string{
	stepCategory:    "选择类别",
	stepDescription: "问题描述",
	stepPhotos:      "上传照片",
	stepLocation:    "所在位置",
	stepPhone:       "联系电话",
	stepConfirm:     "确认提交",
}

// stepPrompts are the prompts without a list or summary in them.
var stepPrompts = map[string]string{
	stepDescription: "请简单说说是什么问题、在哪里、有多久了。打字或发语音都可以。",
	stepPhotos:      "请拍照上传现场照片(最多9张),发完回复「完成」;没有照片回复「跳过」。",
	stepLocation:    "请发送位置(点「+」→「位置」),或直接输入地址,如「水滩社区3号楼2单元」。",
	stepPhone:       "请留下11位手机号,方便代表联系您;不方便留请回复「跳过」。",
}

const (
	txtMenu = `请回复数字或文字:
1 报事(反映问题、提意见建议)
2 进度(查看我反映的事)
3 帮助
也可以直接发照片,或说一说遇到的问题。`
	txtWelcome = "您好,欢迎来到矿区人大代表联络站「连心」服务号!群众提事、代表议事,我们帮您把事办好。\n" + txtMenu
	txtUnknown = "没太明白您的意思。"
	txtHelp    = `使用帮助:
· 回复「报事」反映问题,按提示选类别、描述、拍照、定位,一分钟就能提交;
· 回复「进度」查看您反映的事办到哪一步了;
· 填写中随时可回复「取消」放弃;
· 每月15日是接待群众日,也可以到联络站当面反映。`
	txtAlreadyReporting = "您正在填写反映。"
	txtInvalidChoice    = "没有这个选项。"
	txtConfirmExpected  = "请回复「确认」提交,「修改 数字」修改,或「取消」放弃。"
	txtCancelled        = "已取消本次反映。需要时回复「报事」重新开始。"
	txtNoCases          = "您还没有反映过问题。回复「报事」开始。"
	txtError            = "抱歉,系统出了点问题,请稍后再试。"
	// txtSubmitted takes the case number and the category's hours to accept.
	txtSubmitted = "提交成功!编号 %s。\n已转给联络站,会在%d小时内受理。办理进展会在这里通知您,回复「进度」可随时查看。"
)
