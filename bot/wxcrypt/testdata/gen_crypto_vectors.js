#!/usr/bin/env node
// gen_crypto_vectors.js — generates crypto_vectors.json, cross-check test vectors
// for WeChat official-account message encryption (AES-256-CBC "safe mode"),
// produced by an INDEPENDENT implementation: the npm package `wechat-crypto`
// (node-webot, v0.0.2, MIT).
//
// How to run (node_modules must NOT live inside this repository):
//
//   mkdir -p /tmp/wxvec && cd /tmp/wxvec && npm init -y && npm install wechat-crypto@0.0.2
//   node --no-deprecation /path/to/repo/bot/testdata/gen_crypto_vectors.js \
//        /tmp/wxvec/node_modules/wechat-crypto > /path/to/repo/bot/testdata/crypto_vectors.json
//
// The optional first argument is the directory of the installed wechat-crypto
// package; without it the script does require('wechat-crypto') (works with
// NODE_PATH=/tmp/wxvec/node_modules). --no-deprecation only silences the
// package's `new Buffer()` deprecation warning on stderr.
//
// Determinism: wechat-crypto draws its 16-byte random prefix from
// crypto.pseudoRandomBytes(16) at encrypt() time. The script temporarily replaces
// crypto.pseudoRandomBytes (and crypto.randomBytes, defensively) with a function
// returning sha256("lianxin-wechat-vector:" + name)[0:16], and asserts it was
// called exactly once per encrypt(). Re-running yields a byte-identical file.
//
// Every vector is verified three ways; the script exits non-zero on any mismatch:
//   1. wechat-crypto's own decrypt(encrypt) returns the plaintext and the app id;
//   2. an independent decrypt with plain node crypto (AES-256-CBC, key =
//      base64(EncodingAESKey+'='), iv = key[0:16], no auto padding, PKCS#7 with a
//      32-byte block) yields random || uint32be(len) || plaintext || app_id;
//   3. an independent encrypt with plain node crypto from random_hex reproduces
//      `encrypt` byte-for-byte, and both signatures are recomputed independently.
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

const pkgDir = process.argv[2] ? path.resolve(process.argv[2]) : null;
const WXBizMsgCrypt = require(pkgDir || 'wechat-crypto');
const pkgJson = JSON.parse(fs.readFileSync(
  path.join(pkgDir || path.dirname(require.resolve('wechat-crypto/package.json')), 'package.json'), 'utf8'));

const TOKEN = 'lianxinVectorToken';
// Generated once from 32 random bytes (base64, trailing '=' dropped); re-drawn
// until it was purely alphanumeric like keys issued by the WeChat console.
const ENCODING_AES_KEY = 'r4rGW8LT561cn8lB1l9HWdVqRkG8eu91XuKgA1BJdtM';
const APP_ID = 'wx5d3c2b1a09f8e7d6';

const ACCOUNT = 'gh_0123456789ab';
const USER = 'oAbCdEfGhIjKlMnOpQrStUvWxYz0';

function fail(msg) {
  process.stderr.write('FAIL: ' + msg + '\n');
  process.exit(1);
}

function randomFor(name) {
  return crypto.createHash('sha256').update('lianxin-wechat-vector:' + name).digest().subarray(0, 16);
}

function sha1Sorted(parts) {
  return crypto.createHash('sha1').update(parts.slice().sort().join('')).digest('hex');
}

function textXML(content, createTime, msgId) {
  return '<xml><ToUserName><![CDATA[' + ACCOUNT + ']]></ToUserName>' +
    '<FromUserName><![CDATA[' + USER + ']]></FromUserName>' +
    '<CreateTime>' + createTime + '</CreateTime>' +
    '<MsgType><![CDATA[text]]></MsgType>' +
    '<Content><![CDATA[' + content + ']]></Content>' +
    '<MsgId>' + msgId + '</MsgId></xml>';
}

// --- plaintexts -------------------------------------------------------------

const vectorsSpec = [];

