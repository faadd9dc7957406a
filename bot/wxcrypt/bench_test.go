package wxcrypt

import "testing"

// BenchmarkDecrypt opens a message the size of a resident's report text.
func BenchmarkDecrypt(b *testing.B) {
	key, err := DecodeKey(NewKey())
	if err != nil {
		b.Fatal(err)
	}
	xml := []byte("<xml><ToUserName><![CDATA[gh_bench]]></ToUserName><FromUserName><![CDATA[oResident0000000000000000001]]></FromUserName><CreateTime>1796206241</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[3号楼2单元暖气一直不热，屋里才十四五度，老人受不了]]></Content><MsgId>24612345678901234</MsgId></xml>")
	enc := Encrypt(key, "wxbench", xml)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Decrypt(key, "wxbench", enc); err != nil {
			b.Fatal(err)
		}
	}
}
