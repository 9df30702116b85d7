// Every function that runs a pattern over client input, fed 100 KB of the input that makes a
// backtracking pattern slowest: each must answer within milliseconds (linear time, or a length
// bound checked before the pattern runs). Quadratic code takes minutes here, not milliseconds.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseFilters, parseInteger, parseList, parseNumber, parseUserIds, parseDataFilters } from '../src/chat/params.js';
import { normalizeObjectId } from '../src/chat/objectid.js';
import { stripXmlInvalid } from '../src/chat/text.js';
import { hasControlOrBidi, isPlausibleEmail } from '../src/rest/field-rules.js';
import { intParam, positiveId } from '../src/rest/params.js';
import { parseByteRange } from '../src/rest/byte-range.js';
import { contentDisposition } from '../src/rest/blob-download.js';
import { signatureMatches } from '../src/rest/signature.js';
import { Jid, parseUserLocal } from '../src/xmpp/jid.js';
import { ScramServer } from '../src/util/scram.js';
import { isSafeName } from '../src/qb/fields.js';
import { nodeOfId } from '../src/modules/cluster-resumption/ids.js';
import { StreamParser } from '../src/xml/stream-parser.js';

const N = 100_000;
const BOUND_MS = 50;
const rep = (s: string, n = N) => s.repeat(Math.ceil(n / s.length)).slice(0, n);

/** Worst cases for patterns built from digit, dot, space, `@` and letter runs. */
const HOSTILE = [
  rep('1') + 'x', rep('1.') + 'x', '1.' + rep('1') + 'x', rep(' ') + 'x', '1' + rep(' ') + 'x', rep('1e') + 'x',
  'a@' + rep('.') + '@', 'a@' + rep('a.') + ' ', rep('a') + '@', rep('@'), rep('=2C') + ',', rep('\u202e'), rep('\ud800'),
  rep('a-') + '-', rep('0123456789abcdef') + 'g', 'bytes=' + rep('1') + 'x', 'bytes=' + rep(' ') + 'x', rep('ab/'),
];

/**
 * The fastest of three runs, so that a garbage collection or the other engineers' load on this
 * machine does not fail a linear function; a quadratic one is seconds every time (the first run
 * past a second fails at once).
 */
async function fastestMs(run: () => unknown): Promise<number> {
  let best = Infinity;
  for (let i = 0; i < 3 && best >= BOUND_MS; i++) {
    const start = performance.now();
    try {
      await run();
    } catch {
      // refusing the input is fine; only the time matters
    }
    best = Math.min(best, performance.now() - start);
    if (best > 1000) break;
  }
  return best;
}

async function within(name: string, fn: (input: string) => unknown): Promise<void> {
  for (const input of HOSTILE) {
    const ms = await fastestMs(() => fn(input));
    assert.ok(ms < BOUND_MS, `${name} took ${ms.toFixed(1)} ms on ${JSON.stringify(input.slice(0, 12))}…`);
  }
}

describe('client input of 100 KB is handled in linear time', () => {
  it('chat/params: numbers, lists, user ids, filters', async () => {
    await within('parseNumber', parseNumber);
    await within('parseInteger', parseInteger);
    await within('parseList', parseList);
    await within('parseUserIds', (s) => parseUserIds(s, 'occupants_ids'));
    await within('parseFilters', (s) => parseFilters({ date_sent: { gt: s }, sender_id: s, created_at: { lt: s }, _id: s }, {
      date_sent: 'number', sender_id: 'integer', created_at: 'time', _id: 'objectId',
    }));
    await within('parseDataFilters', (s) => parseDataFilters({ data: { k: { gt: s } } }));
    await within('normalizeObjectId', normalizeObjectId);
    await within('stripXmlInvalid', stripXmlInvalid);
  });

  it('rest: e-mail, control characters, integer and id parameters, byte ranges, file names, signatures', async () => {
    await within('isPlausibleEmail', isPlausibleEmail);
    await within('hasControlOrBidi', hasControlOrBidi);
    await within('intParam', (s) => intParam({ limit: s }, 'limit', 10));
    await within('positiveId', positiveId);
    await within('parseByteRange', (s) => parseByteRange(s, 1000));
    // Blob names are refused past 100 characters before they get here.
    await within('contentDisposition', (s) => contentDisposition(s.slice(0, 1000)));
    await within('signatureMatches', (s) => signatureMatches({ application_id: 1, signature: s }, 'secret'));
  });

  it('xmpp: JIDs, SASL SCRAM, extraParams names, resumption ids', async () => {
    await within('Jid.parse', Jid.parse);
    await within('parseUserLocal', parseUserLocal);
    await within('isSafeName', isSafeName);
    await within('nodeOfId', nodeOfId);
    for (const input of HOSTILE) {
      const ms = await fastestMs(() => new ScramServer('sha1', async () => null).start(Buffer.from(`n,,n=${input},r=${input}`)));
      assert.ok(ms < BOUND_MS, `SCRAM client-first took ${ms.toFixed(1)} ms`);
    }
  });

  it('xml: the stream parser with a 100 KB attribute, text and name', async () => {
    const header = '<stream:stream xmlns="jabber:client" xmlns:stream="http://etherx.jabber.org/streams">';
    for (const input of HOSTILE) {
      const documents = [
        `${header}<message a="${input.replace(/["<&]/g, '')}"/>`,
        `${header}<message><body>${input.replace(/[<&]/g, '')}</body></message>`,
        `${header}<m${input.replace(/[^a-z0-9]/g, '')}`,
      ];
      for (const doc of documents) {
        const bytes = Buffer.from(doc);
        const ms = await fastestMs(() => new StreamParser({ streamStart: () => {}, element: () => {}, streamEnd: () => {}, parseError: () => {} }).write(bytes));
        assert.ok(ms < BOUND_MS, `StreamParser took ${ms.toFixed(1)} ms on ${JSON.stringify(doc.slice(header.length, header.length + 20))}…`);
      }
    }
  });
});
