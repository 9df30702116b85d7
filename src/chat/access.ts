// Who may do what in a dialog: the permission rules of QuickBlox's chat, in one place.
import type { Dialog } from '../storage/types.js';

export const PUBLIC_GROUP = 1;
export const GROUP = 2;
export const PRIVATE = 3;

export const isOccupant = (dialog: Dialog, userId: number): boolean => dialog.occupantIds.includes(userId);

/** Occupants read and write; public dialogs are open to every user of the application. */
export const canAccess = (dialog: Dialog, userId: number): boolean => dialog.type === PUBLIC_GROUP || isOccupant(dialog, userId);

export const isOwner = (dialog: Dialog, userId: number): boolean => dialog.ownerId === userId;

/** The owner, and the admins of group and public dialogs. */
export const isManager = (dialog: Dialog, userId: number): boolean =>
  isOwner(dialog, userId) || (dialog.type !== PRIVATE && dialog.adminIds.includes(userId));

/** Public dialogs take updates from their managers only; group and private ones from any occupant. */
export const canUpdate = (dialog: Dialog, userId: number): boolean =>
  dialog.type === PUBLIC_GROUP ? isManager(dialog, userId) : isOccupant(dialog, userId);

/** A group occupant may remove themselves; removing others takes a manager. */
export const canRemoveOccupant = (dialog: Dialog, actor: number, userId: number): boolean =>
  actor === userId || isManager(dialog, actor);

/** Unread counters and read/delivered marks exist for occupants of non-public dialogs only. */
export const tracksReads = (dialog: Dialog, userId: number): boolean => dialog.type !== PUBLIC_GROUP && isOccupant(dialog, userId);
