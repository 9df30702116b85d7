import type pg from 'pg';
import type { DataScope, KeyValueStore, PepItem, PepNode, PepStore } from '../account-data-types.js';
import { inTransaction } from './pool.js';

interface NodeRow {
  node: string;
  access_model: string;
  max_items: number;
}

interface ItemRow {
  item_id: string;
  payload: string;
  published_at: string | number;
}

const toNode = (r: NodeRow): PepNode => ({ node: r.node, accessModel: r.access_model as PepNode['accessModel'], maxItems: Number(r.max_items) });
const toItem = (r: ItemRow): PepItem => ({ id: r.item_id, payload: r.payload, publishedAt: new Date(Number(r.published_at)) });
const likePrefix = (prefix: string): string => `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

export class PostgresKeyValueStore implements KeyValueStore {
  constructor(private readonly pool: pg.Pool) {}

  async get(scope: DataScope, owner: number, key: string): Promise<string | null> {
    const { rows } = await this.pool.query<{ value: string }>('SELECT value FROM kv_data WHERE scope = $1 AND owner = $2 AND key = $3', [scope, owner, key]);
    return rows[0]?.value ?? null;
  }

  async set(scope: DataScope, owner: number, key: string, value: string | null): Promise<void> {
    if (value === null) {
      await this.pool.query('DELETE FROM kv_data WHERE scope = $1 AND owner = $2 AND key = $3', [scope, owner, key]);
      return;
    }
    await this.pool.query(`INSERT INTO kv_data (scope, owner, key, value, updated_at) VALUES ($1, $2, $3, $4, $5)
      ON CONFLICT (scope, owner, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`, [scope, owner, key, value, Date.now()]);
  }

  async keys(scope: DataScope, owner: number, prefix: string): Promise<string[]> {
    const { rows } = await this.pool.query<{ key: string }>(
      "SELECT key FROM kv_data WHERE scope = $1 AND owner = $2 AND key LIKE $3 ESCAPE '\\' ORDER BY key", [scope, owner, likePrefix(prefix)]);
    return rows.map((r) => r.key);
  }
}

export class PostgresPepStore implements PepStore {
  constructor(private readonly pool: pg.Pool) {}

  async getNode(userId: number, node: string): Promise<PepNode | null> {
    const { rows } = await this.pool.query<NodeRow>('SELECT node, access_model, max_items FROM pep_nodes WHERE user_id = $1 AND node = $2', [userId, node]);
    return rows[0] ? toNode(rows[0]) : null;
  }

  async listNodes(userId: number): Promise<PepNode[]> {
    const { rows } = await this.pool.query<NodeRow>('SELECT node, access_model, max_items FROM pep_nodes WHERE user_id = $1 ORDER BY node', [userId]);
    return rows.map(toNode);
  }

  async putNode(userId: number, node: PepNode): Promise<void> {
    await inTransaction(this.pool, async (tx) => {
      await tx.query(`INSERT INTO pep_nodes (user_id, node, access_model, max_items) VALUES ($1, $2, $3, $4)
        ON CONFLICT (user_id, node) DO UPDATE SET access_model = excluded.access_model, max_items = excluded.max_items`,
      [userId, node.node, node.accessModel, node.maxItems]);
      await this.trim(tx, userId, node.node, node.maxItems);
    });
  }

  private async trim(tx: pg.PoolClient, userId: number, node: string, maxItems: number): Promise<void> {
    await tx.query(`DELETE FROM pep_items WHERE user_id = $1 AND node = $2 AND seq NOT IN
      (SELECT seq FROM pep_items WHERE user_id = $1 AND node = $2 ORDER BY seq DESC LIMIT $3)`, [userId, node, maxItems]);
  }

  async deleteNode(userId: number, node: string): Promise<boolean> {
    const { rowCount } = await this.pool.query('DELETE FROM pep_nodes WHERE user_id = $1 AND node = $2', [userId, node]);
    return (rowCount ?? 0) > 0;
  }

  async publish(userId: number, node: string, item: PepItem): Promise<void> {
    await inTransaction(this.pool, async (tx) => {
      const { rows } = await tx.query<{ max_items: number }>('SELECT max_items FROM pep_nodes WHERE user_id = $1 AND node = $2 FOR UPDATE', [userId, node]);
      if (!rows[0]) throw new Error(`no PEP node ${node}`);
      await tx.query('DELETE FROM pep_items WHERE user_id = $1 AND node = $2 AND item_id = $3', [userId, node, item.id]);
      await tx.query('INSERT INTO pep_items (user_id, node, item_id, payload, published_at) VALUES ($1, $2, $3, $4, $5)',
        [userId, node, item.id, item.payload, item.publishedAt.getTime()]);
      await this.trim(tx, userId, node, Number(rows[0].max_items));
    });
  }

  async items(userId: number, node: string, opts: { ids?: string[]; max?: number } = {}): Promise<PepItem[]> {
    const ids = opts.ids ? 'AND item_id = ANY($4::text[])' : '';
    const { rows } = await this.pool.query<ItemRow>(
      `SELECT item_id, payload, published_at FROM pep_items WHERE user_id = $1 AND node = $2 ${ids} ORDER BY seq DESC LIMIT $3`,
      opts.ids ? [userId, node, opts.max ?? null, opts.ids] : [userId, node, opts.max ?? null]);
    return rows.map(toItem);
  }

  async retract(userId: number, node: string, itemId: string): Promise<boolean> {
    const { rowCount } = await this.pool.query('DELETE FROM pep_items WHERE user_id = $1 AND node = $2 AND item_id = $3', [userId, node, itemId]);
    return (rowCount ?? 0) > 0;
  }
}
