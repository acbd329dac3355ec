// Writes data/sentencepiece_expected.json: what Hugging Face tokenizers gives for
// data/mistral/tokenizer.json and variants of it (the sections of newer and other
// sentencepiece conversions swapped in), on hard strings, seeded random strings and
// id lists to decode. sentencepiece_test.cpp checks mk against that file; neither
// CI nor the test needs Node or the network.
//
// Regenerate (Node 18+, in a scratch directory outside the repository):
//   npm install @anush008/tokenizers@0.6.0 @anush008/tokenizers-linux-x64-gnu@0.6.0
//   NODE_PATH=$PWD/node_modules node <repo>/tests/unit/tokenizer/sentencepiece_reference.js
// (@anush008/tokenizers 0.6.0 binds tokenizers 0.22.2.)
'use strict';

const fs = require('fs');
const path = require('path');
const { Tokenizer } = require('@anush008/tokenizers');

const dataDir = path.join(__dirname, 'data');
const basePath = path.join(dataDir, 'mistral', 'tokenizer.json');
const outPath = path.join(dataDir, 'sentencepiece_expected.json');
const base = JSON.parse(fs.readFileSync(basePath, 'utf8'));

const replaceDecoder = {
  type: 'Sequence',
  decoders: [
    { type: 'Replace', pattern: { String: '\u2581' }, content: ' ' },
    { type: 'ByteFallback' },
    { type: 'Fuse' },
    { type: 'Strip', content: ' ', start: 1, stop: 0 },
  ],
};
const metaspace = (scheme, split) => ({
  type: 'Metaspace', replacement: '\u2581', prepend_scheme: scheme, split,
});

// Each variant replaces these sections of the shipped file (the shipped one is
// the legacy conversion: Prepend + Replace normalizer, no pre_tokenizer).
const variants = {
  legacy: {},
  // transformers' LlamaConverter with legacy=false (recent Llama-2/Mistral files).
  metaspace_first: { normalizer: null, pre_tokenizer: metaspace('first', false) },
  metaspace_always_split: {
    normalizer: null, pre_tokenizer: metaspace('always', true),
  },
  metaspace_never: { normalizer: null, pre_tokenizer: metaspace('never', false) },
  // Older conversions decode with Metaspace; <0xNN> tokens then stay as written.
  metaspace_decoder: {
    normalizer: null, pre_tokenizer: metaspace('first', true),
    decoder: metaspace('first', true),
  },
  // Without Strip (add_prefix_space false): the leading space stays.
  no_strip: { decoder: { ...replaceDecoder, decoders: replaceDecoder.decoders.slice(0, 3) } },
  // Strip at both ends, and more than one character. tokenizers panics where the
  // two cuts cross (text of spaces only, or empty), so those are left out there.
  strip_both: {
    decoder: {
      ...replaceDecoder,
      decoders: [...replaceDecoder.decoders.slice(0, 3),
        { type: 'Strip', content: ' ', start: 2, stop: 1 }],
    },
  },
};

