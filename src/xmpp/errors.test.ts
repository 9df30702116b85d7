import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { xml } from '../xml/element.js';
import { parseElement } from '../xml/stream-parser.js';
import { errorReply, StanzaError, StreamError } from './errors.js';
import { NS_STANZA_ERRORS, NS_STREAM, NS_STREAM_ERRORS } from './ns.js';

describe('StanzaError', () => {
  it('defaults the type from the condition and adds the legacy code', () => {
    const cases = [
      ['bad-request', 'modify', '400'], ['forbidden', 'auth', '403'], ['item-not-found', 'cancel', '404'],
      ['service-unavailable', 'cancel', '503'], ['resource-constraint', 'wait', '500'], ['not-authorized', 'auth', '401'],
      ['feature-not-implemented', 'cancel', '501'], ['conflict', 'cancel', '409'],
    ] as const;
    for (const [condition, type, code] of cases) {
      const err = new StanzaError(condition);
      assert.equal(err.type, type);
      assert.equal(err.message, condition);
      assert.ok(err instanceof Error);
      assert.equal(err.toElement().toString(), `<error type="${type}" code="${code}"><${condition} xmlns="${NS_STANZA_ERRORS}"/></error>`);
    }
  });

  it('takes an explicit type, text and application-specific condition', () => {
    const err = new StanzaError('not-acceptable', 'body too long & <bad>', 'cancel', xml('too-long', { xmlns: 'urn:app' }));
    assert.equal(err.message, 'not-acceptable: body too long & <bad>');
    assert.equal(
      err.toElement().toString(),
      `<error type="cancel" code="406"><not-acceptable xmlns="${NS_STANZA_ERRORS}"/>` +
        `<text xmlns="${NS_STANZA_ERRORS}" xml:lang="en">body too long &amp; &lt;bad&gt;</text><too-long xmlns="urn:app"/></error>`,
    );
    const el = err.toElement();
    assert.equal(el.getChildText('text', NS_STANZA_ERRORS), 'body too long & <bad>');
    assert.ok(parseElement(el.toString()), 'well-formed');
  });
});

describe('StreamError', () => {
  it('produces <stream:error> with the condition and optional text', () => {
    assert.equal(
      new StreamError('policy-violation').toElement().toString(),
      `<stream:error xmlns:stream="${NS_STREAM}"><policy-violation xmlns="${NS_STREAM_ERRORS}"/></stream:error>`,
    );
    const el = new StreamError('not-well-formed', 'unexpected "<"').toElement();
    assert.equal(
      el.toString(),
      `<stream:error xmlns:stream="${NS_STREAM}"><not-well-formed xmlns="${NS_STREAM_ERRORS}"/>` +
        `<text xmlns="${NS_STREAM_ERRORS}" xml:lang="en">unexpected "&lt;"</text></stream:error>`,
    );
    assert.ok(el.is('error', NS_STREAM));
    assert.equal(new StreamError('conflict', 'replaced').message, 'conflict: replaced');
  });
});

describe('errorReply', () => {
  it('swaps addresses, keeps id and payload, sets type="error"', () => {
    const stanza = xml(
      'iq',
      { xmlns: 'jabber:client', from: 'a@b/r', to: 'c@d', type: 'get', id: 'q1' },
      xml('query', { xmlns: 'jabber:iq:private' }, xml('x', { xmlns: 'urn:x' })),
    );
    const before = stanza.toString();
    const reply = errorReply(stanza, new StanzaError('service-unavailable'));
    assert.equal(
      reply.toString(),
      '<iq xmlns="jabber:client" type="error" id="q1" to="a@b/r" from="c@d"><query xmlns="jabber:iq:private"><x xmlns="urn:x"/></query>' +
        `<error type="cancel" code="503"><service-unavailable xmlns="${NS_STANZA_ERRORS}"/></error></iq>`,
    );
    assert.equal(stanza.toString(), before, 'original untouched');
    assert.notEqual(reply.getChild('query'), stanza.getChild('query'), 'payload is a copy');
    assert.equal(reply.getChild('query')!.parent, reply);
  });

  it('handles missing addresses and replaces an existing error child', () => {
    const msg = xml('message', { to: 'c@d', type: 'chat' }, xml('body', null, 'hi'), xml('error', { type: 'old' }), ' ');
    const reply = errorReply(msg, new StanzaError('recipient-unavailable', 'offline'));
    assert.equal(reply.attrs.to, undefined);
    assert.equal(reply.attrs.from, 'c@d');
    assert.equal(reply.attrs.type, 'error');
    assert.equal(reply.attrs.id, undefined);
    assert.equal(reply.getChildren('error').length, 1);
    assert.equal(reply.getChild('error')!.attrs.type, 'wait');
    assert.equal(reply.getChildText('body'), 'hi');
  });
});
