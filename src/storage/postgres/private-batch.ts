// Group commit of stored messages on PostgreSQL. The messages that arrive while a batch is being written
// queue up and are written together by ONE statement in one implicit transaction: one round trip, one
// commit and one WAL flush per batch instead of per message. A batch is of one kind: private messages by
// recipient (the dialog found or opened by the statement, BATCH_SQL) or messages to a known dialog
// (DIALOG_BATCH_SQL). Up to `maxInFlight` batches are written at once on connections of their own, so one
// batch's execution overlaps another's commit flush; a dialog (a private one by its pair, whichever way its
// messages come) is in at most one of them, so its messages commit in the order they arrived, and a message
// resolves only once the COMMIT of its own batch has returned (durability as before: nothing is delivered
// earlier). Messages of different dialogs may resolve out of arrival order.
//
// Failures stay per message: a taken message id is found by the statement itself (that message is left
// out and rejects alone), a message whose opponent is not a user gets null. A batch that lost a race for
// a new pair to another node (or a deadlock) runs once more as a whole; if the statement fails for any
// other reason (a bad row) nothing of the batch is stored and every message is written again on its own
// by `alone`, so only the bad one fails.
import type pg from 'pg';
import { DuplicateMessageIdError, type ChatMessage, type Dialog, type NewDialog } from '../types.js';
import { isUniqueViolation } from './pool.js';

const DEADLOCK = '40P01';

export interface PrivateWrite {
  dialog: NewDialog;
  message: ChatMessage;
  effects: { unreadFor: number[]; unhideFor: number[] };
}

export type PrivateResult = { dialog: Dialog; created: boolean } | null;

/** A message to a dialog that exists (message.dialogId set). */
export interface DialogWrite {
  message: ChatMessage;
  effects: { unreadFor: number[]; unhideFor: number[] };
}

/** The columns of a dialog's row, as every dialog query (and the batch statement, for a found one) returns them. */
export interface FoundDialogRow {
  id: string;
  app_id: number;
  type: number;
  name: string | null;
  photo: string | null;
  owner_id: number;
  occupant_ids: number[];
  admin_ids: number[];
  data: Record<string, unknown> | null;
  is_join_required: boolean;
  last_message: string | null;
  last_message_date_sent: number | null;
  last_message_id: string | null;
  last_message_user_id: number | null;
  created_at: number;
  updated_at: number;
}

interface PairRow extends FoundDialogRow {
  pair_app: number | null;
  pair: string | null;
  /** For a pair whose dialog was not found: the ord (1-based place in the batch) of the message that opened it, or null. */
  first: number | null;
  /** The message ids of the batch that were taken already (on the first row). */
  taken: string[] | null;
}

interface Queued {
  /** The dialog's key: its pair (app/a:b) for a private dialog, else its id. */
  key: string;
  /** performance.now() when it was queued. */
  queuedAt: number;
  reject: (err: unknown) => void;
}

interface PairPending extends PrivateWrite, Queued {
  kind: 'pair';
  resolve: (value: PrivateResult) => void;
}

interface DialogPending extends DialogWrite, Queued {
  kind: 'dialog';
  resolve: (value: void) => void;
}

type Pending = PairPending | DialogPending;

