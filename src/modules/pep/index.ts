// A minimal Personal Eventing Protocol service (XEP-0163) for each account's own nodes, enough for
// user avatars (XEP-0084), user nicknames (XEP-0172) and PEP bookmarks (XEP-0402):
// - publish (auto-creating the node; publish-options access_model and max_items), retract, items;
// - access models presence (default: the owner and contacts with a presence subscription to the
//   owner), open (any user of the application) and whitelist (the owner only);
// - notifications as headline messages to the owner's resources and entitled contacts' resources
//   that advertise "<node>+notify" in their caps (see caps.ts), and the last item of each node a
//   resource is interested in when its interest becomes known (after its presence).
import { randomBytes } from 'node:crypto';
import type { ModuleApi as Core, IqContext } from '../../core/api.js';
import type { C2sSession } from '../../core/api.js';
import type { PepAccessModel, PepItem, PepNode, PepStore } from '../../storage/account-data-types.js';
import type { RosterStore } from '../../storage/types.js';
import { Element, xml } from '../../xml/element.js';
import { parseElement } from '../../xml/stream-parser.js';
import { StanzaError } from '../../xmpp/errors.js';
import { Jid, parseUserLocal, userLocal, type UserAddress } from '../../xmpp/jid.js';
import { formValue, readForm } from '../../xmpp/data-form.js';
import { NotifyInterests } from './caps.js';

export const NS_PUBSUB = 'http://jabber.org/protocol/pubsub';
export const NS_PUBSUB_EVENT = 'http://jabber.org/protocol/pubsub#event';
const NS_PUBLISH_OPTIONS = 'http://jabber.org/protocol/pubsub#publish-options';
const MAX_ITEMS_CAP = 1000;
const MAX_NODE = 256;
const MAX_ITEM_ID = 256;
const ROSTER_LIMIT = 1000;

