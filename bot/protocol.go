package bot

import (
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strconv"

	"github.com/silenceper/wechat/v2/util"

	"github.com/lianxin/lianxin"
)

// signature is WeChat's request signature: the hex SHA-1 of the sorted,
// concatenated parts (token, timestamp, nonce, and for encrypted messages the
// ciphertext). Same algorithm as the SDK's util.Signature, without its
// fmt.Sprintf, because it runs twice on every request.
func signature(parts ...string) string {
	sort.Strings(parts)
	h := sha1.New()
	for _, s := range parts {
		h.Write([]byte(s))
	}
	var sum [sha1.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0]))
}

// signatureOK compares in constant time, so response timing reveals nothing
// about how much of a forged signature was right.
func signatureOK(got, want string) bool {
	return len(got) == len(want) && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// aesKey is a decoded EncodingAESKey.
type aesKey []byte

func decodeAESKey(encoded string) (aesKey, error) {
	if len(encoded) != 43 {
		return nil, fmt.Errorf("EncodingAESKey must be 43 characters, got %d", len(encoded))
	}
	k, err := base64.StdEncoding.DecodeString(encoded + "=")
	if err != nil || len(k) != 32 {
		return nil, errors.New("EncodingAESKey is not base64 for 32 bytes")
	}
	return k, nil
}

var errDecrypt = errors.New("cannot decrypt message")

// decrypt opens WeChat's envelope with the SDK's AES routine: AES-256-CBC,
// IV = key[:16], PKCS#7 to 32-byte blocks, plaintext = random(16) ||
// len(4, big-endian) || xml || appid. The app id inside must be ours.
func decrypt(key aesKey, appID, encrypted string) (random, xml []byte, err error) {
	ct, err := base64.StdEncoding.DecodeString(encrypted)
	if err != nil {
		return nil, nil, errDecrypt
	}
	defer func() {
		// The SDK routine can index out of range on hostile lengths.
		if recover() != nil {
			random, xml, err = nil, nil, errDecrypt
		}
	}()
	random, xml, gotAppID, err := util.AESDecryptMsg(ct, key)
	if err != nil || string(gotAppID) != appID {
		return nil, nil, errDecrypt
	}
	return random, xml, nil
}

// encrypt seals a reply the way WeChat expects, with a fresh random prefix.
func encrypt(key aesKey, appID string, xml []byte) string {
	var random [16]byte
	_, _ = rand.Read(random[:])
	return encryptWithRandom(key, appID, random[:], xml)
}

func encryptWithRandom(key aesKey, appID string, random, xml []byte) string {
	return base64.StdEncoding.EncodeToString(util.AESEncryptMsg(random, xml, appID, key))
}

var errMissingField = errors.New("required field missing")

// inboundFromXML maps parsed WeChat fields to the domain message.
func inboundFromXML(fields []xmlField) (*lianxin.Inbound, error) {
	m := &lianxin.Inbound{}
	var err error
	num := func(s string) int64 {
		n, e := strconv.ParseInt(s, 10, 64)
		if e != nil && err == nil {
			err = fmt.Errorf("bad number %q", s)
		}
		return n
	}
	flt := func(s string) float64 {
		f, e := strconv.ParseFloat(s, 64)
		if e != nil && err == nil {
			err = fmt.Errorf("bad number %q", s)
		}
		return f
	}
	var recognition, content string
	for _, f := range fields {
		switch f.name {
		case "ToUserName":
			m.Account = f.value
		case "FromUserName":
			m.OpenID = f.value
		case "CreateTime":
			m.CreateTime = num(f.value)
		case "MsgType":
			m.Kind = lianxin.MsgKind(f.value)
		case "MsgId":
			if f.value != "" {
				m.MsgID = num(f.value)
			}
		case "Content":
			content = f.value
		case "Recognition":
			recognition = f.value
		case "PicUrl":
			m.PicURL = f.value
		case "MediaId":
			m.MediaID = f.value
		case "Format":
			m.Format = f.value
		case "Location_X", "Latitude":
			if f.value != "" {
				m.Lat = flt(f.value)
			}
		case "Location_Y", "Longitude":
			if f.value != "" {
				m.Lng = flt(f.value)
			}
		case "Label":
			m.Label = f.value
		case "Title":
			m.Title = f.value
		case "Url":
			m.URL = f.value
		case "Event":
			m.Event = f.value
		case "EventKey":
			m.EventKey = f.value
		}
	}
	if err != nil {
		return nil, err
	}
	if m.OpenID == "" || m.Account == "" || m.Kind == "" || m.CreateTime == 0 {
		return nil, errMissingField
	}
	if m.Kind == lianxin.KindVoice {
		m.Text = recognition
	} else {
		m.Text = content
	}
	if m.Kind == lianxin.KindEvent && m.Event == "" {
		return nil, errMissingField
	}
	return m, nil
}

// findField returns the value of the named field.
func findField(fields []xmlField, name string) (string, bool) {
	for _, f := range fields {
		if f.name == name {
			return f.value, true
		}
	}
	return "", false
}