// The statement avoids joins between its CTEs (the planner cannot estimate their sizes and would pick
// nested loops, quadratic in the batch): every message row is joined once to its pair's dialog, and
// what a pair needs from its first and last message is carried to each row by window functions.
// Its own dialog is opened by the pair's first message (rows where ord = first). A new dialog that
// another writer opened meanwhile is a unique violation that fails the statement (see writeBatch).
export const BATCH_SQL = `WITH taken AS (
    SELECT id FROM messages WHERE id = ANY($10::text[])
  ), input AS (
    SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::bigint[], $5::text[], $6::text[], $7::text[], $8::bigint[],
      $9::text[], $10::text[], $11::bigint[], $12::bigint[], $13::text[], $14::bigint[], $15::text[], $16::text[], $17::boolean[],
      $18::text[], $19::text[], $20::bigint[], $21::bigint[], $22::bigint[], $23::boolean[], $24::boolean[], $25::boolean[], $26::boolean[])
      WITH ORDINALITY AS t(app_id, pair, a, b, new_id, name, photo, owner_id, data, msg_id, sender_id, recipient_id, body, date_sent,
        attachments, custom, markable, read_ids, delivered_ids, created_at, updated_at, dialog_created, unread_a, unread_b, shown_a, shown_b, ord)
    WHERE NOT EXISTS (SELECT 1 FROM taken WHERE taken.id = t.msg_id)
  ), looked_up AS (
    SELECT i.*, d.id AS found_id, d.type AS d_type, d.name AS d_name, d.photo AS d_photo, d.owner_id AS d_owner_id,
      d.occupant_ids AS d_occupant_ids, d.admin_ids AS d_admin_ids, d.data AS d_data, d.is_join_required AS d_is_join_required,
      d.last_message AS d_last_message, d.last_message_date_sent AS d_last_message_date_sent, d.last_message_id AS d_last_message_id,
      d.last_message_user_id AS d_last_message_user_id, d.created_at AS d_created_at, d.updated_at AS d_updated_at,
      -- For a new dialog: whether the message's opponents are users of the application.
      d.id IS NOT NULL OR (
        (i.sender_id = i.a OR EXISTS (SELECT 1 FROM users u WHERE u.id = i.a AND u.app_id = i.app_id))
        AND (i.sender_id = i.b OR EXISTS (SELECT 1 FROM users u WHERE u.id = i.b AND u.app_id = i.app_id))) AS opponents_known
    FROM input i LEFT JOIN dialogs d ON d.app_id = i.app_id AND d.private_pair = i.pair
  ), marked AS (
    -- A new pair's dialog is opened by its first message whose opponent is a user; the messages before that one are
    -- not stored (as they would not be one at a time), those after it go into the dialog it opened.
    SELECT l.*, found_id IS NOT NULL OR bool_or(opponents_known) OVER (PARTITION BY app_id, pair ORDER BY ord ROWS UNBOUNDED PRECEDING) AS keep
    FROM looked_up l
  ), msgs AS (
    SELECT k.*, min(ord) OVER w AS head,
      min(ord) FILTER (WHERE keep) OVER w AS first, (array_agg(new_id) FILTER (WHERE keep) OVER w)[1] AS first_new_id,
      last_value(body) OVER w AS last_body, last_value(date_sent) OVER w AS last_date_sent, last_value(msg_id) OVER w AS last_msg_id,
      last_value(sender_id) OVER w AS last_sender_id, max(created_at) FILTER (WHERE keep) OVER w AS newest,
      (count(*) FILTER (WHERE unread_a AND keep) OVER w)::int AS unread_count_a, (count(*) FILTER (WHERE unread_b AND keep) OVER w)::int AS unread_count_b,
      bool_or(shown_a) OVER w AS any_shown_a, bool_or(shown_b) OVER w AS any_shown_b
    FROM marked k
    WINDOW w AS (PARTITION BY app_id, pair ORDER BY ord ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
  ), opened AS (
    INSERT INTO dialogs (id, app_id, type, name, photo, owner_id, occupant_ids, admin_ids, data, is_join_required, private_pair,
      last_message, last_message_date_sent, last_message_id, last_message_user_id, created_at, updated_at)
    SELECT new_id, app_id, 3, name, photo, owner_id, ARRAY[a, b], '{}', data::json, false, pair,
      last_body, last_date_sent, last_msg_id, last_sender_id, dialog_created, greatest(dialog_created, newest)
    FROM msgs WHERE ord = first AND found_id IS NULL
  ), members AS (
    INSERT INTO dialog_members (dialog_id, user_id, occupant, unread_count)
    SELECT m.new_id, u.user_id, true, u.unread
    FROM msgs m, LATERAL (VALUES (m.a, m.unread_count_a), (m.b, m.unread_count_b)) AS u(user_id, unread)
    WHERE m.ord = m.first AND m.found_id IS NULL
  ), stored AS (
    INSERT INTO messages (id, app_id, dialog_id, sender_id, recipient_id, body, date_sent, attachments, custom, markable, read_ids,
      delivered_ids, created_at, updated_at)
    SELECT msg_id, app_id, coalesce(found_id, first_new_id), sender_id, recipient_id, body, date_sent, attachments::json, custom::json,
      markable, read_ids::bigint[], delivered_ids::bigint[], created_at, updated_at
    FROM msgs WHERE keep
    ORDER BY ord
  ), last AS (
    UPDATE dialogs d SET last_message = m.last_body, last_message_date_sent = m.last_date_sent, last_message_id = m.last_msg_id,
      last_message_user_id = m.last_sender_id, updated_at = greatest(d.updated_at, m.newest)
    FROM msgs m WHERE m.ord = m.first AND d.id = m.found_id
    RETURNING 1
  ), shown AS (
    UPDATE dialog_members dm SET hidden = false,
      unread_count = CASE WHEN dm.occupant THEN dm.unread_count + s.unread ELSE dm.unread_count END
    FROM (SELECT m.found_id, x.user_id, x.unread FROM msgs m,
            LATERAL (VALUES (m.a, m.unread_count_a, m.any_shown_a), (m.b, m.unread_count_b, m.any_shown_b)) AS x(user_id, unread, shown)
          WHERE m.ord = m.first AND m.found_id IS NOT NULL AND x.shown) AS s
    WHERE dm.dialog_id = s.found_id AND dm.user_id = s.user_id AND (SELECT count(*) FROM last) >= 0
  )
  -- One row per pair whose dialog was found, or that had messages left out (first: the ord of the message that opened
  -- its dialog, null when none did); a pair without a row had its dialog opened by its first message. Always one row,
  -- for the taken ids. Less for Parley to parse.
  SELECT m.app_id AS pair_app, m.pair, m.first, m.found_id AS id, m.app_id, m.d_type AS type, m.d_name AS name, m.d_photo AS photo,
    m.d_owner_id AS owner_id, m.d_occupant_ids AS occupant_ids, m.d_admin_ids AS admin_ids, m.d_data AS data,
    m.d_is_join_required AS is_join_required, m.d_last_message AS last_message, m.d_last_message_date_sent AS last_message_date_sent,
    m.d_last_message_id AS last_message_id, m.d_last_message_user_id AS last_message_user_id, m.d_created_at AS created_at,
    m.d_updated_at AS updated_at, (SELECT array_agg(id) FROM taken) AS taken
  FROM (SELECT 1) AS one LEFT JOIN msgs m ON m.ord = m.head AND (m.found_id IS NOT NULL OR m.first IS DISTINCT FROM m.head)`;

