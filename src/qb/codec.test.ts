import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseElement } from '../xml/stream-parser.js';
import type { ChatMessage } from '../storage/types.js';
import { compact, parseExtraParams, storedMessagePayload, systemNotificationPayload } from './index.js';

const el = (text: string) => parseElement(text)!;

describe('the QuickBlox stanza codec', () => {
  it('compacts whitespace between elements but keeps text and XHTML-IM spacing', () => {
    const m = el('<message>\n <body>  two  spaces </body>\n <html xmlns="http://jabber.org/protocol/xhtml-im"><b>a</b> <i>b</i></html>\n</message>');
    assert.equal(compact(m).toString(), '<message xmlns="jabber:client"><body>  two  spaces </body><html xmlns="http://jabber.org/protocol/xhtml-im"><b>a</b> <i>b</i></html></message>');
  });

  it('reads attachments with every attribute, custom fields (nested as objects), and never forgeable fields', () => {
    const extra = el('<extraParams xmlns="jabber:client"><save_to_history>1</save_to_history><sender_id>9</sender_id><read>1</read>' +
      '<attachment type="image" id="1" content-type="image/png"/><a>x</a><a>second</a><geo><lat>1</lat><lng>2</lng></geo></extraParams>');
    assert.deepEqual(parseExtraParams(extra, new Set(['save_to_history'])), {
      attachments: [{ type: 'image', id: '1', 'content-type': 'image/png' }],
      custom: { a: 'x', geo: { lat: '1', lng: '2' } },
    });
  });

  it('writes stored messages in the receive format, leaving out names the SDK would misread or XML cannot carry', () => {
    const record: ChatMessage = {
      id: '5f0000000000000000000001', appId: 1, dialogId: '5f00000000000000000000aa', senderId: 1, recipientId: 2, body: 'hi <there>',
      dateSent: 1409146118, attachments: [{ type: 'file', size: 10, 'bad name': 'x' }], markable: false, readIds: [1], deliveredIds: [1],
      customParams: { ok: 'yes', n: 5, flag: false, obj: { k: 1 }, 'with space': 'no', received: 'no', body: 'no', xmlish: 'no', sender_id: 7 },
      createdAt: new Date(0), updatedAt: new Date(0),
    };
    assert.equal(storedMessagePayload(record).map(String).join(''),
      '<body>hi &lt;there&gt;</body><extraParams xmlns="jabber:client"><save_to_history>1</save_to_history><date_sent>1409146118</date_sent>' +
      '<dialog_id>5f00000000000000000000aa</dialog_id><attachment type="file" size="10"/><ok>yes</ok><n>5</n><flag>false</flag><obj>{"k":1}</obj></extraParams>');
    assert.equal(systemNotificationPayload('', { action: 'go' }).map(String).join(''),
      '<extraParams xmlns="jabber:client"><moduleIdentifier>SystemNotifications</moduleIdentifier><action>go</action></extraParams>');
  });

  it('writes a room replay with the same payload as a 1-1 delivery: reserved names and API parameters never appear', async () => {
    const { storedGroupchat } = await import('./index.js');
    const record: ChatMessage = {
      id: '5f0000000000000000000002', appId: 1, dialogId: '5f00000000000000000000ab', senderId: 3, recipientId: 0, body: 'hello',
      dateSent: 1409146118, attachments: [], markable: true, readIds: [], deliveredIds: [],
      customParams: { body: 'x', delay: 'y', token: 'secret', mood: 'ok' }, createdAt: new Date(0), updatedAt: new Date(0),
    };
    const room = storedGroupchat('1_abc@muc.localhost', record);
    assert.equal(room.attrs.from, '1_abc@muc.localhost/3');
    assert.equal(room.attrs.type, 'groupchat');
    assert.deepEqual(room.children.map(String), storedMessagePayload(record).map(String));
    const extra = room.getChild('extraParams')!;
    assert.deepEqual(extra.getChildren().map((c) => c.localName), ['save_to_history', 'date_sent', 'dialog_id', 'mood']);
  });
});