vectorsSpec.push({
  name: 'text_resident_chinese',
  timestamp: '1732700000',
  nonce: '1320562132',
  plaintext: '<xml><ToUserName><![CDATA[gh_0123456789ab]]></ToUserName><FromUserName><![CDATA[oAbCdEfGhIjKlMnOpQrStUvWxYz0]]></FromUserName><CreateTime>1732700000</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[3号楼2单元暖气一直不热]]></Content><MsgId>24601234567890123</MsgId></xml>',
});

vectorsSpec.push({
  name: 'image',
  timestamp: '1732700060',
  nonce: '858723651',
  plaintext: '<xml><ToUserName><![CDATA[' + ACCOUNT + ']]></ToUserName>' +
    '<FromUserName><![CDATA[' + USER + ']]></FromUserName>' +
    '<CreateTime>1732700060</CreateTime>' +
    '<MsgType><![CDATA[image]]></MsgType>' +
    '<PicUrl><![CDATA[http://mmbiz.qpic.cn/mmbiz_jpg/Q3auHgzwzM4fGiaKXw7rVjbD1sQicR0iaX7lWfFSqn2kdIXbKv0ZpqGc3v8oAbYkG1nIbic2bV4sJMibicPJCQ7rL3w/0]]></PicUrl>' +
    '<MsgId>24601234567890124</MsgId>' +
    '<MediaId><![CDATA[kJ8sH3dL_9xQvR2mN5pT7wYzA1bC4eF6gH0iJ2kL3mN4oP5qR6sT7uV8wX9yZ0aB]]></MediaId></xml>',
});

vectorsSpec.push({
  name: 'voice_with_recognition',
  timestamp: '1732700120',
  nonce: '1946473812',
  plaintext: '<xml><ToUserName><![CDATA[' + ACCOUNT + ']]></ToUserName>' +
    '<FromUserName><![CDATA[' + USER + ']]></FromUserName>' +
    '<CreateTime>1732700120</CreateTime>' +
    '<MsgType><![CDATA[voice]]></MsgType>' +
    '<MediaId><![CDATA[vM3dQ8rT1sW6yZ2aB5cE7fH9iJ0kL4mN6oP8qR0sT2uV4wX6yZ8aB0cD2eF4gH6i]]></MediaId>' +
    '<Format><![CDATA[amr]]></Format>' +
    '<MsgId>24601234567890125</MsgId>' +
    '<Recognition><![CDATA[小区东门的路灯坏了，晚上特别黑，麻烦尽快修一下。]]></Recognition></xml>',
});

vectorsSpec.push({
  name: 'location',
  timestamp: '1732700180',
  nonce: '507325694',
  plaintext: '<xml><ToUserName><![CDATA[' + ACCOUNT + ']]></ToUserName>' +
    '<FromUserName><![CDATA[' + USER + ']]></FromUserName>' +
    '<CreateTime>1732700180</CreateTime>' +
    '<MsgType><![CDATA[location]]></MsgType>' +
    '<Location_X>39.915119</Location_X>' +
    '<Location_Y>116.403963</Location_Y>' +
    '<Scale>16</Scale>' +
    '<Label><![CDATA[北京市东城区东华门街道幸福里小区3号楼]]></Label>' +
    '<MsgId>24601234567890126</MsgId></xml>',
});

vectorsSpec.push({
  name: 'event_subscribe',
  timestamp: '1732700240',
  nonce: '1183742905',
  plaintext: '<xml><ToUserName><![CDATA[' + ACCOUNT + ']]></ToUserName>' +
    '<FromUserName><![CDATA[' + USER + ']]></FromUserName>' +
    '<CreateTime>1732700240</CreateTime>' +
    '<MsgType><![CDATA[event]]></MsgType>' +
    '<Event><![CDATA[subscribe]]></Event>' +
    '<EventKey><![CDATA[]]></EventKey></xml>',
});

