// Package wxcrypt is WeChat's message envelope: the request signature, the
// EncodingAESKey, and the AES encryption of safe and compatible mode. The
// webhook opens requests and seals replies with it, the WeChat player
// (internal/wxtest/wxsim) does the reverse, and configuration validation
// checks keys with it, so there is one implementation, checked against an
// independent one (testdata/crypto_vectors.json, from npm wechat-crypto).
package wxcrypt

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// Signature is WeChat's request signature: the hex SHA-1 of the sorted,
// concatenated parts (token, timestamp, nonce, and for encrypted messages the
// ciphertext). Same algorithm as the SDK's util.Signature, without its
// fmt.Sprintf, because it runs twice on every request. It sorts parts in place.
func Signature(parts ...string) string {
	// slices.Sort and one buffer: sort.Strings and a hash.Hash's Write took
	// the parts to the heap, one allocation each.
	slices.Sort(parts)
	n := 0
	for _, s := range parts {
		n += len(s)
	}
	var small [128]byte
	b := small[:0]
	if n > len(small) {
		b = make([]byte, 0, n)
	}
	for _, s := range parts {
		b = append(b, s...)
	}
	sum := sha1.Sum(b)
	return hex.EncodeToString(sum[:])
}

// SignatureOK compares in constant time, so response timing reveals nothing
// about how much of a forged signature was right.
func SignatureOK(got, want string) bool {
	return len(got) == len(want) && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// Key is a decoded EncodingAESKey.
type Key []byte

// DecodeKey checks and decodes an EncodingAESKey: 43 characters of base64
// for a 32-byte key. Its errors say what is wrong without repeating the
// key, for the caller to prefix with where the key came from.
func DecodeKey(encoded string) (Key, error) {
	if len(encoded) != 43 {
		return nil, fmt.Errorf("must be 43 characters, got %d", len(encoded))
	}
	k, err := base64.StdEncoding.DecodeString(encoded + "=")
	if err != nil || len(k) != 32 {
		return nil, errors.New("is not base64 for a 32-byte key")
	}
	return k, nil
}

// NewKey returns a random EncodingAESKey as the WeChat console generates one.
func NewKey() string {
	var k [32]byte
	_, _ = rand.Read(k[:])
	return strings.TrimSuffix(base64.StdEncoding.EncodeToString(k[:]), "=")
}

// ErrDecrypt is any ciphertext that does not open: bad base64, bad padding,
// a hostile length, or a message for another app id.
var ErrDecrypt = errors.New("cannot decrypt message")

// Decrypt opens WeChat's envelope: AES-256-CBC, IV = key[:16], PKCS#7 to
// 32-byte blocks, plaintext = random(16) || len(4, big-endian) || xml ||
// appid (the SDK's util.AESDecryptMsg, checked against the same vectors).
// The app id inside must be appID. It decrypts in place, with the key's
// cipher made once per key.
func Decrypt(key Key, appID, encrypted string) (random, xml []byte, err error) {
	ct, err := base64.StdEncoding.DecodeString(encrypted)
	if err != nil || len(ct) < padBlock || len(ct)%padBlock != 0 {
		return nil, nil, ErrDecrypt
	}
	block, err := blockOf(key)
	if err != nil {
		return nil, nil, ErrDecrypt
	}
	pt := ct
	cipher.NewCBCDecrypter(block, key[:aes.BlockSize]).CryptBlocks(pt, ct)
	pad := int(pt[len(pt)-1])
	if pad < 1 || pad > padBlock {
		return nil, nil, ErrDecrypt
	}
	pt = pt[:len(pt)-pad]
	if len(pt) <= 20 {
		return nil, nil, ErrDecrypt
	}
	n := uint64(binary.BigEndian.Uint32(pt[16:20]))
	if uint64(len(pt)) <= 20+n {
		return nil, nil, ErrDecrypt
	}
	end := 20 + int(n)
	if string(pt[end:]) != appID {
		return nil, nil, ErrDecrypt
	}
	return pt[:16:16], pt[20:end:end], nil
}

// padBlock is the PKCS#7 block WeChat pads to (twice AES's).
const padBlock = 32

// blocks holds each key's AES cipher: making one expands the key, which
// cost more than opening a short message.
var blocks struct {
	sync.RWMutex
	m map[string]cipher.Block
}

func blockOf(key Key) (cipher.Block, error) {
	blocks.RLock()
	b, ok := blocks.m[string(key)]
	blocks.RUnlock()
	if ok {
		return b, nil
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	blocks.Lock()
	defer blocks.Unlock()
	if blocks.m == nil || len(blocks.m) >= 64 {
		// A process knows one or two keys (the player in tests a few more);
		// never let it grow without bound.
		blocks.m = map[string]cipher.Block{}
	}
	blocks.m[string(key)] = b
	return b, nil
}

// Encrypt seals a message the way WeChat expects, with a fresh random prefix.
func Encrypt(key Key, appID string, xml []byte) string {
	var random [16]byte
	_, _ = rand.Read(random[:])
	return EncryptWithRandom(key, appID, random[:], xml)
}

// EncryptWithRandom is Encrypt with a given random prefix (for test vectors).
func EncryptWithRandom(key Key, appID string, random, xml []byte) string {
	block, err := blockOf(key)
	if err != nil {
		panic(err) // as the SDK does: a Key is 32 bytes by construction (DecodeKey)
	}
	n := 20 + len(xml) + len(appID)
	pad := padBlock - n%padBlock
	pt := make([]byte, n+pad)
	copy(pt[:16], random)
	binary.BigEndian.PutUint32(pt[16:20], uint32(len(xml)))
	copy(pt[20:], xml)
	copy(pt[20+len(xml):], appID)
	for i := n; i < len(pt); i++ {
		pt[i] = byte(pad)
	}
	cipher.NewCBCEncrypter(block, key[:aes.BlockSize]).CryptBlocks(pt, pt)
	return base64.StdEncoding.EncodeToString(pt)
}
