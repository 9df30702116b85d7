// What ChatService announces after a change is committed, so that transports (XMPP delivery,
// MUC kicks, push) can act on it. Listeners run in registration order; a listener that throws or
// rejects is reported to `onError` and never undoes or fails the committed operation.
import type { ChatMessage, Dialog } from '../storage/types.js';
import type { MessageView } from './views.js';
import { Announcer, type Listener } from '../util/announcer.js';

export type Origin = 'rest' | 'xmpp';

export interface MessageEvent {
  /** The message as REST returns it. */
  message: MessageView;
  /** The same message as stored, custom parameters kept apart (for building extraParams). */
  record: ChatMessage;
  /** The dialog after the message was stored. */
  dialog: Dialog;
  /** REST `send_to_chat=1`: deliver it in real time. */
  sendToChat: boolean;
  /** REST `system=1`: deliver it as a system notification to the private opponent (it is not stored). */
  system: boolean;
  origin: Origin;
}

export interface OccupantsRemovedEvent {
  /** The dialog after the removal. */
  dialog: Dialog;
  userIds: number[];
  actor: number;
}

export interface DialogDeletedEvent {
  /** The dialog as it was before it was deleted for everyone. */
  dialog: Dialog;
  actor: number;
}

export interface ReactionEvent {
  dialog: Dialog;
  message: ChatMessage;
  userId: number;
  name: string;
  action: 'add' | 'remove';
}

export interface MessageEditedEvent {
  dialog: Dialog;
  /** The message after the edit. */
  message: ChatMessage;
  actor: number;
}

export interface MessagesDeletedEvent {
  dialog: Dialog;
  /** As they were, deleted for everyone. */
  messages: ChatMessage[];
  actor: number;
}

export interface DialogUpdatedEvent {
  /** The dialog after the update. */
  dialog: Dialog;
  actor: number;
}

export interface ChatEventMap {
  message: MessageEvent;
  occupantsRemoved: OccupantsRemovedEvent;
  dialogDeleted: DialogDeletedEvent;
  reaction: ReactionEvent;
  messageEdited: MessageEditedEvent;
  messagesDeleted: MessagesDeletedEvent;
  dialogUpdated: DialogUpdatedEvent;
}

export type ChatListener<K extends keyof ChatEventMap> = Listener<ChatEventMap[K]>;

export class ChatEvents extends Announcer<ChatEventMap> {}
