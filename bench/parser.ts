// StreamParser and serializer throughput on a QuickBlox-style client stream, against ltx and saxes.
// Run: npx tsc -p tsconfig.json && node dist/bench/parser.js   (ROUNDS=n to change the number of rounds)
// Every parser gets the same 16 KB chunks of bytes. The sides do not do the same work: StreamParser
// validates UTF-8, enforces the limits, checks namespaces and builds one Element tree per stanza; the
// ltx and saxes rows (other than "ltx + ltx.Element") only decode the chunks with a TextDecoder and
// tokenize them into SAX events. The last lines compare StreamParser with the faster of the bare SAX
// parsers (the target being ≥ 2×) and with ltx building trees.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { SaxesParser } from 'saxes';
import { serialize, type Element } from '../src/xml/element.js';
import { DEFAULT_LIMITS, StreamParser } from '../src/xml/stream-parser.js';

const STANZAS = 8_000;
const CHUNK = 16 * 1024;
const WARMUP = 2;
const REPS = 7;

// Deterministic PRNG so every run measures the same bytes.
let seed = 1;
const rand = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
const hex = (n: number): string => Array.from({ length: n }, () => Math.floor(rand() * 16).toString(16)).join('');
const user = (): string => `${100000 + Math.floor(rand() * 900000)}-95862@chat.quickblox.com`;
const WORDS = ['hello', 'are', 'you', 'there', 'meeting', 'at', '5pm', 'ok', 'see', 'photo', 'привет', 'как', 'дела', 'ça', 'va', '😀', '👍', '&', '<3'];
const escape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function message(): string {
  const words = Array.from({ length: 2 + Math.floor(rand() * 40) }, () => pick(WORDS)).join(' ');
  const attachment = rand() < 0.3 ? `<attachment type="image" id="${hex(32)}" url="https://api.quickblox.com/blobs/${hex(32)}/download?token=${hex(16)}&amp;x=1"/>` : '';
  return (
    `<message to="${user()}" type="chat" id="${hex(24)}"><body>${escape(words)}</body>` +
    `<extraParams xmlns="jabber:client"><save_to_history>1</save_to_history><date_sent>${1_700_000_000 + Math.floor(rand() * 1e7)}</date_sent>` +
    `<dialog_id>${hex(24)}</dialog_id>${attachment}</extraParams><markable xmlns="urn:xmpp:chat-markers:0"/></message>`
  );
}
const presence = (): string =>
  rand() < 0.5 ? '<presence/>' : `<presence><show>${pick(['away', 'chat', 'dnd', 'xa'])}</show><status>${escape(pick(WORDS))}</status><priority>1</priority></presence>`;
const iq = (): string =>
  pick([
    `<iq type="get" id="${hex(8)}"><ping xmlns="urn:xmpp:ping"/></iq>`,
    `<iq type="get" id="${hex(8)}"><query xmlns="jabber:iq:roster"/></iq>`,
    `<iq type="set" id="${hex(8)}"><enable xmlns="urn:xmpp:carbons:2"/></iq>`,
    `<iq type="get" to="chat.quickblox.com" id="${hex(8)}"><query xmlns="http://jabber.org/protocol/disco#info"/></iq>`,
  ]);

const HEADER = `<?xml version='1.0'?><stream:stream xmlns="jabber:client" xmlns:stream="http://etherx.jabber.org/streams" to="chat.quickblox.com" version="1.0">`;
const stanzas = Array.from({ length: STANZAS }, () => {
  const r = rand();
  return r < 0.7 ? message() : r < 0.9 ? presence() : iq();
});
const stream = Buffer.from(HEADER + stanzas.join(''));
const chunks: Buffer[] = [];
for (let i = 0; i < stream.length; i += CHUNK) chunks.push(stream.subarray(i, i + CHUNK));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

/** Runs fn WARMUP + REPS times; returns the median and best durations in seconds. */
function measure(fn: () => void): [number, number] {
  const times: number[] = [];
  for (let i = 0; i < WARMUP + REPS; i++) {
    const start = process.hrtime.bigint();
    fn();
    if (i >= WARMUP) times.push(Number(process.hrtime.bigint() - start) / 1e9);
  }
  return [median(times), Math.min(...times)];
}

