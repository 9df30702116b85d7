import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Element, escapeAttr, escapeText, serialize, serializeOpenTag, xml, type Node } from './element.js';
import { parseElement } from './stream-parser.js';

/** Structural view of a tree: adjacent text merged (a parser may split text around CDATA). */
type Tree = [string, Record<string, string>, (Tree | string)[]];
function tree(el: Element): Tree {
  const children: (Tree | string)[] = [];
  for (const child of el.children) {
    if (typeof child !== 'string') children.push(tree(child));
    else if (typeof children.at(-1) === 'string') children[children.length - 1] += child;
    else if (child !== '') children.push(child);
  }
  return [el.name, { ...el.attrs }, children];
}

describe('escaping', () => {
  it('escapes & < > in text, and also quotes in attributes', () => {
    assert.equal(escapeText(`a&b<c>d"e'f`), `a&amp;b&lt;c&gt;d"e'f`);
    assert.equal(escapeAttr(`a&b<c>d"e'f`), 'a&amp;b&lt;c&gt;d&quot;e&apos;f');
    assert.equal(escapeText('&amp;'), '&amp;amp;');
    assert.equal(escapeText('plain é 😀'), 'plain é 😀');
    assert.equal(escapeAttr(''), '');
  });

  it('serializes escaped text and attributes exactly', () => {
    const el = xml('message', { to: `a"b'c`, id: '<&>' }, xml('body', null, `1 < 2 && 3 > 2 "q" 'a' ]]>`));
    assert.equal(
      serialize(el),
      `<message to="a&quot;b&apos;c" id="&lt;&amp;&gt;"><body>1 &lt; 2 &amp;&amp; 3 &gt; 2 "q" 'a' ]]&gt;</body></message>`,
    );
  });
});

describe('serialize', () => {
  it('never adds whitespace between elements and self-closes empty ones', () => {
    const el = xml(
      'iq',
      { type: 'result', id: '1' },
      xml('query', { xmlns: 'jabber:iq:roster' }, xml('item', { jid: 'a@b', name: 'A' }, xml('group', null, 'Friends')), xml('item', { jid: 'c@d' })),
    );
    assert.equal(
      el.toString(),
      '<iq type="result" id="1"><query xmlns="jabber:iq:roster"><item jid="a@b" name="A"><group>Friends</group></item><item jid="c@d"/></query></iq>',
    );
    assert.equal(serialize(new Element('presence')), '<presence/>');
    assert.equal(serialize(new Element('presence').t('')), '<presence/>');
    assert.equal(serialize(xml('a', null, xml('b'), ' ', xml('c'))), '<a><b/> <c/></a>');
  });

  it('writes opening tags for stream headers, skipping undefined attributes', () => {
    const attrs = { xmlns: 'jabber:client', to: undefined, version: '1.0' } as unknown as Record<string, string>;
    assert.equal(serializeOpenTag('stream:stream', attrs), '<stream:stream xmlns="jabber:client" version="1.0">');
    assert.equal(serializeOpenTag('open', { a: '"' }, true), '<open a="&quot;"/>');
  });

  it('round-trips parse → serialize → parse to equal trees', () => {
    const inputs = [
      '<message xmlns="jabber:client" to="1-2@chat.example.com" type="chat" id="5f3a&amp;x"><body>héllo &lt;b&gt; &amp; &quot;q&quot; 😀\n\tline</body>' +
        '<extraParams xmlns="jabber:client"><save_to_history>1</save_to_history><date_sent>1700000000</date_sent><attachment type="image" id="abc" url="https://x/y?a=1&amp;b=2"/></extraParams>' +
        '<markable xmlns="urn:xmpp:chat-markers:0"/></message>',
      '<iq type="set" id="b"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"><resource>r &apos;1&apos;</resource></bind></iq>',
      '<x:foo xmlns:x="urn:a" x:attr="&lt;&gt;"><x:bar>a<![CDATA[<not a tag> & ]]]]>b</x:bar><baz xmlns="urn:b"/></x:foo>',
      '<presence><status>  spaced  </status><c xmlns="http://jabber.org/protocol/caps" hash="sha-1" node="n" ver="v=="/></presence>',
    ];
    for (const input of inputs) {
      const first = parseElement(input);
      assert.ok(first, input);
      const text = serialize(first);
      const second = parseElement(text);
      assert.ok(second, text);
      assert.deepEqual(tree(second), tree(first));
      assert.equal(serialize(second), text);
    }
  });

  // BUG (low severity): serialize writes \t \n \r in attribute values, and \r in text, literally;
  // XML attribute-value normalisation turns them into spaces and line-end handling turns \r into \n,
  // so such values change on the way to the recipient. Suggested fix: escape them as &#9; &#10; &#13;
  // in escapeAttr, and \r as &#13; in escapeText.
  it('preserves tabs, newlines and carriage returns through serialize → parse', () => {
    const el = xml('message', { id: 'a\tb\nc\rd' }, xml('body', null, 'line1\r\nline2\rline3'));
    const back = parseElement(serialize(el))!;
    assert.equal(back.attrs.id, 'a\tb\nc\rd');
    assert.equal(back.getChildText('body'), 'line1\r\nline2\rline3');
  });

  // Characters XML 1.0 cannot carry (NUL, C0 controls, U+FFFE, lone surrogates) are written as they
  // are, so a body that did not come through the parser (e.g. a future REST endpoint) would make the
  // recipient's stream not-well-formed. Either refuse (throw) or drop/replace them.
  it('never produces unparseable output from characters XML cannot carry', () => {
    for (const bad of ['a\u0000b', 'a\u0001b', 'a\u001bb', 'a\ufffeb', 'a\ud800b']) {
      for (const el of [xml('body', null, bad), xml('body', { id: bad })]) {
        let text: string;
        try {
          text = serialize(el);
        } catch {
          continue;
        }
        assert.ok(parseElement(text), `unparseable: ${JSON.stringify(text)}`);
      }
    }
  });
});

