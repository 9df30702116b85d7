// What a node accepts from another in the console's session envelopes: malformed or oversized input is
// dropped (the asking node then counts the node as not answering), never trusted as it came.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_LISTED_PER_NODE, parseList, parseRequest } from './cluster-sessions.js';

describe('cluster session envelopes', () => {
  it('accepts a list or a close request with a well-formed application scope, and nothing else', () => {
    assert.deepEqual(parseRequest('{"op":"list","apps":null}'), { op: 'list', apps: null });
    assert.deepEqual(parseRequest('{"op":"list","apps":[1,2]}'), { op: 'list', apps: [1, 2] });
    assert.deepEqual(parseRequest('{"op":"close","id":"0123456789abcdef","apps":[3]}'), { op: 'close', id: '0123456789abcdef', apps: [3] });
    for (const bad of [
      'not json', 'null', '[]', '{"op":"list"}', '{"op":"list","apps":"1"}', '{"op":"list","apps":[1.5]}', '{"op":"list","apps":["1"]}',
      '{"op":"close","id":"xyz","apps":null}', '{"op":"close","apps":null}', '{"op":"drop","apps":null}',
      JSON.stringify({ op: 'list', apps: Array.from({ length: 10_001 }, (_, i) => i) }),
    ]) assert.equal(parseRequest(bad), null, bad);
  });

  it("takes a node's list only with a count and at most the per-node cap of rows, each labelled with the node that sent it", () => {
    const row = { id: '0123456789abcdef', jid: 'a@x/r', node: 'elsewhere' };
    const list = parseList(JSON.stringify({ node: 'n9', total: 7, items: [row, 5, null, { jid: 'no id' }] }), 'n2');
    assert.deepEqual(list, { node: 'n2', total: 7, items: [{ ...row, node: 'n2' }] });
    assert.equal(parseList(null, 'n2'), null);
    assert.equal(parseList('{"total":"7","items":[]}', 'n2'), null);
    assert.equal(parseList('{"total":1}', 'n2'), null);
    assert.equal(parseList('{', 'n2'), null);
    assert.equal(parseList(JSON.stringify({ total: 1, items: Array.from({ length: MAX_LISTED_PER_NODE + 1 }, () => row) }), 'n2'), null);
  });
});