let parsed: Element[] = [];
/** Parses the whole stream; keeps the elements only when asked, so GC of a retained heap is not timed. */
function parse(keep = false): void {
  const out: Element[] = [];
  let count = 0;
  let error = '';
  const parser = new StreamParser(
    {
      streamStart: () => {},
      element: (el) => (count++, keep && out.push(el)),
      streamEnd: () => {},
      parseError: (c, t) => (error = `${c}: ${t}`),
    },
    DEFAULT_LIMITS,
  );
  for (const chunk of chunks) parser.write(chunk);
  if (count !== STANZAS) throw new Error(`parsed ${count} of ${STANZAS} ${error}`);
  parsed = out;
}

// Baselines: saxes alone, with handlers for open tags, close tags and text.
const ALL_EVENTS = ['opentag', 'closetag', 'text'] as const;
function saxesOnly(xmlns: boolean, events: readonly (typeof ALL_EVENTS)[number][]): () => void {
  return () => {
    const decoder = new TextDecoder('utf-8', { fatal: true });
    const sax = new SaxesParser({ xmlns, position: true });
    let n = 0;
    for (const event of events) sax.on(event, () => {});
    sax.on('closetag', () => n++);
    for (const chunk of chunks) sax.write(decoder.decode(chunk, { stream: true }));
    if (n < STANZAS) throw new Error('saxes baseline parsed too little');
  };
}

// ltx 3 (what @xmpp/xml uses) has no type declarations: its SAX parser and Element, typed by hand.
interface LtxSax {
  on(event: 'startElement', fn: (name: string, attrs: Record<string, string>) => void): void;
  on(event: 'endElement', fn: (name: string) => void): void;
  on(event: 'text', fn: (text: string) => void): void;
  on(event: 'error', fn: (err: Error) => void): void;
  write(data: string): void;
}
interface LtxElement {
  parent: LtxElement | null;
  cnode(child: LtxElement): LtxElement;
  t(text: string): LtxElement;
}
const require = createRequire(import.meta.url);
const SaxLtx = require('ltx/lib/parsers/ltx.js') as new () => LtxSax;
const LtxElementClass = (require('ltx/lib/Element.js') as new (name: string, attrs: Record<string, string>) => LtxElement);

/** ltx's own SAX parser, events counted only (its fastest use). */
function ltxSax(): void {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const sax = new SaxLtx();
  let depth = 0;
  let n = 0;
  sax.on('startElement', () => depth++);
  sax.on('endElement', () => (--depth === 1 && n++));
  sax.on('text', () => {});
  sax.on('error', (e) => {
    throw e;
  });
  for (const chunk of chunks) sax.write(decoder.decode(chunk, { stream: true }));
  if (n !== STANZAS) throw new Error(`ltx parsed ${n} of ${STANZAS}`);
}

/** ltx building one Element tree per stanza, as @xmpp/xml's stream parser does. */
function ltxElements(): void {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const sax = new SaxLtx();
  let depth = 0;
  let n = 0;
  let el: LtxElement | null = null;
  sax.on('startElement', (name, attrs) => {
    depth++;
    if (depth === 1) return; // <stream:stream>
    const child = new LtxElementClass(name, attrs);
    el = el ? el.cnode(child) : child;
  });
  sax.on('endElement', () => {
    depth--;
    if (depth === 0 || !el) return;
    if (depth === 1) {
      n++;
      el = null;
    } else el = el.parent;
  });
  sax.on('text', (text) => {
    if (el) el.t(text);
  });
  sax.on('error', (e) => {
    throw e;
  });
  for (const chunk of chunks) sax.write(decoder.decode(chunk, { stream: true }));
  if (n !== STANZAS) throw new Error(`ltx parsed ${n} of ${STANZAS}`);
}

let serializedBytes = 0;
function serializeAll(): void {
  let bytes = 0;
  for (const el of parsed) bytes += serialize(el).length;
  serializedBytes = bytes;
}

