// Edge cases of the hand-written parser: tokens cut at every byte offset, quoting, references,
// normalization, CDATA, names, limits counted in characters, and a differential check against saxes.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SaxesParser } from 'saxes';
import { Element } from './element.js';
import { DEFAULT_LIMITS, NS_STREAM, parseElement, StreamParser, type ParseErrorCondition, type ParserLimits } from './stream-parser.js';

type Ev = ['start', string, string | undefined] | ['el', string] | ['end'] | ['err', ParseErrorCondition];

function run(chunks: (Buffer | string)[], limits: Partial<ParserLimits> = {}, framed = false): { events: Ev[]; elements: Element[] } {
  const events: Ev[] = [];
  const elements: Element[] = [];
  const parser = new StreamParser(
    {
      streamStart: (h, ns) => events.push(['start', h.toString(), ns]),
      element: (el) => (events.push(['el', el.toString()]), elements.push(el)),
      streamEnd: () => events.push(['end']),
      parseError: (c) => events.push(['err', c]),
    },
    { ...DEFAULT_LIMITS, ...limits },
    framed,
  );
  for (const chunk of chunks) parser.write(chunk);
  return { events, elements };
}

const HEADER = `<?xml version='1.0' encoding='UTF-8'?><stream:stream xmlns="jabber:client" xmlns:stream="${NS_STREAM}" to="example.com" version="1.0">`;

/** Asserts that cutting `input` into two pieces anywhere (and into single bytes) changes nothing. */
function assertSplitInvariant(input: string, limits: Partial<ParserLimits> = {}): Ev[] {
  const bytes = Buffer.from(input);
  const whole = run([bytes], limits).events;
  for (let i = 1; i < bytes.length; i++) {
    assert.deepEqual(run([bytes.subarray(0, i), bytes.subarray(i)], limits).events, whole, `split at byte ${i}`);
  }
  const single = Array.from({ length: bytes.length }, (_, i) => bytes.subarray(i, i + 1));
  assert.deepEqual(run(single, limits).events, whole, 'byte by byte');
  return whole;
}

describe('StreamParser: tokens cut by chunk boundaries', () => {
  it('gives the same events for every split of a stream using every kind of token', () => {
    const events = assertSplitInvariant(
      HEADER +
        ' \n<message to="ü@ñ/ø" id=\'a"b\' type="chat"><body>x &amp; y &#x1F600; &#233; &lt;3 é😀</body>' +
        '<data a=">" b="\'>\'"><![CDATA[ <raw> & ]] ]]]></data><çà:x xmlns:çà="urn:c"/></message>\r\n' +
        '<presence/><iq type="get" id="1"><ping xmlns="urn:xmpp:ping" /></iq ></stream:stream>',
    );
    assert.deepEqual(
      events.map((e) => e[0]),
      ['start', 'el', 'el', 'el', 'end'],
      JSON.stringify(events),
    );
    assert.equal(
      events[1]![1],
      `<message to="ü@ñ/ø" id="a&quot;b" type="chat" xmlns="jabber:client"><body>x &amp; y 😀 é &lt;3 é😀</body>` +
        `<data a="&gt;" b="&apos;&gt;&apos;"> &lt;raw&gt; &amp; ]] ]</data><çà:x xmlns:çà="urn:c"/></message>`,
    );
  });

  it('finds the same errors wherever the input is cut', () => {
    for (const [bad, condition] of [
      ['<message><body>a &amp b</body></message>', 'not-well-formed'],
      ['<message><body>a ]]> b</body></message>', 'not-well-formed'],
      ['<message a="1" a="2"/>', 'not-well-formed'],
      ['<message a="x<y"/>', 'not-well-formed'],
      ['<message><!-- c --></message>', 'restricted-xml'],
      ['<?pi x?>', 'restricted-xml'],
      ['<?xml version="1.0"?>', 'not-well-formed'],
      ['<message>\u0001</message>', 'not-well-formed'],
      ['<message>\uffff</message>', 'not-well-formed'],
      ['<message><café>x</cafe></message>', 'not-well-formed'],
    ] as const) {
      const events = assertSplitInvariant(HEADER + '<presence/>' + bad + '<presence/>');
      assert.deepEqual(events.at(-1), ['err', condition], bad);
      assert.equal(events.filter((e) => e[0] === 'err').length, 1, bad);
    }
  });

  it('keeps a text node whole when it arrives in many chunks', () => {
    const { elements } = run([HEADER + '<message><body>one ', 'two &am', 'p; thr', 'ee</body></message>']);
    assert.deepEqual(elements[0]!.getChild('body')!.children, ['one two & three']);
  });
});

