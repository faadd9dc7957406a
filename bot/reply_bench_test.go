package bot

import (
	"testing"

	"github.com/lianxin/lianxin/bot/wxcrypt"
)

// BenchmarkEncryptedReply is what every encrypted reply costs: the text
// reply's XML, its encryption, the signature and the envelope.
func BenchmarkEncryptedReply(b *testing.B) {
	key, err := wxcrypt.DecodeKey(wxcrypt.NewKey())
	if err != nil {
		b.Fatal(err)
	}
	text := "【确认提交】\n1. 类别：供暖\n2. 描述：3号楼2单元暖气一直不热，屋里才十四五度，老人受不了\n3. 照片：2张\n4. 位置：阳泉市矿区水滩社区3号楼\n回复「1」提交，回复「2」修改。"
	b.ReportAllocs()
	for b.Loop() {
		x := textReplyXML("oResident0000000000000000001", "gh_bench", 1796206241, text)
		enc := wxcrypt.Encrypt(key, "wxbench", x)
		encryptedReplyXML(enc, wxcrypt.Signature("token", "1796206241", "123456789", enc), "1796206241", "123456789")
	}
}