vectorsSpec.push({
  name: 'bot_reply_text',
  timestamp: '1732700001',
  nonce: '1702293514',
  plaintext: '<xml><ToUserName><![CDATA[' + USER + ']]></ToUserName>' +
    '<FromUserName><![CDATA[' + ACCOUNT + ']]></FromUserName>' +
    '<CreateTime>1732700001</CreateTime>' +
    '<MsgType><![CDATA[text]]></MsgType>' +
    '<Content><![CDATA[您好，已收到您反映的“3号楼2单元暖气不热”问题，工单号 LX-20241127-0042，维修人员将在2小时内联系您。]]></Content></xml>',
});

vectorsSpec.push({
  name: 'text_with_emoji',
  timestamp: '1732700300',
  nonce: '936481027',
  plaintext: textXML('谢谢师傅👍🏻 暖气终于热了🔥🔥 全家都很开心😀🎉', '1732700300', '24601234567890127'),
});

// Padding edge: 16 (random) + 4 (length) + len(xml) + len(appid) ≡ 0 (mod 32),
// so PKCS#7 with a 32-byte block appends a full block of 32 bytes of 0x20.
{
  const overhead = 16 + 4 + Buffer.byteLength(APP_ID);
  let content = '电梯故障';
  let xml = textXML(content, '1732700360', '24601234567890128');
  while ((overhead + Buffer.byteLength(xml)) % 32 !== 0) {
    content += 'a';
    xml = textXML(content, '1732700360', '24601234567890128');
  }
  vectorsSpec.push({ name: 'full_block_padding', timestamp: '1732700360', nonce: '2038475619', plaintext: xml, expectPad: 32 });
}

// Long message: ~2000 bytes of Chinese text in Content.
{
  const sentences = [
    '我是幸福里小区3号楼2单元的住户，',
    '从本周一开始家里的暖气就一直不热，',
    '早上测过室温只有十四度，老人和孩子都冻得受不了。',
    '之前也打过物业电话，说是会派人来看，但是一直没有人上门。',
    '楼上楼下的邻居也反映了同样的问题，怀疑是单元的主管道阀门没有打开或者管道里有空气。',
    '希望社区能够帮忙协调供热公司尽快派人检修，',
    '另外楼道里的声控灯也坏了好几盏，晚上上下楼很不安全，一并麻烦处理。谢谢！',
  ];
  let content = '';
  for (let i = 0; Buffer.byteLength(content) < 2000; i++) content += sentences[i % sentences.length];
  vectorsSpec.push({ name: 'long_chinese_text', timestamp: '1732700420', nonce: '1659302847', plaintext: textXML(content, '1732700420', '24601234567890129') });
}

// --- generation and verification --------------------------------------------

const KEY = Buffer.from(ENCODING_AES_KEY + '=', 'base64');
if (KEY.length !== 32 || KEY.toString('base64') !== ENCODING_AES_KEY + '=') fail('bad EncodingAESKey');
const IV = KEY.subarray(0, 16);

function independentDecrypt(b64) {
  const ct = Buffer.from(b64, 'base64');
  if (ct.toString('base64') !== b64) fail('ciphertext is not canonical base64');
  if (ct.length === 0 || ct.length % 32 !== 0) fail('ciphertext length ' + ct.length + ' not a positive multiple of 32');
  const d = crypto.createDecipheriv('aes-256-cbc', KEY, IV);
  d.setAutoPadding(false);
  const pt = Buffer.concat([d.update(ct), d.final()]);
  const pad = pt[pt.length - 1];
  if (pad < 1 || pad > 32) fail('bad PKCS#7 pad byte ' + pad);
  for (let i = pt.length - pad; i < pt.length; i++) if (pt[i] !== pad) fail('inconsistent PKCS#7 padding');
  return { body: pt.subarray(0, pt.length - pad), pad };
}