// Messages to dialogs that exist, as insertMessage wrote them one at a time: each dialog's last message and
// the counters and hidden flags of its members follow every message of the batch.
//
// Both statements lock the dialogs they update before their members' rows, as every other writer of a dialog does
// (chat.ts): otherwise a batch holding a member's row could wait for a dialog that a transaction (markMessages,
// markAllMessages) holds while it waits for that member's row, a deadlock. DIALOG_BATCH_SQL locks them first, in id
// order (its input waits for the locked CTE); BATCH_SQL updates its found dialogs before their members (shown waits
// for last), which costs nothing more (a locked CTE cost it 6-12 % more PostgreSQL CPU per message) but takes
// several dialogs' locks in no set order: a deadlock with a transaction locking several of them (hideMessages,
// deleteMessages across dialogs) stays possible, and the batch then runs again.
export const DIALOG_BATCH_SQL = `WITH taken AS (
    SELECT id FROM messages WHERE id = ANY($1::text[])
  ), locked AS (
    SELECT id FROM dialogs WHERE id = ANY($3::text[]) ORDER BY id FOR NO KEY UPDATE
  ), input AS (
    SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::bigint[], $5::bigint[], $6::text[], $7::bigint[], $8::text[], $9::text[],
      $10::boolean[], $11::text[], $12::text[], $13::bigint[], $14::bigint[], $15::text[], $16::text[])
      WITH ORDINALITY AS t(msg_id, app_id, dialog_id, sender_id, recipient_id, body, date_sent, attachments, custom, markable, read_ids,
        delivered_ids, created_at, updated_at, unread_for, shown_to, ord)
    WHERE NOT EXISTS (SELECT 1 FROM taken WHERE taken.id = t.msg_id) AND (SELECT count(*) FROM locked) >= 0
  ), stored AS (
    INSERT INTO messages (id, app_id, dialog_id, sender_id, recipient_id, body, date_sent, attachments, custom, markable, read_ids,
      delivered_ids, created_at, updated_at)
    SELECT msg_id, app_id, dialog_id, sender_id, recipient_id, body, date_sent, attachments::json, custom::json, markable,
      read_ids::bigint[], delivered_ids::bigint[], created_at, updated_at
    FROM input ORDER BY ord
  ), last AS (
    UPDATE dialogs d SET last_message = l.body, last_message_date_sent = l.date_sent, last_message_id = l.msg_id,
      last_message_user_id = l.sender_id, updated_at = greatest(d.updated_at, l.newest)
    FROM (SELECT DISTINCT ON (dialog_id) dialog_id, body, date_sent, msg_id, sender_id, max(created_at) OVER (PARTITION BY dialog_id) AS newest
          FROM input ORDER BY dialog_id, ord DESC) AS l
    WHERE d.id = l.dialog_id
  ), shown AS (
    UPDATE dialog_members dm SET hidden = false,
      unread_count = CASE WHEN dm.occupant THEN dm.unread_count + s.unread ELSE dm.unread_count END
    FROM (SELECT i.dialog_id, u.user_id, (count(*) FILTER (WHERE u.user_id = ANY(i.unread_for::bigint[])))::int AS unread
          FROM input i, unnest(i.shown_to::bigint[]) AS u(user_id) GROUP BY i.dialog_id, u.user_id) AS s
    WHERE dm.dialog_id = s.dialog_id AND dm.user_id = s.user_id
  )
  SELECT (SELECT array_agg(id) FROM taken) AS taken`;