describe('StreamParser: values and text', () => {
  const body = (xml: string): Element => parseElement(`<message>${xml}</message>`)!;

  it('reads both quote kinds, with the other quote and ">" inside', () => {
    const el = parseElement(`<a x='say "hi"' y="it's" z="a>b" w='>'/>`)!;
    assert.deepEqual({ ...el.attrs }, { x: 'say "hi"', y: "it's", z: 'a>b', w: '>', xmlns: 'jabber:client' });
  });

  it('resolves the five entities and decimal/hex character references, in text and attributes', () => {
    const el = body(`<b v="&lt;&gt;&amp;&quot;&apos;&#65;&#x42;&#x1f600;">&lt;&gt;&amp;&quot;&apos;&#65;&#x42;&#x1F600;</b>`);
    const b = el.getChild('b')!;
    assert.equal(b.attrs.v, `<>&"'AB😀`);
    assert.equal(b.text(), `<>&"'AB😀`);
    assert.equal(body('&#0000000000065;&#x00000000042;').text(), 'AB');
  });

  it('refuses malformed and forbidden references', () => {
    for (const ref of ['&;', '&#;', '&#x;', '&#xD800;', '&#1114112;', '&#x110000;', '&#-1;', '&#x 41;', '&AMP;', '&amp', '&#x0000000110000;']) {
      assert.equal(parseElement(`<a>${ref}</a>`), null, ref);
      assert.equal(parseElement(`<a v="${ref}"/>`), null, ref);
    }
  });

  it('normalizes line ends in text and whitespace in attribute values (XML 1.0 §2.11, §3.3.3)', () => {
    const el = body(`<b v="a\tb\nc\r\nd\re&#10;f&#9;">1\r\n2\r3\n4&#13;</b>`);
    assert.equal(el.getChild('b')!.attrs.v, 'a b c d e\nf\t');
    assert.equal(el.getChild('b')!.text(), '1\n2\n3\n4\r');
  });

  it('decodes long text and values (past the scratch space) the same way', () => {
    const unit = 'é&amp;😀\r\n&#x41;\t';
    const long = unit.repeat(4000); // ~60 KB
    const el = parseElement(`<a v="${long}">${long}</a>`)!;
    assert.equal(el.text(), 'é&😀\nA\t'.repeat(4000));
    assert.equal(el.attrs.v, 'é&😀 A '.repeat(4000));
    assert.equal(parseElement(`<a>${long}]]>${long}</a>`), null);
    assert.equal(parseElement(`<a>${long}\u0001</a>`), null);
    assert.equal(parseElement(`<a v="${long}&bad;"/>`), null);
    const plain = 'x'.repeat(40_000);
    for (const head of ['&amp;', 'é', '\r']) {
      assert.equal(parseElement(`<a>${head}${plain}</a>`)?.text(), (head === '&amp;' ? '&' : head === '\r' ? '\n' : head) + plain, head);
      assert.equal(parseElement(`<a v="${head}${plain}"/>`)?.attrs.v, (head === '&amp;' ? '&' : head === '\r' ? ' ' : head) + plain, head);
    }
  });

  it('treats CDATA as text, including "<", "&" and "]]" inside', () => {
    const el = body('<b>a<![CDATA[<x> & ]] ]>]]>b<![CDATA[]]></b>');
    assert.equal(el.getChild('b')!.text(), 'a<x> & ]] ]>b');
  });

  it('keeps attributes named like Object.prototype members', () => {
    const el = parseElement('<a constructor="1" __proto__="2" toString="3" hasOwnProperty="4"/>')!;
    assert.equal(el.attrs.constructor, '1');
    assert.equal(el.attrs.__proto__, '2');
    assert.equal(el.attrs.toString, '3');
    assert.equal(Object.getPrototypeOf(el.attrs), Object.prototype);
    assert.equal(el.toString(), '<a constructor="1" __proto__="2" toString="3" hasOwnProperty="4" xmlns="jabber:client"/>');
  });

  it('refuses duplicate attributes however many come first', () => {
    const many = Array.from({ length: 20 }, (_, i) => `a${i}="${i}"`).join(' ');
    assert.ok(parseElement(`<a ${many}/>`));
    assert.equal(parseElement(`<a ${many} a3="x"/>`), null);
    assert.equal(parseElement(`<a ${many} a19="x"/>`), null);
    assert.equal(parseElement(`<a b="1" ${many} b="2"/>`), null);
  });

  it('accepts non-ASCII names and refuses invalid ones', () => {
    assert.equal(parseElement('<café xmlns="urn:x"><ñ-1.x/></café>')?.toString(), '<café xmlns="urn:x"><ñ-1.x/></café>');
    for (const bad of ['<a\u00a0b/>', '<1a/>', '<a:/>', '<:a/>', '<a:b:c xmlns:a="urn:a"/>', '<·a/>', '<xmlns:a/>', '<a xmlns:b=""/>', '<a xmlns:xml="urn:x"/>']) {
      assert.equal(parseElement(bad), null, bad);
    }
  });

  it('refuses text that is not a string of XML characters', () => {
    assert.equal(parseElement('<a>\ud800</a>'), null);
    assert.equal(parseElement('<a>\ufffe</a>'), null);
    assert.equal(parseElement('<a v="\u0007"/>'), null);
    assert.ok(parseElement('<a>\u0085 \u2028 \ud83d\ude00</a>'));
  });
});