const hard = [
  '', ' ', '  ', '   ', '\n', '\n\n', '\t', ' \t \n ', '\r\n',
  'Hello world', 'Hello, world!', ' Hello', '  Hello', '   Hello', 'Hello ', 'Hello  ',
  'a  b   c    d     e', 'a' + ' '.repeat(17) + 'b', ' '.repeat(24),
  'line1\nline2\n', '\tindent\ttab\t', 'x\r\ny', 'def f(x):\n    return x**2\n',
  '    four spaces', 'if (a && b) { return; }',
  '12345', '3.14159', '2024-01-01', '1,000,000', 'x2024y', '\u0663\u0664\u0665 \u216b \u00bd',
  '\u{1F389}', 'Hi \u{1F389}\u{1F389}!', '\u{1F44D}\u{1F3FD}', '\u{1F468}\u200D\u{1F469}\u200D\u{1F467}',
  '\u{1F980} Rust', '\u2764\uFE0F',
  '\u4E2D\u6587', '\u65E5\u672C\u8A9E\u306E\u30C6\u30AD\u30B9\u30C8', '\uD55C\uAD6D\uC5B4',
  '\u4F60\u597D\uFF0C\u4E16\u754C\uFF01', '\u4E2D\u6587 \u{1F389}',
  'e\u0301', 'na\u00EFve caf\u00E9', 'cafe\u0301', 'a\u0308\u0304', 'Z\u0324\u0354\u0367\u0311a\u0308\u0356',
  '\u0000', '\u0001\u0002', '\u007F', '\u{13000}', '\uE000', '\uA66E', '\u{10FFFF}',
  '\u200B', 'a\u00A0b', '\u3000x', '\u2581', '\u2581\u2581x', 'a\u2581b', '<0x41>',
  '\u00C4 \u00F6 \u00FC \u00DF', '\u0395\u03BB\u03BB\u03B7\u03BD\u03B9\u03BA\u03AC',
  '\u0420\u0443\u0441\u0441\u043A\u0438\u0439 \u0442\u0435\u043A\u0441\u0442',
  '\u05E2\u05D1\u05E8\u05D9\u05EA', '\u0627\u0644\u0639\u0631\u0628\u064A\u0629',
  '\u0939\u093F\u0928\u094D\u0926\u0940', '\u0E44\u0E17\u0E22',
  '<s>', '</s>', '<unk>', '<s>Hello', 'Hello</s>', 'a</s>b', 'a </s> b', '<s> <s>',
  '</s></s>', '<s>\n', '<s', 's>', ' <s>x', 'Hello<s>world',
  '[INST] What is 2+2? [/INST]',
  'The quick brown fox jumps over the lazy dog.',
];

// Random strings from a pool of hard characters (xorshift32, fixed seed).
let state = 0x9e3779b9;
function next() {
  state ^= state << 13; state >>>= 0;
  state ^= state >>> 17;
  state ^= state << 5; state >>>= 0;
  return state;
}
const pool = [
  ' ', ' ', ' ', '  ', '\n', '\t', 'a', 'e', 'the', 'The', 'ing', 'x', 'Q', 'z', '0', '7',
  '42', '.', ',', '!', '?', '-', '(', ')', '\'', '"', '/', '#', '\u00E9', 'e\u0301',
  '\u00DF', '\u00F1', '\u4E2D', '\u6587', '\u306E', '\uD55C', '\u{1F389}', '\u{1F980}',
  '\u{1F44D}\u{1F3FD}', '\u200D', '\u0301', '\u0000', '\u007F', '\u{13000}', '\uE000',
  '\u00A0', '\u3000', '\u0E44', '\u0939\u093F', '\u05D0', '\u0416', '\r\n',
  '\u2581', '<s>', '</s>', '<unk>', '<0x0A>',
];
function randomString() {
  const n = next() % 12;
  let s = '';
  for (let i = 0; i < n; i++) s += pool[next() % pool.length];
  return s;
}
const fuzz = Array.from({ length: 80 }, randomString);

// Id lists to decode, by token string.
const decodeTokens = [
  [], ['<0xE4>'], ['<0xE4>', '<0xB8>'], ['<0xE4>', '<0xB8>', '<0xAD>'],
  ['<0x41>', '<0xE4>', '<0x41>'], ['<0xE4>', '\u2581Hello'], ['\u2581Hello', '<0xE4>'],
  ['\u2581'], ['\u2581\u2581'], ['\u2581\u2581\u2581\u2581', '\u2581Hello'],
  ['\u2581', '\u2581', '\u2581Hello', '\u2581'], ['<s>', '\u2581Hello'],
  ['\u2581Hello', '<s>', '\u2581world'], ['</s>'], ['<unk>'], ['<unk>', '\u2581x'],
  ['\u2581Hello', '<0x0A>', '<0x0A>', '\u2581world'], ['<0xF0>', '<0x9F>', '<0x8E>', '<0x89>'],
  ['<0xFF>'], ['<0xC3>', '<0x28>'], ['<0x20>', '\u2581x'], ['<0x20>', '<0x20>', 'x'],
  ['\u2581x', '<0x20>'], ['\u2581x', '\u2581'], ['\u2581x', '\u2581\u2581'],
  ['\u2581Hello', '<0xE4>', '<0xB8>', '<0xAD>', '<0x41>', '\u2581world'],
];

