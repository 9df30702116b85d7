// Ad-hoc commands (XEP-0050) on the server, with two operator commands of XEP-0133: announce
// (a headline message to every online resource, of every application) and list online users.
// Operators are the bare JIDs listed in the `operator_jids` configuration key; to anyone else the
// command list is empty and executing is forbidden.
import { randomBytes } from 'node:crypto';
import type { ModuleApi as Core, IqContext } from '../../core/api.js';
import { Element, xml } from '../../xml/element.js';
import { StanzaError } from '../../xmpp/errors.js';
import { Jid } from '../../xmpp/jid.js';
import { buildForm, formValue, readForm } from '../../xmpp/data-form.js';

export const NS_COMMANDS = 'http://jabber.org/protocol/commands';
const NS_ADMIN = 'http://jabber.org/protocol/admin';
export const ANNOUNCE = `${NS_ADMIN}#announce`;
export const ONLINE_USERS = `${NS_ADMIN}#get-online-users-list`;
const COMMANDS: Record<string, string> = { [ANNOUNCE]: 'Send announcement to online users', [ONLINE_USERS]: 'Get list of online users' };
const MAX_LISTED = 1000;
const MAX_SESSIONS = 1000;
const SESSION_MS = 600_000;
const MAX_BODY = 8192;

export function parseOperators(text: string | null): Set<string> {
  const out = new Set<string>();
  for (const part of (text ?? '').split(',')) {
    const jid = Jid.parse(part.trim());
    if (jid) out.add(jid.bare);
  }
  return out;
}

export function adhocModule(core: Core, operatorJids: string | null): void {
  const operators = parseOperators(operatorJids);
  /** Open multi-stage sessions (announce's form) by session id: who opened it and until when. */
  const open = new Map<string, { owner: string; node: string; until: number }>();
  const isOperator = (jid: Jid): boolean => operators.has(jid.bare);

  const command = (node: string, sessionid: string, status: 'executing' | 'completed' | 'canceled', ...children: Element[]): Element =>
    xml('command', { xmlns: NS_COMMANDS, node, sessionid, status }, ...children);
  const note = (text: string): Element => xml('note', { type: 'info' }, text);

  function announce(ctx: IqContext, el: Element, sessionid: string): Element {
    if (el.attrs.action === undefined || el.attrs.action === 'execute') {
      if (!el.getChild('x', 'jabber:x:data')) {
        const id = randomBytes(8).toString('hex');
        if (open.size >= MAX_SESSIONS) for (const [k, v] of open) if (v.until < Date.now()) open.delete(k);
        if (open.size >= MAX_SESSIONS) throw new StanzaError('resource-constraint', 'Too many open command sessions.', 'wait');
        open.set(id, { owner: ctx.from.toString(), node: ANNOUNCE, until: Date.now() + SESSION_MS });
        return command(ANNOUNCE, id, 'executing', xml('actions', { execute: 'complete' }, xml('complete')),
          buildForm('form', [
            { var: 'FORM_TYPE', type: 'hidden', values: [NS_ADMIN] },
            { var: 'subject', type: 'text-single', label: 'Subject' },
            { var: 'body', type: 'text-multi', label: 'Announcement' },
          ], { title: 'Announcement to online users' }));
      }
    }
    const form = readForm(el.getChild('x', 'jabber:x:data'), NS_ADMIN);
    const body = (form.get('body') ?? []).join('\n');
    if (!body.trim()) throw new StanzaError('bad-request', 'The announcement needs a body.');
    if (body.length > MAX_BODY) throw new StanzaError('policy-violation', `At most ${MAX_BODY} characters.`);
    const subject = formValue(form, 'subject');
    let sent = 0;
    for (const session of core.sessions.connections()) {
      if (!session.jid || !session.available) continue;
      session.send(xml('message', { from: core.domain, to: session.jid.toString(), type: 'headline', id: `announce-${sessionid}-${++sent}` },
        subject ? xml('subject', null, subject) : null, xml('body', null, body)));
    }
    open.delete(sessionid);
    return command(ANNOUNCE, sessionid, 'completed', note(`Sent to ${sent} online resources.`));
  }

  function onlineUsers(sessionid: string): Element {
    const users = new Set<string>();
    for (const session of core.sessions.connections()) {
      if (session.jid) users.add(session.jid.bare);
      if (users.size >= MAX_LISTED) break;
    }
    return command(ONLINE_USERS, sessionid, 'completed', buildForm('result', [
      { var: 'FORM_TYPE', type: 'hidden', values: [NS_ADMIN] },
      { var: 'onlineuserjids', type: 'jid-multi', label: 'The list of all online users', values: [...users].sort() },
    ]));
  }

  core.addDiscoFeature(NS_COMMANDS);
  core.on('disco/node-items', 'commands', ({ node, from, query }) => {
    if (node !== NS_COMMANDS) return undefined;
    if (isOperator(from)) for (const [n, name] of Object.entries(COMMANDS)) query.append(xml('item', { jid: core.domain, node: n, name }));
    return true;
  });
  core.on('disco/node-info', 'commands', ({ node, from, query }) => {
    if (!(node in COMMANDS) || !isOperator(from)) return undefined;
    query.append(xml('identity', { category: 'automation', type: 'command-node', name: COMMANDS[node]! }));
    query.append(xml('feature', { var: NS_COMMANDS }));
    query.append(xml('feature', { var: 'jabber:x:data' }));
    return true;
  });

  core.handleIq({
    scope: 'host',
    xmlns: NS_COMMANDS,
    name: 'command',
    set: (ctx) => {
      const el = ctx.payload;
      const node = el.attrs.node ?? '';
      if (!(node in COMMANDS)) throw new StanzaError('item-not-found', 'No such command.');
      if (!isOperator(ctx.from)) throw new StanzaError('forbidden', 'Only operators may run this command.');
      const action = el.attrs.action;
      let sessionid = el.attrs.sessionid ?? '';
      if (sessionid) {
        const known = open.get(sessionid);
        if (!known || known.owner !== ctx.from.toString() || known.node !== node || known.until < Date.now()) {
          open.delete(sessionid);
          throw new StanzaError('bad-request', 'Unknown or expired command session.', undefined, xml('bad-sessionid', { xmlns: NS_COMMANDS }));
        }
      } else sessionid = randomBytes(8).toString('hex');
      if (action === 'cancel') {
        open.delete(sessionid);
        return command(node, sessionid, 'canceled');
      }
      if (action !== undefined && !['execute', 'complete'].includes(action)) {
        throw new StanzaError('bad-request', `Action ${action} is not offered.`, undefined, xml('bad-action', { xmlns: NS_COMMANDS }));
      }
      return node === ANNOUNCE ? announce(ctx, el, sessionid) : onlineUsers(sessionid);
    },
  });
}