describe('StreamParser: limits with multi-byte text', () => {
  it('counts stanza size in characters, not bytes', () => {
    const open = '<message><body>';
    const close = '</body></message>';
    const limit = 1000;
    const fill = limit - open.length - close.length;
    const exact = open + 'ж'.repeat(fill) + close; // 2 bytes a character
    for (const chunk of [64, 1000, 5000]) {
      const bytes = Buffer.from(HEADER + exact + '<presence/>');
      const chunks = Array.from({ length: Math.ceil(bytes.length / chunk) }, (_, i) => bytes.subarray(i * chunk, (i + 1) * chunk));
      assert.deepEqual(run(chunks, { maxStanzaSize: limit }).events.map((e) => e[0]), ['start', 'el', 'el'], `chunks of ${chunk}`);
      const over = Buffer.from(HEADER + open + '😀'.repeat(fill / 2 + 1) + close);
      const events = run([over.subarray(0, 200), over.subarray(200)], { maxStanzaSize: limit }).events;
      assert.deepEqual(events.at(-1), ['err', 'policy-violation']);
    }
  });

  it('refuses an oversized stanza of multi-byte text arriving byte by byte, without quadratic work', () => {
    const bytes = Buffer.from(HEADER + '<message><body>' + '日本'.repeat(40_000));
    const start = performance.now();
    let errors = 0;
    const parser = new StreamParser({ streamStart() {}, element() {}, streamEnd() {}, parseError: () => errors++ }, DEFAULT_LIMITS);
    for (let i = 0; i < bytes.length; i += 7) parser.write(bytes.subarray(i, i + 7));
    assert.ok(performance.now() - start < 2000, `took ${(performance.now() - start).toFixed(0)} ms`);
    assert.equal(errors, 1);
  });

  it('does not rescan a long start tag arriving in small pieces', () => {
    const tag = '<message ' + Array.from({ length: 2000 }, (_, i) => `a${i}='>${i}>'`).join(' ') + '/>';
    const bytes = Buffer.from(HEADER + tag);
    const start = performance.now();
    const { events } = run(Array.from({ length: bytes.length }, (_, i) => bytes.subarray(i, i + 1)), { maxAttributes: 5000 });
    assert.deepEqual(events.map((e) => e[0]), ['start', 'el']);
    assert.ok(performance.now() - start < 2000, `took ${(performance.now() - start).toFixed(0)} ms`);
  });
});

describe('StreamParser: byte order mark', () => {
  it('accepts a UTF-8 byte order mark before the XML declaration or the stream header, and only there', () => {
    for (const start of [HEADER, HEADER.slice(HEADER.indexOf('?>') + 2)]) {
      const { events } = run([Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(start + '<presence/>')])]);
      assert.deepEqual(events.map((e) => e[0]), ['start', 'el'], start.slice(0, 20));
    }
    const late = run([HEADER + '\ufeff<presence/>']).events;
    assert.deepEqual(late.at(-1), ['err', 'bad-format']);
  });
});

describe('StreamParser: handlers', () => {
  it('reports a throwing handler as a parse error and stops', () => {
    const events: string[] = [];
    const parser = new StreamParser({
      streamStart() {},
      element(el) {
        events.push(el.name);
        if (el.name === 'boom') throw new Error('handler failed');
      },
      streamEnd() {},
      parseError: (c, t) => events.push(`${c}: ${t}`),
    });
    parser.write(HEADER + '<a/><boom/><b/>');
    parser.write('<c/>');
    assert.deepEqual(events, ['a', 'boom', 'not-well-formed: handler failed']);
  });

  it('stops at once when a handler calls stop(), with a cut-off token pending', () => {
    const names: string[] = [];
    const parser: StreamParser = new StreamParser({
      streamStart() {},
      element: (el) => (names.push(el.name), el.name === 'a' && parser.stop()),
      streamEnd() {},
      parseError: () => names.push('error'),
    });
    parser.write(HEADER + '<a/><b/><mess');
    parser.write('age/>');
    assert.deepEqual(names, ['a']);
  });

  it('starts the new document with the rest of the next chunk after a reset() in a handler', () => {
    const names: string[] = [];
    const parser: StreamParser = new StreamParser({
      streamStart: (h) => names.push(`start ${h.attrs.to}`),
      element: (el) => (names.push(el.name), el.name === 'success' && parser.reset()),
      streamEnd() {},
      parseError: (c) => names.push(c),
    });
    parser.write(HEADER + '<success/><ignored/><a b="');
    parser.write(HEADER.replace('example.com', 'two') + '<x/>');
    assert.deepEqual(names, ['start example.com', 'success', 'start two', 'x']);
  });
});

