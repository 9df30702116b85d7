// The chat rules both SQL drivers apply in the same way, written once: what a read/delivered mark
// does to a message's marks, and which messages count as unread for the stored counters.
import type { MessageMarks } from './chat-types.js';

/** Where a user stands in a dialog, as far as unread counting goes. */
export interface MemberStanding {
  occupant: boolean;
  /** Messages up to this sequence number never count as unread (the user joined or cleared after them). */
  unreadFromSeq: number;
}

/** The definition of "unread" that the stored counters follow (see ChatStore). */
export function countsAsUnread(
  message: { seq: number; senderId: number; readIds: readonly number[]; hidden: boolean },
  userId: number,
  member: MemberStanding | undefined,
): boolean {
  return member !== undefined && member.occupant && message.senderId !== userId && !message.readIds.includes(userId)
    && message.seq > member.unreadFromSeq && !message.hidden;
}

/** The read and delivered lists after a user's marks; the same arrays when nothing changes. */
export function nextMarks(
  readIds: number[], deliveredIds: number[], senderId: number, userId: number, marks: MessageMarks,
): { readIds: number[]; deliveredIds: number[]; changed: boolean } {
  let nextRead = readIds;
  if (marks.read === true && !readIds.includes(userId)) nextRead = [...readIds, userId];
  if (marks.read === false && senderId !== userId) nextRead = readIds.filter((id) => id !== userId);
  const deliver = (marks.read === true || marks.delivered === true) && !deliveredIds.includes(userId);
  const nextDelivered = deliver ? [...deliveredIds, userId] : deliveredIds;
  return { readIds: nextRead, deliveredIds: nextDelivered, changed: nextRead !== readIds || nextDelivered !== deliveredIds };
}
