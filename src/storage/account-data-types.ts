// Small documents accounts and applications keep on the server for standard XMPP features:
// key-value data (vCard-temp, private XML storage, application settings) and PEP nodes with items.

/** Whose data: a user (by user id, unique per installation) or an application (by app id). */
export type DataScope = 'user' | 'app';

export interface KeyValueStore {
  get(scope: DataScope, owner: number, key: string): Promise<string | null>;
  /** Stores the value; null removes the key. */
  set(scope: DataScope, owner: number, key: string, value: string | null): Promise<void>;
  /** The owner's keys that start with `prefix`, sorted. */
  keys(scope: DataScope, owner: number, prefix: string): Promise<string[]>;
}

export type PepAccessModel = 'presence' | 'open' | 'whitelist';

export interface PepNode {
  node: string;
  accessModel: PepAccessModel;
  /** Items kept; publishing past it drops the oldest. */
  maxItems: number;
}

export interface PepItem {
  id: string;
  /** The serialized payload element. */
  payload: string;
  publishedAt: Date;
}

/** A user's own PEP (XEP-0163) nodes. */
export interface PepStore {
  getNode(userId: number, node: string): Promise<PepNode | null>;
  /** Sorted by node name. */
  listNodes(userId: number): Promise<PepNode[]>;
  /** Creates the node or replaces its configuration (items beyond a lower maxItems are dropped). */
  putNode(userId: number, node: PepNode): Promise<void>;
  /** Removes the node with its items; false when there was none. */
  deleteNode(userId: number, node: string): Promise<boolean>;
  /** Stores the item (replacing one with the same id, which becomes the newest); the node must exist. */
  publish(userId: number, node: string, item: PepItem): Promise<void>;
  /** Newest first; `ids` picks items, `max` caps the count. */
  items(userId: number, node: string, opts?: { ids?: string[]; max?: number }): Promise<PepItem[]>;
  retract(userId: number, node: string, itemId: string): Promise<boolean>;
}