describe('Element', () => {
  it('resolves namespaces through ancestors and prefixes', () => {
    const root = xml('message', { xmlns: 'jabber:client', 'xmlns:x': 'urn:x' }, xml('body', null, 'hi'), xml('x:data', null, xml('x:item'), xml('plain')));
    const data = root.getChild('data', 'urn:x')!;
    assert.equal(root.getChild('body')!.namespace(), 'jabber:client');
    assert.equal(data.localName, 'data');
    assert.equal(data.getChild('item')!.namespace(), 'urn:x');
    assert.equal(data.getChild('plain')!.namespace(), 'jabber:client');
    assert.equal(root.getChild('data', 'jabber:client'), undefined);
    assert.ok(root.is('message', 'jabber:client'));
    assert.ok(!root.is('message', 'jabber:server'));
    assert.equal(new Element('a').namespace(), undefined);
  });

  it('builds, queries, clones and removes', () => {
    const msg = new Element('message', { to: 'a@b' });
    msg.c('body').t('hello').t(' world').up().c('thread').t('t1');
    msg.setAttr('id', 7).setAttr('to', null);
    assert.equal(msg.toString(), '<message id="7"><body>hello world</body><thread>t1</thread></message>');
    assert.equal(msg.getChildText('body'), 'hello world');
    assert.equal(msg.getChildText('missing'), undefined);
    assert.deepEqual(msg.getChildren().map((c) => c.name), ['body', 'thread']);
    assert.equal(msg.firstElement()?.name, 'body');
    const copy = msg.clone();
    copy.getChild('body')!.t('!');
    copy.attrs.id = '8';
    assert.equal(msg.toString(), '<message id="7"><body>hello world</body><thread>t1</thread></message>');
    assert.equal(copy.getChild('body')!.parent, copy);
    msg.remove(msg.getChild('thread')!);
    assert.equal(msg.toString(), '<message id="7"><body>hello world</body></message>');
    assert.equal(msg.up(), msg);
    const children: Node[] = xml('a', null, null, undefined, false, 'x', xml('b')).children;
    assert.equal(children.length, 2);
  });
});
