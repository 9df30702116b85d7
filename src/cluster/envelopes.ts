// The text form of envelopes, shared by Redis pub/sub and the node-to-node links: one envelope is
// "kind\nto\nsending node\nstanza"; several are "batch\n<count>\nsending node\n" followed by
// "kind\nto\n<stanza length>\nstanza" for each (lengths in UTF-16 code units).
import type { Envelope } from './types.js';

export function single(envelope: Envelope, node: string): string {
  return `${envelope.kind}\n${envelope.to}\n${node}\n${envelope.stanza}`;
}

export function batch(envelopes: Envelope[], node: string): string {
  let out = `batch\n${envelopes.length}\n${node}\n`;
  for (const e of envelopes) out += `${e.kind}\n${e.to}\n${e.stanza.length}\n${e.stanza}`;
  return out;
}

/**
 * Splits a batch (the sending node's name ends at `start`, where its envelopes start; `count` of
 * them), handing each to `receive` with `node` as its sender when given (a link knows its peer).
 */
export function unbatch(message: string, nodeAt: number, start: number, count: number, receive: (envelope: Envelope) => void, node = message.slice(nodeAt, start)): void {
  let at = start + 1;
  for (let i = 0; i < count; i++) {
    const a = message.indexOf('\n', at);
    const b = message.indexOf('\n', a + 1);
    const c = message.indexOf('\n', b + 1);
    if (a < 0 || b < 0 || c < 0) return;
    const length = Number(message.slice(b + 1, c));
    if (!Number.isSafeInteger(length) || length < 0 || c + 1 + length > message.length) return;
    receive({ kind: message.slice(at, a), to: message.slice(a + 1, b), node, stanza: message.slice(c + 1, c + 1 + length) });
    at = c + 1 + length;
  }
}

/** Hands the envelopes of a batch ("batch\n<count>\n<node>\n…") to `receive`; false when it is not one. */
export function receiveBatch(message: string, receive: (envelope: Envelope) => void, node?: string): boolean {
  if (!message.startsWith('batch\n')) return false;
  const a = message.indexOf('\n');
  const b = message.indexOf('\n', a + 1);
  const c = message.indexOf('\n', b + 1);
  if (b < 0 || c < 0) return false;
  unbatch(message, b + 1, c, Number(message.slice(a + 1, b)), receive, node);
  return true;
}