const ascending = (ids: number[]) => [...new Set(ids)].sort((x, y) => x - y);
const pairKey = (appId: number, pair: string) => `${appId}/${pair}`;
const idList = (ids: number[]) => `{${ids.join(',')}}`;

export class MessageBatches {
  private queue: Pending[] = [];
  private inFlight = 0;
  /** The dialogs (keys) that have a message in a batch in flight: their later messages wait for it. */
  private readonly busy = new Set<string>();
  private scheduled = false;
  private overlapTimer: NodeJS.Timeout | null = null;
  /**
   * Connections kept for the batches between them (at most maxInFlight): a batch does not queue in the pool behind
   * the reads its messages' senders make (one per message by chat_dialog_id), which held batches up for seconds.
   */
  private readonly connections: pg.PoolClient[] = [];
  private closed = false;
  /** Batches written so far (for tests). */
  batches = 0;

  constructor(
    private readonly pool: pg.Pool,
    private readonly toDialog: (row: FoundDialogRow) => Dialog,
    /** Write one message on their own (the fallback when a batch fails). */
    private readonly alone: { pair: (write: PrivateWrite) => Promise<PrivateResult>; dialog: (write: DialogWrite) => Promise<void> },
    private readonly maxBatch = 500,
    /** Batches written at once, each on a connection of its own (public, as the two below, for the benches). */
    public maxInFlight = 2,
    /**
     * While a batch is in flight another starts only with this many messages, or once the oldest has waited
     * overlapWaitMs: a statement costs PostgreSQL ~2 ms of CPU however few its messages (parse and plan), so
     * small batches side by side would cost more per message than waiting for the one in flight.
     */
    public minOverlap = 64,
    public overlapWaitMs = 10,
  ) {}

  /** Gives the kept connections back to the pool (a batch in flight gives its own back when done). */
  close(): void {
    this.closed = true;
    for (const client of this.connections.splice(0)) client.release();
  }

  private async keptConnection(): Promise<pg.PoolClient> {
    const client = await this.pool.connect();
    // The pool listens for errors of its idle connections only: one that breaks while kept here is dropped (a
    // query in flight on it fails by itself).
    client.on('error', () => {
      const at = this.connections.indexOf(client);
      if (at >= 0) {
        this.connections.splice(at, 1);
        client.release(true);
      }
    });
    return client;
  }

  /** One statement on a kept connection; a connection that failed (no SQLSTATE) is dropped. */
  private async run<T extends pg.QueryResultRow>(sql: string, values: unknown[]): Promise<T[]> {
    const client = this.connections.pop() ?? (await this.keptConnection());
    let broken = false;
    try {
      return (await client.query<T>(sql, values)).rows;
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      broken = typeof code !== 'string' || code.length !== 5;
      throw err;
    } finally {
      if (broken || this.closed) client.release(broken);
      else this.connections.push(client);
    }
  }

  /** A private message by recipient: its dialog is found or opened by the batch. */
  write(write: PrivateWrite): Promise<PrivateResult> {
    return new Promise((resolve, reject) => {
      const key = pairKey(write.dialog.appId, ascending(write.dialog.occupantIds).join(':'));
      this.queue.push({ ...write, kind: 'pair', key, queuedAt: performance.now(), resolve, reject });
      this.schedule();
    });
  }

