import type Database from 'better-sqlite3';
import type { DataScope, KeyValueStore, PepItem, PepNode, PepStore } from '../account-data-types.js';

interface NodeRow {
  node: string;
  access_model: string;
  max_items: number;
}

interface ItemRow {
  item_id: string;
  payload: string;
  published_at: number;
}

const toNode = (r: NodeRow): PepNode => ({ node: r.node, accessModel: r.access_model as PepNode['accessModel'], maxItems: r.max_items });
const toItem = (r: ItemRow): PepItem => ({ id: r.item_id, payload: r.payload, publishedAt: new Date(r.published_at) });
/** LIKE with `prefix` taken literally. */
const likePrefix = (prefix: string): string => `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

export class SqliteKeyValueStore implements KeyValueStore {
  private readonly s;

  constructor(db: Database.Database) {
    this.s = {
      get: db.prepare<[string, number, string], string>('SELECT value FROM kv_data WHERE scope = ? AND owner = ? AND key = ?').pluck(),
      put: db.prepare<[string, number, string, string, number]>(`INSERT INTO kv_data (scope, owner, key, value, updated_at) VALUES (?, ?, ?, ?, ?)
        ON CONFLICT (scope, owner, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`),
      remove: db.prepare<[string, number, string]>('DELETE FROM kv_data WHERE scope = ? AND owner = ? AND key = ?'),
      keys: db.prepare<[string, number, string], string>(
        "SELECT key FROM kv_data WHERE scope = ? AND owner = ? AND key LIKE ? ESCAPE '\\' ORDER BY key").pluck(),
    };
  }

  async get(scope: DataScope, owner: number, key: string): Promise<string | null> {
    return this.s.get.get(scope, owner, key) ?? null;
  }

  async set(scope: DataScope, owner: number, key: string, value: string | null): Promise<void> {
    if (value === null) this.s.remove.run(scope, owner, key);
    else this.s.put.run(scope, owner, key, value, Date.now());
  }

  async keys(scope: DataScope, owner: number, prefix: string): Promise<string[]> {
    return this.s.keys.all(scope, owner, likePrefix(prefix));
  }
}

export class SqlitePepStore implements PepStore {
  private readonly s;
  private readonly putNodeTx: (userId: number, node: PepNode) => void;
  private readonly publishTx: (userId: number, node: string, item: PepItem) => void;

  constructor(db: Database.Database) {
    this.s = {
      node: db.prepare<[number, string], NodeRow>('SELECT node, access_model, max_items FROM pep_nodes WHERE user_id = ? AND node = ?'),
      nodes: db.prepare<[number], NodeRow>('SELECT node, access_model, max_items FROM pep_nodes WHERE user_id = ? ORDER BY node'),
      putNode: db.prepare<[number, string, string, number]>(`INSERT INTO pep_nodes (user_id, node, access_model, max_items) VALUES (?, ?, ?, ?)
        ON CONFLICT (user_id, node) DO UPDATE SET access_model = excluded.access_model, max_items = excluded.max_items`),
      deleteNode: db.prepare<[number, string]>('DELETE FROM pep_nodes WHERE user_id = ? AND node = ?'),
      deleteItems: db.prepare<[number, string]>('DELETE FROM pep_items WHERE user_id = ? AND node = ?'),
      removeItem: db.prepare<[number, string, string]>('DELETE FROM pep_items WHERE user_id = ? AND node = ? AND item_id = ?'),
      insertItem: db.prepare<[number, string, string, string, number]>(
        'INSERT INTO pep_items (user_id, node, item_id, payload, published_at) VALUES (?, ?, ?, ?, ?)'),
      trim: db.prepare<[number, string, number, string, number]>(`DELETE FROM pep_items WHERE user_id = ? AND node = ? AND rowid NOT IN
        (SELECT rowid FROM pep_items WHERE user_id = ? AND node = ? ORDER BY rowid DESC LIMIT +?)`),
      items: db.prepare<[number, string, number], ItemRow>(
        'SELECT item_id, payload, published_at FROM pep_items WHERE user_id = ? AND node = ? ORDER BY rowid DESC LIMIT +?'),
    };
    this.putNodeTx = db.transaction((userId: number, node: PepNode) => {
      this.s.putNode.run(userId, node.node, node.accessModel, node.maxItems);
      this.s.trim.run(userId, node.node, userId, node.node, node.maxItems);
    });
    this.publishTx = db.transaction((userId: number, node: string, item: PepItem) => {
      const config = this.s.node.get(userId, node);
      if (!config) throw new Error(`no PEP node ${node}`);
      this.s.removeItem.run(userId, node, item.id);
      this.s.insertItem.run(userId, node, item.id, item.payload, item.publishedAt.getTime());
      this.s.trim.run(userId, node, userId, node, config.max_items);
    });
  }

  async getNode(userId: number, node: string): Promise<PepNode | null> {
    const row = this.s.node.get(userId, node);
    return row ? toNode(row) : null;
  }

  async listNodes(userId: number): Promise<PepNode[]> {
    return this.s.nodes.all(userId).map(toNode);
  }

  async putNode(userId: number, node: PepNode): Promise<void> {
    this.putNodeTx(userId, node);
  }

  async deleteNode(userId: number, node: string): Promise<boolean> {
    this.s.deleteItems.run(userId, node);
    return this.s.deleteNode.run(userId, node).changes > 0;
  }

  async publish(userId: number, node: string, item: PepItem): Promise<void> {
    this.publishTx(userId, node, item);
  }

  async items(userId: number, node: string, opts: { ids?: string[]; max?: number } = {}): Promise<PepItem[]> {
    let rows = this.s.items.all(userId, node, opts.ids ? -1 : opts.max ?? -1);
    if (opts.ids) rows = rows.filter((r) => opts.ids!.includes(r.item_id)).slice(0, opts.max ?? rows.length);
    return rows.map(toItem);
  }

  async retract(userId: number, node: string, itemId: string): Promise<boolean> {
    return this.s.removeItem.run(userId, node, itemId).changes > 0;
  }
}