// Each case runs in its own process: V8's inline caches are shared per function, so a dictionary-mode
// saxes instance from one case would slow saxes down in every case measured after it.
const CASES: Record<string, () => [number, number, number]> = {
  'StreamParser (16 KB chunks)': () => [...measure(() => parse()), stream.length],
  'saxes, 3 handlers': () => [...measure(saxesOnly(true, ALL_EVENTS)), stream.length],
  'saxes, 3 handlers, xmlns off': () => [...measure(saxesOnly(false, ALL_EVENTS)), stream.length],
  'ltx SAX (events only)': () => [...measure(ltxSax), stream.length],
  'ltx + ltx.Element per stanza': () => [...measure(ltxElements), stream.length],
  'serialize(Element)': () => {
    parse(true);
    return [...measure(serializeAll), serializedBytes];
  },
};

const WHAT: Record<string, string> = {
  'StreamParser (16 KB chunks)': 'bytes → UTF-8 check, limits, namespaces, an Element tree per stanza',
  'saxes, 3 handlers': 'TextDecoder + saxes (xmlns) SAX events; no tree, no limits',
  'saxes, 3 handlers, xmlns off': 'TextDecoder + saxes SAX events; no tree, no limits',
  'ltx SAX (events only)': 'TextDecoder + ltx SAX events; no tree, no limits',
  'ltx + ltx.Element per stanza': 'TextDecoder + ltx SAX + an ltx.Element tree per stanza (as @xmpp/xml)',
  'serialize(Element)': 'serialize() of every parsed stanza; MB/s of output',
};
const ROUNDS = Number(process.env.ROUNDS ?? 3);

const only = process.argv[2];
if (only) {
  process.stdout.write(JSON.stringify(CASES[only]!()));
} else {
  const t0 = performance.now();
  console.log(
    `stream: ${STANZAS} stanzas, ${(stream.length / 1e6).toFixed(2)} MB, ${chunks.length} chunks of ${CHUNK / 1024} KB; ` +
      `median of ${REPS} after ${WARMUP} warm-up, one process per case, cases interleaved over ${ROUNDS} rounds (median of the rounds)`,
  );
  // Rounds interleave the cases so that a burst of load elsewhere on the machine hits all of them alike.
  const runs: Record<string, [number, number, number][]> = {};
  for (let round = 0; round < ROUNDS; round++) {
    for (const name of Object.keys(CASES)) {
      const run = JSON.parse(execFileSync(process.execPath, [fileURLToPath(import.meta.url), name], { encoding: 'utf8' })) as [number, number, number];
      (runs[name] ??= []).push(run);
    }
  }
  console.log(`${'case'.padEnd(30)} ${'MB/s'.padStart(8)} ${'stanzas/s'.padStart(11)} ${'best MB/s'.padStart(10)}  what it does`);
  const mbps: Record<string, number> = {};
  for (const name of Object.keys(CASES)) {
    const med = median(runs[name]!.map((r) => r[0]));
    const best = Math.min(...runs[name]!.map((r) => r[1]));
    const mb = runs[name]![0]![2] / 1e6;
    mbps[name] = mb / med;
    console.log(
      `${name.padEnd(30)} ${(mb / med).toFixed(1).padStart(8)} ${Math.round(STANZAS / med).toLocaleString('en-US').padStart(11)} ${(mb / best).toFixed(1).padStart(10)}  ${WHAT[name]}`,
    );
  }
  const ours = mbps['StreamParser (16 KB chunks)']!;
  const [rivalName, rival] = (['saxes, 3 handlers', 'ltx SAX (events only)'] as const)
    .map((n) => [n, mbps[n]!] as const)
    .reduce((a, b) => (b[1] > a[1] ? b : a));
  const ratio = ours / rival;
  console.log(`StreamParser (trees) / fastest bare SAX parser (${rivalName}): ${ratio.toFixed(2)}× — target ≥ 2×: ${ratio >= 2 ? 'met' : 'not met'}`);
  console.log(`StreamParser (trees) / ltx building trees: ${(ours / mbps['ltx + ltx.Element per stanza']!).toFixed(2)}×`);
  console.log(`total ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}
