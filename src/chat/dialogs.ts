// Dialog operations: create (with private-dialog reuse), list, get, update with QuickBlox's
// permission rules, delete for me / for everyone, and notification settings.
import type { Dialog, DialogChanges, DialogType } from '../storage/types.js';
import { canAccess, canRemoveOccupant, canUpdate, GROUP, isOccupant, isOwner, PRIVATE, PUBLIC_GROUP } from './access.js';
import { loadAccessibleDialog, loadDialog, missingUsers, type Caller, type ChatContext } from './context.js';
import { ApiError } from './errors.js';
import { newObjectId, normalizeObjectId } from './objectid.js';
import { parseBoolean, parseDataFilters, parseFilters, parseInteger, parseObject, parsePaging, parseSort, parseUserIds, type FilterKind, type Params } from './params.js';
import { dialogView, type DialogView } from './views.js';
import { checkCustomSize, itemJsonBytes, JsonItem, PHOTO_MAX, takeWithinBytes } from './limits.js';

export const DIALOG_NAME_MAX = 200;
/** QuickBlox's documented default page; we also cap dialog pages at it. */
export const DIALOG_PAGE = 100;

const DIALOG_FILTERS = {
  _id: 'objectId', type: 'integer', name: 'string', user_id: 'integer', last_message_date_sent: 'number',
  created_at: 'time', updated_at: 'time', occupants_ids: 'integer',
} as const satisfies Record<string, FilterKind>;
const DIALOG_SORTS = ['_id', 'type', 'name', 'user_id', 'last_message_date_sent', 'created_at', 'updated_at'] as const;

export interface DialogList {
  total_entries: number;
  skip: number;
  limit: number;
  items: DialogView[];
}

/** What `count=1` returns instead of a page. */
export interface CountOnly {
  items: { count: number };
}

export interface DialogUpdate {
  dialog: DialogView;
  /** Occupants the update added and removed (XMPP kicks the removed ones from the room). */
  addedUserIds: number[];
  removedUserIds: number[];
  /** True when the last occupant left a group dialog and it was therefore deleted. */
  deleted: boolean;
}

export interface DeleteResult {
  SuccessfullyDeleted: { ids: string[] };
  WrongPermissions: { ids: string[] };
  NotFound: { ids: string[] };
}

export const emptyDeleteResult = (): DeleteResult => ({ SuccessfullyDeleted: { ids: [] }, WrongPermissions: { ids: [] }, NotFound: { ids: [] } });

export interface NotificationSettings {
  notifications: { enabled: 0 | 1 };
}

const asText = (value: unknown): string | null | undefined => {
  if (value === undefined) return undefined;
  if (value === null) return null;
  if (typeof value === 'string' || typeof value === 'number') return String(value);
  return undefined;
};

function parseName(value: unknown): string | undefined {
  const name = asText(value)?.trim();
  if (name && [...name].length > DIALOG_NAME_MAX) throw new ApiError('invalidField', `is too long (maximum is ${DIALOG_NAME_MAX} characters)`, 'name');
  return name || undefined;
}

/** `photo`: a string (blob id, URL...), a number (blob id), or null/"" to clear it. */
const parsePhoto = (value: unknown): string | null | undefined => {
  const photo = asText(value);
  if (photo && photo.length > PHOTO_MAX) throw new ApiError('invalidField', `is too long (maximum is ${PHOTO_MAX} characters)`, 'photo');
  return photo === '' ? null : photo;
};

/** `is_join_required` or its older name `is_joinable`, as a boolean. */
function parseJoinRequired(params: Params): boolean | undefined {
  const raw = params.is_join_required ?? params.is_joinable;
  if (raw === undefined || raw === null || raw === '') return undefined;
  const flag = parseBoolean(raw);
  if (flag === undefined) throw new ApiError('invalidField', 'is invalid', params.is_join_required !== undefined ? 'is_join_required' : 'is_joinable');
  return flag;
}

/** Private dialogs cannot require a join; public ones always do. */
function checkJoinRequired(type: DialogType, required: boolean | undefined): void {
  if (type === PRIVATE && required === true) throw new ApiError('invalidField', 'cannot be enabled for private dialogs', 'is_join_required');
  if (type === PUBLIC_GROUP && required === false) throw new ApiError('invalidField', 'cannot be disabled for public dialogs', 'is_join_required');
}

export class DialogService {
  constructor(private readonly ctx: ChatContext) {}

  /** `data` as parseObject reads it, refused past the custom-field byte limit. */
  private parseData(value: unknown): Record<string, unknown> | null | undefined {
    const data = parseObject(value, 'data');
    if (data) checkCustomSize('data', this.ctx.limits, data);
    return data;
  }

