// The owner form (XEP-0045 §10.1.3, FORM_TYPE muc#roomconfig): the configuration as a form, and a
// submitted form read into a configuration, every value bounded.
import { buildForm, readForm } from '../../xmpp/data-form.js';
import { StanzaError } from '../../xmpp/errors.js';
import type { Element } from '../../xml/element.js';
import { DESCRIPTION_MAX, HISTORY_MAX, OCCUPANTS_MAX, PASSWORD_MAX, TITLE_MAX } from './limits.js';
import type { RoomConfig } from './store.js';

const FORM_TYPE = 'http://jabber.org/protocol/muc#roomconfig';
const F = 'muc#roomconfig_';

export function defaultConfig(title: string): RoomConfig {
  return {
    title, description: '', persistent: true, public: true, membersOnly: false, moderated: false,
    password: '', historyLength: 20, maxUsers: OCCUPANTS_MAX, changeSubject: false,
  };
}

const bool = (b: boolean): string[] => [b ? '1' : '0'];

export function configForm(config: RoomConfig): Element {
  return buildForm('form', [
    { var: 'FORM_TYPE', type: 'hidden', values: [FORM_TYPE] },
    { var: `${F}roomname`, type: 'text-single', label: 'Room name', values: [config.title] },
    { var: `${F}roomdesc`, type: 'text-single', label: 'Description', values: [config.description] },
    { var: `${F}persistentroom`, type: 'boolean', label: 'Persistent (kept when the last occupant leaves)', values: bool(config.persistent) },
    { var: `${F}publicroom`, type: 'boolean', label: 'Listed in the room directory', values: bool(config.public) },
    { var: `${F}membersonly`, type: 'boolean', label: 'Members only', values: bool(config.membersOnly) },
    { var: `${F}moderatedroom`, type: 'boolean', label: 'Moderated (visitors cannot speak)', values: bool(config.moderated) },
    { var: `${F}changesubject`, type: 'boolean', label: 'Participants may change the subject', values: bool(config.changeSubject) },
    { var: `${F}passwordprotectedroom`, type: 'boolean', label: 'Password protected', values: bool(config.password !== '') },
    { var: `${F}roomsecret`, type: 'text-private', label: 'Password', values: [config.password] },
    { var: `${F}historylength`, type: 'text-single', label: `Messages sent on join (0-${HISTORY_MAX})`, values: [String(config.historyLength)] },
    { var: `${F}maxusers`, type: 'text-single', label: `Occupants at most (1-${OCCUPANTS_MAX})`, values: [String(config.maxUsers)] },
    { var: `${F}whois`, type: 'list-single', label: 'Real JIDs visible to', values: ['anyone'], options: [{ label: 'Anyone', value: 'anyone' }] },
  ], { title: 'Room configuration' });
}

function parseBool(value: string | undefined, field: string): boolean | undefined {
  if (value === undefined) return undefined;
  if (value === '1' || value === 'true') return true;
  if (value === '0' || value === 'false') return false;
  throw new StanzaError('not-acceptable', `${field} must be a boolean.`);
}

function parseCount(value: string | undefined, field: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = /^\s*\d{1,6}\s*$/.test(value) ? Number(value) : Number.NaN;
  if (!(n >= min && n <= max)) throw new StanzaError('not-acceptable', `${field} must be between ${min} and ${max}.`);
  return n;
}

function parseText(value: string | undefined, field: string, max: number): string | undefined {
  if (value === undefined) return undefined;
  if (value.length > max) throw new StanzaError('not-acceptable', `${field} is longer than ${max} characters.`);
  return value;
}

/** The configuration after a submitted form (fields left out keep their value). */
export function applyForm(config: RoomConfig, x: Element): RoomConfig {
  const form = readForm(x, FORM_TYPE);
  const v = (name: string): string | undefined => form.get(`${F}${name}`)?.[0];
  const next: RoomConfig = { ...config };
  const title = parseText(v('roomname'), 'roomname', TITLE_MAX);
  if (title !== undefined) {
    if (title.trim() === '') throw new StanzaError('not-acceptable', 'roomname cannot be blank.');
    next.title = title;
  }
  next.description = parseText(v('roomdesc'), 'roomdesc', DESCRIPTION_MAX) ?? next.description;
  next.persistent = parseBool(v('persistentroom'), 'persistentroom') ?? next.persistent;
  next.public = parseBool(v('publicroom'), 'publicroom') ?? next.public;
  next.membersOnly = parseBool(v('membersonly'), 'membersonly') ?? next.membersOnly;
  next.moderated = parseBool(v('moderatedroom'), 'moderatedroom') ?? next.moderated;
  next.changeSubject = parseBool(v('changesubject'), 'changesubject') ?? next.changeSubject;
  next.historyLength = parseCount(v('historylength'), 'historylength', 0, HISTORY_MAX) ?? next.historyLength;
  next.maxUsers = parseCount(v('maxusers'), 'maxusers', 1, OCCUPANTS_MAX) ?? next.maxUsers;
  const whois = v('whois');
  if (whois !== undefined && whois !== 'anyone') throw new StanzaError('not-acceptable', 'Rooms are non-anonymous: whois is anyone.');
  const secret = parseText(v('roomsecret'), 'roomsecret', PASSWORD_MAX);
  const protectedRoom = parseBool(v('passwordprotectedroom'), 'passwordprotectedroom');
  if (protectedRoom === false) next.password = '';
  else if (secret !== undefined) next.password = secret;
  if (protectedRoom === true && next.password === '') throw new StanzaError('not-acceptable', 'A password protected room needs roomsecret.');
  return next;
}
