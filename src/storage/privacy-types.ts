// Privacy lists (XEP-0016).
/** One rule of a privacy list (XEP-0016). */
export interface PrivacyItem {
  /** No type: the item matches every sender. */
  type: 'jid' | 'group' | 'subscription' | null;
  value: string | null;
  action: 'allow' | 'deny';
  /** Unique within a list; lower first. */
  order: number;
  /** The stanza kinds the item applies to; empty means all of them (and outgoing messages and IQs too). */
  stanzas: ('message' | 'iq' | 'presence-in' | 'presence-out')[];
}

export interface PrivacyList {
  name: string;
  /** Sorted by order. */
  items: PrivacyItem[];
}

export interface PrivacyStore {
  /** Names of the user's lists, sorted. */
  listNames(userId: number): Promise<string[]>;
  getList(userId: number, name: string): Promise<PrivacyList | null>;
  /** Creates or replaces a list (its items sorted by order); a default list stays the default. */
  setList(userId: number, list: PrivacyList): Promise<void>;
  /** False when there was no such list; removing the default list leaves the user without one. */
  removeList(userId: number, name: string): Promise<boolean>;
  getDefault(userId: number): Promise<PrivacyList | null>;
  /** Makes an existing list the default (null: no default); false when there is no such list. */
  setDefault(userId: number, name: string | null): Promise<boolean>;
}