function independentEncrypt(random, plaintext) {
  const msg = Buffer.from(plaintext, 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32BE(msg.length, 0);
  const body = Buffer.concat([random, len, msg, Buffer.from(APP_ID)]);
  const pad = 32 - (body.length % 32);
  const c = crypto.createCipheriv('aes-256-cbc', KEY, IV);
  c.setAutoPadding(false);
  return Buffer.concat([c.update(Buffer.concat([body, Buffer.alloc(pad, pad)])), c.final()]).toString('base64');
}

const wx = new WXBizMsgCrypt(TOKEN, ENCODING_AES_KEY, APP_ID);
const out = {
  generator: 'npm wechat-crypto@' + pkgJson.version,
  token: TOKEN,
  encoding_aes_key: ENCODING_AES_KEY,
  app_id: APP_ID,
  vectors: [],
};

const seenNames = new Set();
for (const spec of vectorsSpec) {
  if (seenNames.has(spec.name)) fail('duplicate name ' + spec.name);
  seenNames.add(spec.name);
  const random = randomFor(spec.name);

  // Deterministic randomness for wechat-crypto's encrypt().
  const origPseudo = crypto.pseudoRandomBytes;
  const origRandom = crypto.randomBytes;
  let calls = 0;
  const fake = function (n) {
    calls++;
    if (n !== 16) fail('package asked for ' + n + ' random bytes, expected 16');
    return Buffer.from(random);
  };
  crypto.pseudoRandomBytes = fake;
  crypto.randomBytes = fake;
  let encrypt;
  try {
    encrypt = wx.encrypt(spec.plaintext);
  } finally {
    crypto.pseudoRandomBytes = origPseudo;
    crypto.randomBytes = origRandom;
  }
  if (calls !== 1) fail(spec.name + ': expected exactly one randomness call, got ' + calls);

  const msgSignature = wx.getSignature(spec.timestamp, spec.nonce, encrypt);
  const signature = sha1Sorted([TOKEN, spec.timestamp, spec.nonce]);

  // 1. package round trip
  const own = wx.decrypt(encrypt);
  if (own.message !== spec.plaintext) fail(spec.name + ': wechat-crypto decrypt message mismatch');
  if (own.id !== APP_ID) fail(spec.name + ': wechat-crypto decrypt id mismatch: ' + own.id);

  // 2. independent decrypt
  const { body, pad } = independentDecrypt(encrypt);
  const msgBytes = Buffer.from(spec.plaintext, 'utf8');
  const expectedBody = Buffer.concat([random, Buffer.from([0, 0, 0, 0]), msgBytes, Buffer.from(APP_ID)]);
  expectedBody.writeUInt32BE(msgBytes.length, 16);
  if (!body.equals(expectedBody)) fail(spec.name + ': independent decrypt does not give random||len||xml||appid');
  if (body.subarray(0, 16).toString('hex') !== random.toString('hex')) fail(spec.name + ': random prefix mismatch');
  if (body.readUInt32BE(16) !== msgBytes.length) fail(spec.name + ': length field mismatch');
  if (spec.expectPad !== undefined && pad !== spec.expectPad) fail(spec.name + ': expected pad ' + spec.expectPad + ', got ' + pad);

  // 3. independent encrypt and signatures
  if (independentEncrypt(random, spec.plaintext) !== encrypt) fail(spec.name + ': independent encrypt differs');
  if (sha1Sorted([TOKEN, spec.timestamp, spec.nonce, encrypt]) !== msgSignature) fail(spec.name + ': msg_signature mismatch');

  out.vectors.push({
    name: spec.name,
    timestamp: spec.timestamp,
    nonce: spec.nonce,
    plaintext: spec.plaintext,
    random_hex: random.toString('hex'),
    encrypt: encrypt,
    msg_signature: msgSignature,
    signature: signature,
  });
  process.stderr.write('ok ' + spec.name + ' (xml ' + msgBytes.length + ' bytes, pad ' + pad + ', ct ' + Buffer.from(encrypt, 'base64').length + ' bytes)\n');
}

process.stdout.write(JSON.stringify(out, null, 2) + '\n');