  /** A message to a dialog that exists. */
  writeToDialog(write: DialogWrite): Promise<void> {
    const m = write.message;
    // A private message names its opponent: keyed by its pair, as when it comes by recipient.
    const key = m.recipientId !== 0 && m.recipientId !== m.senderId ? pairKey(m.appId, ascending([m.senderId, m.recipientId]).join(':')) : `#${m.dialogId}`;
    return new Promise((resolve, reject) => {
      this.queue.push({ ...write, kind: 'dialog', key, queuedAt: performance.now(), resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.inFlight >= this.maxInFlight || this.scheduled) return;
    this.scheduled = true;
    // setImmediate: the batch takes every message of this turn of the event loop.
    setImmediate(() => {
      this.scheduled = false;
      this.writeNext();
    });
  }

  /** Whether a batch may start now; when only time is missing, a timer calls writeNext later. */
  private mayStart(): boolean {
    if (this.inFlight >= this.maxInFlight || this.queue.length === 0) return false;
    if (this.inFlight === 0 || this.queue.length >= this.minOverlap) return true;
    const waited = performance.now() - this.queue[0]!.queuedAt;
    if (waited >= this.overlapWaitMs) return true;
    this.overlapTimer ??= setTimeout(() => {
      this.overlapTimer = null;
      this.writeNext();
    }, this.overlapWaitMs - waited + 1);
    return false;
  }

  private writeNext(): void {
    if (!this.mayStart()) return;
    // A pair with a message in a batch in flight waits for that batch (its messages commit and resolve in
    // order, and two batches never both open it); so does a pair behind a message that waits, and a
    // message id twice in one batch (the later one is then found taken).
    // A batch takes messages of one kind, that of the first message that may go.
    const ids = new Set<string>();
    const waiting = new Set<string>();
    const batch: Pending[] = [];
    const later: Pending[] = [];
    let kind: Pending['kind'] | null = null;
    for (const p of this.queue) {
      if (batch.length < this.maxBatch && (kind ?? p.kind) === p.kind && !ids.has(p.message.id) && !this.busy.has(p.key) && !waiting.has(p.key)) {
        kind = p.kind;
        ids.add(p.message.id);
        batch.push(p);
      } else {
        waiting.add(p.key);
        later.push(p);
      }
    }
    if (batch.length === 0) return; // all of them wait for a batch in flight, which calls again when done
    this.queue = later;
    for (const p of batch) this.busy.add(p.key);
    this.inFlight++;
    this.writeBatch(batch)
      // Not expected (each message settles on its own in writeBatch); a message still waiting must not wait forever.
      .catch((err: unknown) => { for (const p of batch) p.reject(err); })
      .finally(() => {
        this.inFlight--;
        for (const p of batch) this.busy.delete(p.key);
        this.writeNext();
      });
    // Another batch may start at once (a later turn's messages, or those this one could not take).
    if (this.queue.length > 0) this.schedule();
  }

  private async writeBatch(batch: Pending[]): Promise<void> {
    if (batch[0]!.kind === 'pair') await this.writePairs(batch as PairPending[]);
    else await this.writeDialogs(batch as DialogPending[]);
  }

  private async writeDialogs(batch: DialogPending[]): Promise<void> {
    let taken: Set<string>;
    try {
      taken = new Set((await this.run<{ taken: string[] | null }>(DIALOG_BATCH_SQL, dialogColumns(batch)))[0]?.taken ?? []);
      this.batches++;
    } catch {
      // Nothing of the batch is stored (a deleted dialog, a bad row, a deadlock): each message again on its own, in order.
      for (const p of batch) await this.settleAlone(p);
      return;
    }
    for (const p of batch) {
      if (taken.has(p.message.id)) p.reject(new DuplicateMessageIdError(p.message.id));
      else p.resolve();
    }
  }

  private async writePairs(batch: PairPending[]): Promise<void> {
    let rows: PairRow[] | null = null;
    const values = columns(batch);
    for (let attempt = 0; rows === null; attempt++) {
      try {
        rows = await this.run<PairRow>(BATCH_SQL, values);
        this.batches++;
      } catch (err) {
        // Another writer (a cluster node) opened one of the batch's new pairs, or locked its rows in another order:
        // the batch again as a whole finds that dialog. Otherwise nothing of the batch is stored: each message again
        // on its own, in order, so only a bad one fails.
        if (attempt === 0 && (isUniqueViolation(err, 'dialogs_private_pair') || (err as { code?: unknown }).code === DEADLOCK)) continue;
        for (const p of batch) await this.settleAlone(p);
        return;
      }
    }
    const taken = new Set(rows[0]?.taken ?? []);
    const byPair = new Map<string, PairRow>();
    for (const r of rows) if (r.pair !== null) byPair.set(pairKey(r.pair_app!, r.pair), r);
    const opened = new Map<string, Dialog>();
    batch.forEach((p, i) => {
      if (taken.has(p.message.id)) {
        p.reject(new DuplicateMessageIdError(p.message.id));
        return;
      }
      const row = byPair.get(p.key);
      if (row?.id) {
        p.message.dialogId = row.id;
        p.resolve({ dialog: this.toDialog(row), created: false });
        return;
      }
      // Not found: the pair's first message whose opponent is a user opened the dialog (its first message when there
      // is no row); the messages before it were not stored.
      const opener = row ? row.first : null;
      if (row && (opener === null || i + 1 < opener)) {
        p.resolve(null);
        return;
      }
      let dialog = opened.get(p.key);
      const created = dialog === undefined;
      if (!dialog) opened.set(p.key, (dialog = openedDialog(p.dialog, ascending(p.dialog.occupantIds))));
      p.message.dialogId = dialog.id;
      p.resolve({ dialog, created });
    });
  }

  private async settleAlone(p: Pending): Promise<void> {
    try {
      if (p.kind === 'pair') p.resolve(await this.alone.pair(p));
      else p.resolve(await this.alone.dialog(p));
    } catch (err) {
      p.reject(err);
    }
  }
}

/** A dialog opened by the batch, as it was before its first message. */
function openedDialog(d: NewDialog, occupants: number[]): Dialog {
  const created = d.createdAt.getTime();
  return {
    id: d.id, appId: d.appId, type: 3, name: d.name, photo: d.photo, ownerId: d.ownerId, occupantIds: occupants, adminIds: [],
    data: d.data, isJoinRequired: false, lastMessage: null, lastMessageDateSent: null, lastMessageId: null, lastMessageUserId: null,
    createdAt: new Date(created), updatedAt: new Date(created),
  };
}

/** A batch of messages to known dialogs as DIALOG_BATCH_SQL's 16 array parameters. */
export function dialogColumns(batch: DialogWrite[]): unknown[] {
  const cols: unknown[][] = Array.from({ length: 16 }, () => new Array(batch.length));
  batch.forEach(({ message: m, effects }, i) => {
    const row = [
      m.id, m.appId, m.dialogId, m.senderId, m.recipientId, m.body, m.dateSent, JSON.stringify(m.attachments), JSON.stringify(m.customParams),
      m.markable, idList(m.readIds), idList(m.deliveredIds), m.createdAt.getTime(), m.updatedAt.getTime(),
      idList([...new Set(effects.unreadFor)]), idList([...new Set([...effects.unreadFor, ...effects.unhideFor])]),
    ];
    for (let c = 0; c < 16; c++) cols[c]![i] = row[c];
  });
  return cols;
}

/** The batch as the statement's 26 array parameters. */
export function columns(batch: PrivateWrite[]): unknown[] {
  const cols: unknown[][] = Array.from({ length: 26 }, () => new Array(batch.length));
  batch.forEach(({ dialog: d, message: m, effects }, i) => {
    const [a, b] = ascending(d.occupantIds) as [number, number];
    const unread = new Set(effects.unreadFor);
    const shown = new Set([...effects.unreadFor, ...effects.unhideFor]);
    const row = [
      d.appId, `${a}:${b}`, a, b, d.id, d.name, d.photo, d.ownerId, d.data === null ? null : JSON.stringify(d.data),
      m.id, m.senderId, m.recipientId, m.body, m.dateSent, JSON.stringify(m.attachments), JSON.stringify(m.customParams), m.markable,
      idList(m.readIds), idList(m.deliveredIds), m.createdAt.getTime(), m.updatedAt.getTime(), d.createdAt.getTime(),
      unread.has(a), unread.has(b), shown.has(a), shown.has(b),
    ];
    for (let c = 0; c < 26; c++) cols[c]![i] = row[c];
  });
  return cols;
}
