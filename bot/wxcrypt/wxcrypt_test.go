package wxcrypt

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"os"
	"testing"

	"github.com/silenceper/wechat/v2/util"
)

// cryptoVectors were produced by an independent implementation of WeChat's
// message encryption (npm wechat-crypto, see testdata/gen_crypto_vectors.js).
type cryptoVectors struct {
	Generator string `json:"generator"`
	Token     string `json:"token"`
	AESKey    string `json:"encoding_aes_key"`
	AppID     string `json:"app_id"`
	Vectors   []struct {
		Name         string `json:"name"`
		Timestamp    string `json:"timestamp"`
		Nonce        string `json:"nonce"`
		Plaintext    string `json:"plaintext"`
		RandomHex    string `json:"random_hex"`
		Encrypt      string `json:"encrypt"`
		MsgSignature string `json:"msg_signature"`
		Signature    string `json:"signature"`
	} `json:"vectors"`
}

func loadVectors(t *testing.T) cryptoVectors {
	t.Helper()
	b, err := os.ReadFile("testdata/crypto_vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var v cryptoVectors
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Vectors) < 8 {
		t.Fatalf("only %d vectors", len(v.Vectors))
	}
	return v
}

func TestCryptoMatchesIndependentImplementation(t *testing.T) {
	v := loadVectors(t)
	key, err := DecodeKey(v.AESKey)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range v.Vectors {
		t.Run(tc.Name, func(t *testing.T) {
			if got := Signature(v.Token, tc.Timestamp, tc.Nonce); got != tc.Signature {
				t.Errorf("URL signature = %s, %s says %s", got, v.Generator, tc.Signature)
			}
			if got := Signature(v.Token, tc.Timestamp, tc.Nonce, tc.Encrypt); got != tc.MsgSignature {
				t.Errorf("msg_signature = %s, %s says %s", got, v.Generator, tc.MsgSignature)
			}
			if got := util.Signature(v.Token, tc.Timestamp, tc.Nonce, tc.Encrypt); got != tc.MsgSignature {
				t.Errorf("the SDK's signature disagrees: %s", got)
			}
			random, plain, err := Decrypt(key, v.AppID, tc.Encrypt)
			if err != nil {
				t.Fatalf("decrypting %s's ciphertext: %v", v.Generator, err)
			}
			if string(plain) != tc.Plaintext {
				t.Errorf("decrypted\n%s\nwant\n%s", plain, tc.Plaintext)
			}
			if hex.EncodeToString(random) != tc.RandomHex {
				t.Errorf("random prefix %x, want %s", random, tc.RandomHex)
			}
			wantRandom, _ := hex.DecodeString(tc.RandomHex)
			if got := EncryptWithRandom(key, v.AppID, wantRandom, []byte(tc.Plaintext)); got != tc.Encrypt {
				t.Errorf("encrypting with the same random prefix gave a different ciphertext:\n%s\nwant\n%s", got, tc.Encrypt)
			}
			if _, _, err := Decrypt(key, "wx0000000000000000", tc.Encrypt); err == nil {
				t.Error("a message for another app id was accepted")
			}
		})
	}
}

func TestDecryptRefusesTamperedCiphertext(t *testing.T) {
	v := loadVectors(t)
	key, _ := DecodeKey(v.AESKey)
	ct, _ := base64.StdEncoding.DecodeString(v.Vectors[0].Encrypt)
	for name, bad := range map[string]string{
		"not base64":     "%%%",
		"empty":          "",
		"short":          base64.StdEncoding.EncodeToString(ct[:16]),
		"not a block":    base64.StdEncoding.EncodeToString(ct[:len(ct)-5]),
		"flipped last":   base64.StdEncoding.EncodeToString(append(append([]byte{}, ct[:len(ct)-1]...), ct[len(ct)-1]^0xff)),
		"truncated tail": base64.StdEncoding.EncodeToString(ct[:len(ct)-32]),
	} {
		if _, _, err := Decrypt(key, v.AppID, bad); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	wrong, _ := DecodeKey("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG")
	if _, _, err := Decrypt(wrong, v.AppID, v.Vectors[0].Encrypt); err == nil {
		t.Error("decrypted with the wrong key")
	}
}

func TestDecodeAESKey(t *testing.T) {
	if _, err := DecodeKey("short"); err == nil {
		t.Error("short key accepted")
	}
	if _, err := DecodeKey("abcdefghijklmnopqrstuvwxyz0123456789ABCDEF"); err == nil {
		t.Error("42-character key accepted")
	}
	if _, err := DecodeKey("abcdefghijklmnopqrstuvwxyz0123456789ABCD!FG"); err == nil {
		t.Error("non-base64 key accepted")
	}
}
