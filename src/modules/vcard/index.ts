// vCard-temp (XEP-0054) and vCard-based avatars (XEP-0153). A user's vCard is one stored document
// (key-value store, key "vcard"); any user of the same application may read it (routing keeps
// applications apart), only its owner may replace it. The SHA-1 of the vCard's PHOTO is announced
// in the owner's broadcast presence as `<x xmlns="vcard-temp:x:update"><photo>…</photo></x>`.
import { createHash } from 'node:crypto';
import type { ModuleApi as Core, RouteContext } from '../../core/api.js';
import type { KeyValueStore } from '../../storage/account-data-types.js';
import { Element, xml } from '../../xml/element.js';
import { parseElement } from '../../xml/stream-parser.js';
import { StanzaError } from '../../xmpp/errors.js';
import { parseUserLocal } from '../../xmpp/jid.js';

export const NS_VCARD = 'vcard-temp';
export const NS_VCARD_UPDATE = 'vcard-temp:x:update';
const KEY = 'vcard';
const PHOTO_KEY = 'vcard-photo';
const CACHE_LIMIT = 50_000;

export function vcardModule(core: Core, store: KeyValueStore): void {
  /** Photo hashes by user id ('' = no photo), so a presence does not wait for the store. */
  const photos = new Map<number, string>();
  const photoHash = async (userId: number): Promise<string> => {
    const known = photos.get(userId);
    if (known !== undefined) return known;
    const hash = (await store.get('user', userId, PHOTO_KEY)) ?? '';
    if (photos.size >= CACHE_LIMIT) photos.clear();
    photos.set(userId, hash);
    return hash;
  };

  core.addDiscoFeature(NS_VCARD);
  core.handleIq({
    scope: 'account',
    xmlns: NS_VCARD,
    name: 'vCard',
    get: async ({ to }) => {
      const owner = parseUserLocal(to.local);
      if (!owner) throw new StanzaError('item-not-found');
      const stored = await store.get('user', owner.userId, KEY);
      return (stored ? parseElement(stored) : null) ?? xml('vCard', { xmlns: NS_VCARD });
    },
    set: async ({ payload, from, to, session }) => {
      if (from.bare !== to.bare || !session?.user) throw new StanzaError('forbidden', "Only the owner may change a vCard.");
      const userId = session.user.userId;
      const card = new Element('vCard', { xmlns: NS_VCARD }, payload.children.map((c) => (typeof c === 'string' ? c : c.clone())));
      const empty = card.getChildren().length === 0;
      await store.set('user', userId, KEY, empty ? null : card.toString());
      const binval = payload.getChild('PHOTO')?.getChildText('BINVAL')?.replace(/\s+/g, '');
      const hash = binval ? createHash('sha1').update(Buffer.from(binval, 'base64')).digest('hex') : '';
      await store.set('user', userId, PHOTO_KEY, hash || null);
      photos.set(userId, hash);
      return null;
    },
  });

  // XEP-0153: the server puts the photo hash into presences the client did not mark itself.
  core.on('presence/broadcast', 'vcard-avatar', async ({ stanza, origin }: RouteContext) => {
    if (!origin?.user || stanza.attrs.type !== undefined || stanza.getChild('x', NS_VCARD_UPDATE)) return undefined;
    const hash = await photoHash(origin.user.userId);
    stanza.append(xml('x', { xmlns: NS_VCARD_UPDATE }, xml('photo', null, hash)));
    return undefined;
  });
}
