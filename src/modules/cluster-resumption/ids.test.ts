import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nodeOfId, resumptionId } from './ids.js';

test('a resumption id names its node', () => {
  for (const node of ['n1', 'host-w0', 'ünïcode node', 'a.b.c']) assert.equal(nodeOfId(resumptionId('r4nd0m_-', node)), node);
});

test('ids naming no node, or garbage, give null', () => {
  for (const id of ['', 'plain', 'abc.', '.', 'abc.!!', 'abc.' + Buffer.from('a\tb').toString('base64url'), 'x.' + 'A'.repeat(600)]) {
    assert.equal(nodeOfId(id), null, id);
  }
});