describe('StreamParser: agrees with saxes on well-formed input', () => {
  // mulberry32, as in the fuzz test.
  function rng(seed: number): () => number {
    return () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }
  const random = rng(7);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const NAMES = ['message', 'body', 'x', 'café', 'data-1', 'n.a_me', 'extraParams', 'save_to_history', 'ñ'];
  const ATTRS = ['to', 'id', 'type', 'url', 'ü', 'a-b', 'constructor'];
  const TEXTS = ['hi', ' ', 'привет', '😀', '&amp;', '&lt;', '&gt;', '&quot;', '&apos;', '&#x1F44D;', '&#233;', ']]', ']', '\n', '\r\n', '\t', 'a&#13;b', '"\''];
  const VALUES = [...TEXTS, '>'];

  function element(depth: number): string {
    const name = pick(NAMES);
    const attrs = new Set<string>();
    let out = '<' + name;
    for (let n = Math.floor(random() * 4); n > 0; n--) {
      const key = pick(ATTRS);
      if (attrs.has(key)) continue;
      attrs.add(key);
      const quote = random() < 0.5 ? '"' : "'";
      const value = Array.from({ length: Math.floor(random() * 4) }, () => pick(VALUES))
        .join('')
        .replaceAll(quote, quote === '"' ? '&quot;' : '&apos;');
      out += `${pick([' ', '\n', '  '])}${key}${pick(['=', ' = '])}${quote}${value}${quote}`;
    }
    if (random() < 0.3) return out + pick(['/>', ' />']);
    out += '>';
    for (let n = Math.floor(random() * 4); n > 0; n--) {
      const r = random();
      if (r < 0.4 && depth < 5) out += element(depth + 1);
      else if (r < 0.5) out += `<![CDATA[${pick(['<x>', '&amp;', ']]', ' ] ', 'ж'])}]]>`;
      else out += pick(TEXTS);
    }
    return out + `</${name}>`;
  }

  /** Element trees as saxes sees them: [name, attrs, children] with adjacent text merged. */
  function saxesTrees(input: string): unknown[] {
    const sax = new SaxesParser();
    const stack: [string, Record<string, string>, unknown[]][] = [];
    const out: unknown[] = [];
    const addText = (text: string): void => {
      const children = stack.at(-1)?.[2];
      if (!children) return;
      if (typeof children.at(-1) === 'string') children[children.length - 1] += text;
      else children.push(text);
    };
    sax.on('opentag', (tag) => {
      const node: [string, Record<string, string>, unknown[]] = [tag.name, { ...(tag.attributes as Record<string, string>) }, []];
      stack.at(-1)?.[2].push(node);
      stack.push(node);
    });
    sax.on('closetag', () => {
      const node = stack.pop()!;
      if (stack.length === 1) out.push(node);
    });
    sax.on('text', addText);
    sax.on('cdata', addText);
    sax.on('error', (err) => {
      throw err;
    });
    sax.write(input).close();
    return out;
  }

  function ourTree(el: Element): unknown {
    const children: unknown[] = [];
    for (const child of el.children) {
      if (typeof child !== 'string') children.push(ourTree(child));
      else if (typeof children.at(-1) === 'string') children[children.length - 1] += child;
      else children.push(child);
    }
    return [el.name, { ...el.attrs }, children];
  }

  it('builds the same trees from 300 random streams cut into random chunks', () => {
    for (let round = 0; round < 300; round++) {
      const stanzas = Array.from({ length: 1 + Math.floor(random() * 4) }, () => element(0));
      const doc = '<stream:stream xmlns:stream="urn:s">' + stanzas.join(pick(['', ' ', '\n'])) + '</stream:stream>';
      const expected = saxesTrees(doc);
      const bytes = Buffer.from(doc);
      const chunks: Buffer[] = [];
      for (let i = 0; i < bytes.length; ) {
        const n = 1 + Math.floor(random() * 20);
        chunks.push(bytes.subarray(i, i + n));
        i += n;
      }
      const { events, elements } = run(chunks);
      assert.deepEqual(events.filter((e) => e[0] === 'err'), [], doc);
      assert.deepEqual(elements.map(ourTree), expected, doc);
    }
  });
});
