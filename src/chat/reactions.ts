// Message reactions (QuickBlox 2.24): a user adds or removes a named reaction ("like", an emoji)
// on a message of a dialog they can read; at most MAX_REACTIONS distinct names per message; never
// in public dialogs. Changes are announced as `reaction` events (live notices hook in there).
import type { ChatMessage, Dialog } from '../storage/types.js';
import { canAccess, PUBLIC_GROUP } from './access.js';
import type { Caller, ChatContext } from './context.js';
import { ApiError } from './errors.js';
import { normalizeObjectId } from './objectid.js';
import type { Params } from './params.js';

export const MAX_REACTIONS = 20;
export const MAX_REACTION_NAME = 64;

export interface ReactionView {
  name: string;
  count: number;
  user_ids: number[];
}

export class ReactionService {
  constructor(private readonly ctx: ChatContext) {}

  private name(params: Params): string {
    const name = params.name;
    if (typeof name !== 'string' || name.trim() === '' || name.length > MAX_REACTION_NAME || /[\x00-\x1f\x7f]/.test(name)) throw new ApiError('reactionName');
    return name.trim();
  }

  /** The message and its dialog as the caller may see them; 404 otherwise, 422 in public dialogs. */
  private async target(caller: Caller, rawId: string): Promise<{ message: ChatMessage; dialog: Dialog }> {
    const id = normalizeObjectId(rawId);
    const message = id ? await this.ctx.store.chat.getMessage(caller.appId, id, caller.userId) : null;
    const dialog = message ? await this.ctx.store.chat.getDialog(caller.appId, message.dialogId) : null;
    if (!message || !dialog || !canAccess(dialog, caller.userId)) throw new ApiError('reactionMessageNotFound');
    if (dialog.type === PUBLIC_GROUP) throw new ApiError('reactionPublicDialog');
    return { message, dialog };
  }

  /** POST /chat/Message/{id}/reactions.json `{name}` → 201, empty. Adding one already there changes nothing. */
  async add(caller: Caller, messageId: string, params: Params): Promise<void> {
    const name = this.name(params);
    const { message, dialog } = await this.target(caller, messageId);
    const result = await this.ctx.store.reactions.addReaction(message.id, caller.userId, name, new Date(this.ctx.now()), MAX_REACTIONS);
    if (result === 'limit') throw new ApiError('reactionLimit');
    if (result === 'added') this.ctx.events.emit('reaction', { dialog, message, userId: caller.userId, name, action: 'add' });
  }

  /** DELETE /chat/Message/{id}/reactions.json `{name}` → 200, empty; 404 when the caller had not reacted so. */
  async remove(caller: Caller, messageId: string, params: Params): Promise<void> {
    const name = this.name(params);
    const { message, dialog } = await this.target(caller, messageId);
    if (!(await this.ctx.store.reactions.removeReaction(message.id, caller.userId, name))) throw new ApiError('reactionNotFound');
    this.ctx.events.emit('reaction', { dialog, message, userId: caller.userId, name, action: 'remove' });
  }

  /** GET /chat/Message/{id}/reactions.json → `{total_entries, items}`. */
  async list(caller: Caller, messageId: string): Promise<{ total_entries: number; items: ReactionView[] }> {
    const { message } = await this.target(caller, messageId);
    const items = await this.of(message.id);
    return { total_entries: items.length, items };
  }

  async of(messageId: string): Promise<ReactionView[]> {
    return ((await this.ctx.store.reactions.listReactions([messageId])).get(messageId) ?? []).map(view);
  }

  /** Adds `reactions` to each message view (include_reactions=1). */
  async attach<T extends { _id: string }>(messages: T[]): Promise<(T & { reactions: ReactionView[] })[]> {
    const all = await this.ctx.store.reactions.listReactions(messages.map((m) => m._id));
    return messages.map((m) => ({ ...m, reactions: (all.get(m._id) ?? []).map(view) }));
  }
}

const view = (r: { name: string; userIds: number[] }): ReactionView => ({ name: r.name, count: r.userIds.length, user_ids: r.userIds });