export function pepModule(core: Core, store: PepStore, rosters: RosterStore): void {
  const bareOf = (user: UserAddress): string => `${userLocal(user)}@${core.domain}`;

  const nodeName = (el: Element): string => {
    const node = el.attrs.node ?? '';
    if (!node || node.length > MAX_NODE) throw new StanzaError('bad-request', 'A node name is needed (at most 256 characters).', undefined, xml('nodeid-required', { xmlns: `${NS_PUBSUB}#errors` }));
    return node;
  };

  /** Whether `viewer` may read `owner`'s node. */
  async function mayRead(owner: UserAddress, node: PepNode, viewer: UserAddress): Promise<boolean> {
    if (owner.userId === viewer.userId) return true;
    if (owner.appId !== viewer.appId) return false;
    if (node.accessModel === 'open') return true;
    if (node.accessModel === 'whitelist') return false;
    const item = await rosters.getItem(owner.userId, bareOf(viewer));
    return item?.subscription === 'from' || item?.subscription === 'both';
  }

  const itemElement = (item: PepItem): Element => {
    const el = xml('item', { id: item.id });
    const payload = parseElement(item.payload);
    if (payload) el.append(payload);
    return el;
  };
  const event = (owner: UserAddress, to: string, items: Element): Element =>
    xml('message', { from: bareOf(owner), to, type: 'headline', id: `pep-${randomBytes(6).toString('hex')}` }, xml('event', { xmlns: NS_PUBSUB_EVENT }, items));

  /** Every resource entitled to and interested in the node's notifications. */
  async function audience(owner: UserAddress, node: PepNode): Promise<C2sSession[]> {
    const sessions = [...core.sessions.available(bareOf(owner))];
    if (node.accessModel !== 'whitelist') {
      const roster = await rosters.getRoster(owner.userId);
      for (const contact of roster.slice(0, ROSTER_LIMIT)) {
        if (contact.subscription !== 'from' && contact.subscription !== 'both') continue;
        sessions.push(...core.sessions.available(contact.jid));
      }
    }
    return sessions.filter((s) => interests.wants(s, node.node));
  }

  // Last items when a resource's interests become known: its own nodes and its contacts'.
  const interests = new NotifyInterests(core, (session, nodes) => {
    void (async () => {
      const viewer = session.user;
      if (!viewer || nodes.size === 0) return;
      const owners: UserAddress[] = [viewer];
      for (const contact of (await rosters.getRoster(viewer.userId)).slice(0, ROSTER_LIMIT)) {
        if (contact.subscription !== 'to' && contact.subscription !== 'both') continue;
        const owner = parseUserLocal(Jid.parse(contact.jid)?.local ?? '');
        if (owner && owner.appId === viewer.appId) owners.push(owner);
      }
      for (const owner of owners) {
        for (const node of await store.listNodes(owner.userId)) {
          if (!nodes.has(node.node) || !(await mayRead(owner, node, viewer))) continue;
          const [last] = await store.items(owner.userId, node.node, { max: 1 });
          if (last) session.send(event(owner, session.jid!.toString(), xml('items', { node: node.node }, itemElement(last))));
        }
      }
    })().catch((err: unknown) => core.log.warn({ err }, 'PEP last-item delivery failed'));
  });

  function options(pubsub: Element): Partial<Pick<PepNode, 'accessModel' | 'maxItems'>> {
    const form = readForm(pubsub.getChild('publish-options')?.getChild('x', 'jabber:x:data'), NS_PUBLISH_OPTIONS);
    const out: Partial<Pick<PepNode, 'accessModel' | 'maxItems'>> = {};
    const access = formValue(form, 'pubsub#access_model');
    if (access !== undefined) {
      if (!['open', 'presence', 'whitelist'].includes(access)) {
        throw new StanzaError('conflict', `Access model ${access} is not supported.`, undefined, xml('precondition-not-met', { xmlns: `${NS_PUBSUB}#errors` }));
      }
      out.accessModel = access as PepAccessModel;
    }
    const max = formValue(form, 'pubsub#max_items');
    if (max !== undefined) {
      if (max === 'max') out.maxItems = MAX_ITEMS_CAP;
      else if (/^\d{1,9}$/.test(max) && Number(max) > 0) out.maxItems = Math.min(Number(max), MAX_ITEMS_CAP);
      else throw new StanzaError('bad-request', 'pubsub#max_items must be a positive number or "max".');
    }
    return out;
  }

  async function publish(owner: UserAddress, pubsub: Element, el: Element): Promise<Element> {
    const nodeId = nodeName(el);
    const items = el.getChildren('item');
    if (items.length !== 1) throw new StanzaError('bad-request', 'Publish exactly one item.');
    const item = items[0]!;
    const payloads = item.getChildren();
    if (payloads.length !== 1) throw new StanzaError('bad-request', 'An item carries exactly one payload element.', undefined, xml('invalid-payload', { xmlns: `${NS_PUBSUB}#errors` }));
    const id = item.attrs.id || randomBytes(8).toString('hex');
    if (id.length > MAX_ITEM_ID) throw new StanzaError('bad-request', 'The item id is too long.');
    const wanted = options(pubsub);
    const existing = await store.getNode(owner.userId, nodeId);
    const node: PepNode = { node: nodeId, accessModel: wanted.accessModel ?? existing?.accessModel ?? 'presence', maxItems: wanted.maxItems ?? existing?.maxItems ?? 1 };
    if (!existing || existing.accessModel !== node.accessModel || existing.maxItems !== node.maxItems) await store.putNode(owner.userId, node);
    const stored: PepItem = { id, payload: payloads[0]!.toString(), publishedAt: new Date() };
    await store.publish(owner.userId, nodeId, stored);
    for (const s of await audience(owner, node)) s.send(event(owner, s.jid!.toString(), xml('items', { node: nodeId }, itemElement(stored))));
    return xml('pubsub', { xmlns: NS_PUBSUB }, xml('publish', { node: nodeId }, xml('item', { id })));
  }

  async function retract(owner: UserAddress, el: Element): Promise<null> {
    const nodeId = nodeName(el);
    const ids = el.getChildren('item').map((i) => i.attrs.id).filter((id): id is string => !!id);
    if (ids.length !== 1) throw new StanzaError('bad-request', 'Retract exactly one item by id.', undefined, xml('item-required', { xmlns: `${NS_PUBSUB}#errors` }));
    const node = await store.getNode(owner.userId, nodeId);
    if (!node) throw new StanzaError('item-not-found', 'No such node.');
    if (!(await store.retract(owner.userId, nodeId, ids[0]!))) throw new StanzaError('item-not-found', 'No such item.');
    if (el.attrs.notify === 'true' || el.attrs.notify === '1') {
      for (const s of await audience(owner, node)) s.send(event(owner, s.jid!.toString(), xml('items', { node: nodeId }, xml('retract', { id: ids[0]! }))));
    }
    return null;
  }

  const ownerOf = (ctx: IqContext): UserAddress => {
    const owner = parseUserLocal(ctx.to.local);
    if (!owner) throw new StanzaError('item-not-found');
    return owner;
  };

  core.handleIq({
    scope: 'account',
    xmlns: NS_PUBSUB,
    name: 'pubsub',
    set: async (ctx) => {
      const owner = ownerOf(ctx);
      if (ctx.from.bare !== ctx.to.bare || !ctx.session?.user) throw new StanzaError('forbidden', "Only the owner publishes to an account's nodes.");
      const children = ctx.payload.getChildren().filter((c) => c.localName !== 'publish-options');
      if (children.length !== 1) throw new StanzaError('bad-request', 'One pubsub operation at a time.');
      const op = children[0]!;
      if (op.localName === 'publish') return publish(owner, ctx.payload, op);
      if (op.localName === 'retract') return retract(owner, op);
      throw new StanzaError('feature-not-implemented', `<${op.localName}/> is not supported by this PEP service.`, undefined,
        xml('unsupported', { xmlns: `${NS_PUBSUB}#errors`, feature: op.localName }));
    },
    get: async (ctx) => {
      const owner = ownerOf(ctx);
      const viewer = ctx.session?.user ?? parseUserLocal(ctx.from.local);
      const children = ctx.payload.getChildren();
      if (children.length !== 1 || children[0]!.localName !== 'items') {
        throw new StanzaError('feature-not-implemented', 'Only items can be retrieved.', undefined, xml('unsupported', { xmlns: `${NS_PUBSUB}#errors`, feature: 'retrieve-items' }));
      }
      const el = children[0]!;
      const nodeId = nodeName(el);
      const node = await store.getNode(owner.userId, nodeId);
      if (!node) throw new StanzaError('item-not-found', 'No such node.');
      if (!viewer || !(await mayRead(owner, node, viewer))) {
        throw new StanzaError('not-authorized', 'You may not read this node.', 'auth', xml(node.accessModel === 'presence' ? 'presence-subscription-required' : 'closed-node', { xmlns: `${NS_PUBSUB}#errors` }));
      }
      const ids = el.getChildren('item').map((i) => i.attrs.id).filter((id): id is string => !!id);
      const maxText = el.attrs.max_items;
      const max = maxText && /^\d{1,6}$/.test(maxText) ? Number(maxText) : undefined;
      const items = await store.items(owner.userId, nodeId, { ids: ids.length > 0 ? ids : undefined, max });
      // Oldest first, as a node's items are listed.
      return xml('pubsub', { xmlns: NS_PUBSUB }, xml('items', { node: nodeId }, ...items.reverse().map(itemElement)));
    },
  });

  core.on('disco/account-info', 'pep', ({ query }) => {
    query.children.unshift(xml('identity', { category: 'pubsub', type: 'pep' }));
    for (const f of ['', '#publish', '#auto-create', '#publish-options', '#retrieve-items', '#retract-items', '#access-presence', '#access-open', '#access-whitelist', '#last-published']) {
      query.append(xml('feature', { var: `${NS_PUBSUB}${f}` }));
    }
    return undefined;
  });
}
