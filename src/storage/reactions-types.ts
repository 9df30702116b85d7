// Message reactions (QuickBlox 2.24: POST/DELETE/GET /chat/Message/{id}/reactions.json): one row
// per (message, reaction name, user). They go with their message when it is deleted.

export interface ReactionSummary {
  name: string;
  /** Ascending. */
  userIds: number[];
}

export type AddReactionResult = 'added' | 'exists' | 'limit';

export interface ReactionStore {
  /**
   * Adds the user's reaction atomically: 'limit' (and nothing stored) when it would be the
   * message's `maxNames + 1`th distinct name, 'exists' when the user already reacted so.
   */
  addReaction(messageId: string, userId: number, name: string, at: Date, maxNames: number): Promise<AddReactionResult>;
  removeReaction(messageId: string, userId: number, name: string): Promise<boolean>;
  /** Per message, its reactions in the order their names were first used. Messages without any are absent. */
  listReactions(messageIds: string[]): Promise<Map<string, ReactionSummary[]>>;
}