  private view(dialog: Dialog, unreadCount: number): DialogView {
    return dialogView(dialog, unreadCount, this.ctx.mucDomain);
  }

  private async viewFor(caller: Caller, dialog: Dialog): Promise<DialogView> {
    const state = await this.ctx.store.chat.getMemberState(dialog.id, caller.userId);
    return this.view(dialog, dialog.type === PUBLIC_GROUP ? 0 : state.unreadCount);
  }

  async create(caller: Caller, params: Params): Promise<DialogView> {
    const type = parseInteger(params.type);
    if (params.type === undefined || params.type === '') throw new ApiError('invalidField', "can't be blank", 'type');
    if (type !== PUBLIC_GROUP && type !== GROUP && type !== PRIVATE) throw new ApiError('invalidField', 'is not included in the list', 'type');
    const name = parseName(params.name);
    if (type !== PRIVATE && name === undefined) throw new ApiError('invalidField', "can't be blank", 'name');
    const joinRequired = parseJoinRequired(params);
    checkJoinRequired(type, joinRequired);

    const given = parseUserIds(params.occupants_ids, 'occupants_ids') ?? [];
    const opponents = given.filter((id) => id !== caller.userId);
    if (type === PRIVATE) {
      if (opponents.length > 1) throw new ApiError('tooManyOccupants');
      if (opponents.length === 0) throw new ApiError('invalidField', "can't be blank", 'occupants_ids');
      return this.viewFor(caller, await this.privateDialog(caller, opponents[0], { name: name ?? null, photo: parsePhoto(params.photo) ?? null, data: this.parseData(params.data) ?? null }));
    }
    if (type === GROUP && given.length === 0) throw new ApiError('invalidField', "can't be blank", 'occupants_ids');
    const occupants = type === GROUP ? [caller.userId, ...opponents] : [];
    if (type === GROUP && (await missingUsers(this.ctx, caller.appId, opponents)).length > 0) throw new ApiError('occupantsNotFound');
    const adminIds = await this.checkAdmins(caller.appId, type, occupants, parseUserIds(params.admin_ids, 'admin_ids') ?? []);

    const now = this.ctx.now();
    const dialog = await this.ctx.store.chat.createDialog({
      id: newObjectId(now), appId: caller.appId, type, name: name!, photo: parsePhoto(params.photo) ?? null, ownerId: caller.userId,
      occupantIds: occupants, adminIds, data: this.parseData(params.data) ?? null,
      isJoinRequired: type === PUBLIC_GROUP || (type === GROUP && joinRequired !== false), createdAt: new Date(now),
    });
    return this.view(dialog, 0);
  }

  /**
   * The private dialog between the caller and `opponentId`, created when there is none. A dialog the
   * caller had deleted for themselves is shown to them again (its old history stays gone).
   */
  async privateDialog(caller: Caller, opponentId: number, fields: Pick<Dialog, 'name' | 'photo' | 'data'> = { name: null, photo: null, data: null }): Promise<Dialog> {
    if (opponentId === caller.userId) throw new ApiError('invalidField', 'is invalid', 'recipient_id');
    const existing = await this.ctx.store.chat.findPrivateDialog(caller.appId, caller.userId, opponentId);
    if (!existing && (await missingUsers(this.ctx, caller.appId, [opponentId])).length > 0) throw new ApiError('occupantsNotFound');
    const now = this.ctx.now();
    const { dialog, created } = existing ? { dialog: existing, created: false } : await this.ctx.store.chat.findOrCreatePrivateDialog({
      id: newObjectId(now), appId: caller.appId, type: PRIVATE, ...fields, ownerId: caller.userId,
      occupantIds: [caller.userId, opponentId], adminIds: [], isJoinRequired: false, createdAt: new Date(now),
    });
    if (!created && (await this.ctx.store.chat.getMemberState(dialog.id, caller.userId)).hidden) {
      await this.ctx.store.chat.unhideDialog(dialog.id, caller.userId);
    }
    return dialog;
  }

  /** Admins are occupants of a group, or users of the application for a public dialog; none in private ones. */
  private async checkAdmins(appId: number, type: DialogType, occupants: number[], adminIds: number[]): Promise<number[]> {
    if (type === PRIVATE) return [];
    const unknown = type === GROUP
      ? adminIds.filter((id) => !occupants.includes(id))
      : await missingUsers(this.ctx, appId, adminIds);
    if (unknown.length > 0) throw new ApiError('adminsNotFound');
    return adminIds;
  }

