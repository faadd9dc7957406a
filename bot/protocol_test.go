package bot

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"testing"

	"github.com/lianxin/lianxin/bot/wxcrypt"
)

// cryptoVectors are wxcrypt's independent test vectors: messages encrypted
// by npm wechat-crypto.
type cryptoVectors struct {
	AESKey  string `json:"encoding_aes_key"`
	AppID   string `json:"app_id"`
	Vectors []struct {
		Name    string `json:"name"`
		Encrypt string `json:"encrypt"`
	} `json:"vectors"`
}

const vectorsFile = "wxcrypt/testdata/crypto_vectors.json"

// Every message another implementation encrypted opens and parses as a
// WeChat message.
func TestVectorsParseAsMessages(t *testing.T) {
	b, err := os.ReadFile(vectorsFile)
	if err != nil {
		t.Fatal(err)
	}
	var v cryptoVectors
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	key, err := wxcrypt.DecodeKey(v.AESKey)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range v.Vectors {
		_, plain, err := wxcrypt.Decrypt(key, v.AppID, tc.Encrypt)
		if err != nil {
			t.Fatalf("%s: %v", tc.Name, err)
		}
		fields, err := parseXML(plain, nil)
		if err != nil {
			t.Fatalf("%s: parsing the decrypted XML: %v", tc.Name, err)
		}
		if _, err := inboundFromXML(fields); err != nil {
			t.Errorf("%s: decrypted XML is not a message: %v", tc.Name, err)
		}
	}
}

func FuzzDecrypt(f *testing.F) {
	v := cryptoVectors{}
	b, _ := os.ReadFile(vectorsFile)
	_ = json.Unmarshal(b, &v)
	for _, tc := range v.Vectors {
		f.Add(tc.Encrypt)
	}
	f.Add("")
	f.Add("AAAA")
	key, _ := wxcrypt.DecodeKey("r4rGW8LT561cn8lB1l9HWdVqRkG8eu91XuKgA1BJdtM")
	f.Fuzz(func(t *testing.T, enc string) {
		_, plain, err := wxcrypt.Decrypt(key, "wx5d3c2b1a09f8e7d6", enc)
		if err == nil {
			// Whatever decrypts must survive parsing without panicking.
			parseXML(plain, nil)
		}
		// Arbitrary bytes as ciphertext, too.
		raw := base64.StdEncoding.EncodeToString([]byte(enc))
		wxcrypt.Decrypt(key, "wx5d3c2b1a09f8e7d6", raw)
	})
}
