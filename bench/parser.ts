// StreamParser and serializer throughput on a QuickBlox-style client stream.
// Run: npx tsc -p tsconfig.json && node dist/bench/parser.js
import { execFileSync } from 'node:child_process';
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

// Baselines: saxes alone. With all eight handlers StreamParser registers, saxes' keyed-store on()
// pushes the parser object into V8 dictionary mode, which shows up as the gap between the two rows.
const ALL_EVENTS = ['opentag', 'closetag', 'text', 'cdata', 'doctype', 'comment', 'processinginstruction', 'error'] as const;
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
  'saxes, 3 handlers': () => [...measure(saxesOnly(true, ALL_EVENTS.slice(0, 3))), stream.length],
  'saxes, 8 handlers': () => [...measure(saxesOnly(true, ALL_EVENTS)), stream.length],
  'saxes, 3 handlers, xmlns off': () => [...measure(saxesOnly(false, ALL_EVENTS.slice(0, 3))), stream.length],
  'serialize(Element)': () => {
    parse(true);
    return [...measure(serializeAll), serializedBytes];
  },
};

const only = process.argv[2];
if (only) {
  process.stdout.write(JSON.stringify(CASES[only]!()));
} else {
  const t0 = performance.now();
  console.log(`stream: ${STANZAS} stanzas, ${(stream.length / 1e6).toFixed(2)} MB, ${chunks.length} chunks of ${CHUNK / 1024} KB; median of ${REPS} after ${WARMUP} warm-up, one process per case`);
  console.log(`${'case'.padEnd(30)} ${'MB/s'.padStart(8)} ${'stanzas/s'.padStart(11)} ${'best MB/s'.padStart(10)}`);
  for (const name of Object.keys(CASES)) {
    const [med, best, bytes] = JSON.parse(execFileSync(process.execPath, [fileURLToPath(import.meta.url), name], { encoding: 'utf8' })) as number[];
    const mb = bytes! / 1e6;
    console.log(`${name.padEnd(30)} ${(mb / med!).toFixed(1).padStart(8)} ${Math.round(STANZAS / med!).toLocaleString('en-US').padStart(11)} ${(mb / best!).toFixed(1).padStart(10)}`);
  }
  console.log(`total ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}