  /** With `rendered`, the items may be JsonItems (the JSON a store wrote, see ChatStore.renderDialogs) rather than views. */
  async list(caller: Caller, params: Params, options: { rendered?: boolean } = {}): Promise<DialogList | CountOnly> {
    const query = {
      appId: caller.appId,
      userId: caller.userId,
      filters: [...parseFilters(params, DIALOG_FILTERS), ...parseDataFilters(params)],
    };
    if (parseBoolean(params.count) === true) return { items: { count: await this.ctx.store.chat.countDialogs(query) } };
    const { limit, skip } = parsePaging(params, DIALOG_PAGE, DIALOG_PAGE);
    const sort = parseSort(params, DIALOG_SORTS);
    const chat = this.ctx.store.chat;
    const pageQuery = { ...query, sort, limit, skip };
    let total: number;
    let views: DialogView[];
    // A page the store renders (on a read worker), with the total counted by the same statement.
    const rendered = options.rendered && chat.renderDialogs ? await chat.renderDialogs(pageQuery, { mucDomain: this.ctx.mucDomain }) : null;
    if (rendered) {
      views = rendered.items.map((json) => new JsonItem(json, '') as unknown as DialogView);
      total = rendered.total;
    } else {
      // Both at once: on SQLite's read pool they run on two workers, on PostgreSQL on two connections.
      const [count, rows] = await Promise.all([chat.countDialogs(query), chat.listDialogs(pageQuery)]);
      total = count;
      views = rows.map(({ dialog, state }) => this.view(dialog, dialog.type === PUBLIC_GROUP ? 0 : state.unreadCount));
    }
    const page = takeWithinBytes(views, itemJsonBytes, this.ctx.limits.pageMaxBytes);
    // A page cut short by its size says so in `limit`, so that skip + limit is where the next one starts.
    return { total_entries: total, skip, limit: page.full ? page.taken.length : limit, items: page.taken };
  }

  /** 404 when unknown or deleted by the caller for themselves, 403 when not theirs to see. */
  async get(caller: Caller, dialogId: string): Promise<DialogView> {
    const dialog = await loadAccessibleDialog(this.ctx, caller, dialogId);
    if ((await this.ctx.store.chat.getMemberState(dialog.id, caller.userId)).hidden) throw new ApiError('notFound');
    return this.viewFor(caller, dialog);
  }

  async update(caller: Caller, dialogId: string, params: Params): Promise<DialogUpdate> {
    const dialog = await loadAccessibleDialog(this.ctx, caller, dialogId);
    if (!canUpdate(dialog, caller.userId)) throw new ApiError('forbidden');
    const changes: DialogChanges = { updatedAt: new Date(this.ctx.now()) };

    if (params.name !== undefined && dialog.type !== PRIVATE) {
      const name = parseName(params.name);
      if (name === undefined) throw new ApiError('invalidField', "can't be blank", 'name');
      changes.name = name;
    }
    if (params.photo !== undefined) changes.photo = parsePhoto(params.photo) ?? null;
    const data = this.parseData(params.data);
    if (data !== undefined) changes.data = data === null ? null : { ...dialog.data, ...data };
    if (changes.data) checkCustomSize('data', this.ctx.limits, changes.data);

    const joinRequired = parseJoinRequired(params);
    checkJoinRequired(dialog.type, joinRequired);
    if (dialog.type === GROUP && joinRequired !== undefined && joinRequired !== dialog.isJoinRequired) {
      if (!isOwner(dialog, caller.userId)) throw new ApiError('forbidden');
      changes.isJoinRequired = joinRequired;
    }

    const pushAll = params.push_all as Params | undefined;
    const pullAll = params.pull_all as Params | undefined;
    const { added, removed } = await this.occupantChanges(caller, dialog, pushAll?.occupants_ids, pullAll?.occupants_ids);
    if (added.length) changes.addOccupants = added;
    if (removed.length) changes.removeOccupants = removed;

    const adminIds = parseUserIds(params.admin_ids, 'admin_ids');
    const pushAdmins = parseUserIds(pushAll?.admin_ids, 'admin_ids');
    const pullAdmins = parseUserIds(pullAll?.admin_ids, 'admin_ids');
    if (dialog.type !== PRIVATE && (adminIds || pushAdmins || pullAdmins)) {
      if (!isOwner(dialog, caller.userId)) throw new ApiError('adminsForbidden');
      const occupants = dialog.occupantIds.concat(added).filter((id) => !removed.includes(id));
      const next = new Set([...(adminIds ?? dialog.adminIds), ...(pushAdmins ?? [])]);
      for (const id of pullAdmins ?? []) next.delete(id);
      changes.adminIds = await this.checkAdmins(caller.appId, dialog.type, occupants, [...next]);
    }

    const updated = await this.ctx.store.chat.updateDialog(caller.appId, dialog.id, changes);
    if (!updated) throw new ApiError('notFound');
    if (removed.length) this.ctx.events.emit('occupantsRemoved', { dialog: updated, userIds: removed, actor: caller.userId });
    const abandoned = updated.type === GROUP && updated.occupantIds.length === 0;
    if (abandoned && (await this.ctx.store.chat.deleteDialog(caller.appId, updated.id))) {
      this.ctx.events.emit('dialogDeleted', { dialog: updated, actor: caller.userId });
    } else if (!abandoned) {
      this.ctx.events.emit('dialogUpdated', { dialog: updated, actor: caller.userId });
    }
    return { dialog: await this.viewFor(caller, updated), addedUserIds: added, removedUserIds: removed, deleted: abandoned };
  }

