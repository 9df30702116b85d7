// What the chat operations share: the store, the event list, the clock and the MUC domain.
import type { Dialog, Store } from '../storage/types.js';
import { canAccess } from './access.js';
import { ApiError } from './errors.js';
import type { ChatEvents } from './events.js';
import type { ChatLimits } from './limits.js';
import { normalizeObjectId } from './objectid.js';

/** The authenticated user a request acts for. */
export interface Caller {
  appId: number;
  userId: number;
}

export interface ChatContext {
  store: Store;
  events: ChatEvents;
  mucDomain: string;
  /** Milliseconds since the epoch. */
  now: () => number;
  limits: ChatLimits;
}

/** The dialog with that id in the caller's application; 404 for a malformed or unknown id. */
export async function loadDialog(ctx: ChatContext, appId: number, rawId: unknown): Promise<Dialog> {
  const id = normalizeObjectId(rawId);
  const dialog = id ? await ctx.store.chat.getDialog(appId, id) : null;
  if (!dialog) throw new ApiError('notFound');
  return dialog;
}

/** Like loadDialog, and 403 unless the caller is an occupant or the dialog is public. */
export async function loadAccessibleDialog(ctx: ChatContext, caller: Caller, rawId: unknown): Promise<Dialog> {
  const dialog = await loadDialog(ctx, caller.appId, rawId);
  if (!canAccess(dialog, caller.userId)) throw new ApiError('forbidden');
  return dialog;
}

/** The ids of `userIds` that are not users of the application. */
export async function missingUsers(ctx: ChatContext, appId: number, userIds: number[]): Promise<number[]> {
  const missing: number[] = [];
  for (const id of userIds) if (!(await ctx.store.accounts.getUser(appId, id))) missing.push(id);
  return missing;
}