// Random id lists: byte tokens (ids 3..258), "▁" runs, special tokens, any token.
const bytesOf = (ch) => [...Buffer.from(ch, 'utf8')].map((b) => 3 + b);
function randomIds() {
  const ids = [];
  for (let n = next() % 10; n > 0; n--) {
    const kind = next() % 6;
    if (kind === 0) ids.push(3 + (next() % 256));
    else if (kind === 1) ids.push(...bytesOf(pool[next() % pool.length]));
    else if (kind === 2) ids.push([28705, 259, 2287, 260][next() % 4]);
    else if (kind === 3) ids.push(next() % 3);
    else ids.push(next() % 32000);
  }
  return ids;
}
const fuzzIds = Array.from({ length: 60 }, randomIds);

async function run(tok, vocab, skip) {
  const out = { cases: [], fuzz: [], decode: [] };
  const encode = async (text, special) =>
    (await tok.encode(text, null, { addSpecialTokens: special })).getIds();
  const addDecode = async (ids) => {
    if (skip && (await skip(ids))) return;
    out.decode.push({
      ids, decoded: await tok.decode(ids, false), decodedSkip: await tok.decode(ids, true),
    });
  };
  const bos = await encode('', true);
  out.bos = bos;
  const entry = async (text) => {
    const ids = await encode(text, false);
    if (skip && (await skip(ids))) return null;
    const withBos = await encode(text, true);
    if (JSON.stringify(withBos) !== JSON.stringify([...bos, ...ids]))
      throw new Error(`BOS is not only a prefix for ${JSON.stringify(text)}`);
    const e = { text, ids, decoded: await tok.decode(ids, false) };
    const skipped = await tok.decode(ids, true);
    if (skipped !== e.decoded) e.decodedSkip = skipped;
    return e;
  };
  for (const [list, texts] of [[out.cases, hard], [out.fuzz, fuzz]])
    for (const text of texts) {
      const e = await entry(text);
      if (e) list.push(e);
    }
  for (const tokens of decodeTokens) {
    const ids = tokens.map((t) => {
      if (!(t in vocab)) throw new Error(`no token ${t}`);
      return vocab[t];
    });
    ids.push(99999); // no token: skipped
    await addDecode(ids);
  }
  for (const ids of fuzzIds) await addDecode(ids);
  return out;
}

(async () => {
  const result = { generator: 'tokenizers 0.22.2 (@anush008/tokenizers 0.6.0)', variants: {} };
  for (const [name, sections] of Object.entries(variants)) {
    const doc = { ...base, ...sections };
    const tok = Tokenizer.fromString(JSON.stringify(doc));
    const vocab = tok.getVocab(true);
    let skip = null;
    if (name === 'strip_both') {
      const unstripped = Tokenizer.fromString(JSON.stringify({ ...base, ...variants.no_strip }));
      skip = async (ids) => /^ *$/.test(await unstripped.decode(ids, false)) ||
        /^ *$/.test(await unstripped.decode(ids, true));
    }
    result.variants[name] = { sections, ...(await run(tok, vocab, skip)) };
  }
  // One entry per line: small diffs when regenerated.
  const lines = ['{', `"generator": ${JSON.stringify(result.generator)},`, '"variants": {'];
  const names = Object.keys(result.variants);
  names.forEach((name, i) => {
    const v = result.variants[name];
    lines.push(`${JSON.stringify(name)}: {`);
    lines.push(`"sections": ${JSON.stringify(v.sections)},`);
    lines.push(`"bos": ${JSON.stringify(v.bos)},`);
    for (const key of ['cases', 'fuzz', 'decode']) {
      lines.push(`${JSON.stringify(key)}: [`);
      v[key].forEach((e, k) => lines.push(JSON.stringify(e) + (k + 1 < v[key].length ? ',' : '')));
      lines.push(key === 'decode' ? ']' : '],');
    }
    lines.push(i + 1 < names.length ? '},' : '}');
  });
  lines.push('}', '}');
  fs.writeFileSync(outPath, lines.join('\n') + '\n');
  console.log(`wrote ${outPath}`);
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