  /** Validates push_all/pull_all of occupants_ids against the rules of the dialog's type. */
  private async occupantChanges(caller: Caller, dialog: Dialog, push: unknown, pull: unknown): Promise<{ added: number[]; removed: number[] }> {
    const added = (parseUserIds(push, 'occupants_ids') ?? []).filter((id) => !isOccupant(dialog, id));
    const removed = (parseUserIds(pull, 'occupants_ids') ?? []).filter((id) => isOccupant(dialog, id));
    if (dialog.type === PUBLIC_GROUP) return { added: [], removed: [] }; // public dialogs have no occupant list
    if (dialog.type === PRIVATE) {
      if (added.length) throw new ApiError('tooManyOccupants');
      if (removed.length) throw new ApiError('forbidden');
      return { added, removed };
    }
    if (removed.some((id) => !canRemoveOccupant(dialog, caller.userId, id))) throw new ApiError('forbidden');
    if (removed.includes(dialog.ownerId) && caller.userId !== dialog.ownerId) throw new ApiError('forbidden');
    if ((await missingUsers(this.ctx, caller.appId, added)).length > 0) throw new ApiError('occupantsNotFound');
    return { added, removed };
  }

  /**
   * Deletes each dialog for the caller only, or with `force` for everyone (owner only). Malformed,
   * unknown and already self-deleted ids are NotFound; dialogs the caller may not delete are
   * WrongPermissions.
   */
  async delete(caller: Caller, dialogIds: string[], force: boolean): Promise<DeleteResult> {
    const result = emptyDeleteResult();
    for (const rawId of new Set(dialogIds)) {
      const id = normalizeObjectId(rawId);
      const dialog = id ? await this.ctx.store.chat.getDialog(caller.appId, id) : null;
      const hidden = dialog ? (await this.ctx.store.chat.getMemberState(dialog.id, caller.userId)).hidden : false;
      if (!dialog || hidden) {
        result.NotFound.ids.push(rawId);
      } else if (force ? !isOwner(dialog, caller.userId) : !canAccess(dialog, caller.userId)) {
        result.WrongPermissions.ids.push(rawId);
      } else if (force) {
        await this.ctx.store.chat.deleteDialog(caller.appId, dialog.id);
        result.SuccessfullyDeleted.ids.push(rawId);
        this.ctx.events.emit('dialogDeleted', { dialog, actor: caller.userId });
      } else {
        await this.ctx.store.chat.hideDialog(dialog.id, caller.userId);
        result.SuccessfullyDeleted.ids.push(rawId);
      }
    }
    return result;
  }

  private async notificationDialog(caller: Caller, dialogId: string): Promise<Dialog> {
    const dialog = await loadDialog(this.ctx, caller.appId, dialogId);
    // Push settings exist for group and private dialogs, per occupant.
    if (!isOccupant(dialog, caller.userId) || dialog.type === PUBLIC_GROUP) throw new ApiError('forbidden');
    return dialog;
  }

  async getNotifications(caller: Caller, dialogId: string): Promise<NotificationSettings> {
    const dialog = await this.notificationDialog(caller, dialogId);
    const { notificationsEnabled } = await this.ctx.store.chat.getMemberState(dialog.id, caller.userId);
    return { notifications: { enabled: notificationsEnabled ? 1 : 0 } };
  }

  async setNotifications(caller: Caller, dialogId: string, params: Params): Promise<NotificationSettings> {
    const dialog = await this.notificationDialog(caller, dialogId);
    const nested = params.notifications as Params | undefined;
    const enabled = parseBoolean(params.enabled ?? nested?.enabled);
    if (enabled === undefined) throw new ApiError('invalidField', 'is invalid', 'enabled');
    await this.ctx.store.chat.setNotifications(dialog.id, caller.userId, enabled);
    return { notifications: { enabled: enabled ? 1 : 0 } };
  }
}
