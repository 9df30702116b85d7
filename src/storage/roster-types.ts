// Rosters (RFC 6121).
export type Subscription = 'none' | 'to' | 'from' | 'both';

export interface RosterItem {
  jid: string; // bare JID of the contact
  name: string | null;
  subscription: Subscription;
  ask: boolean; // a subscription request sent by the owner is pending
  groups: string[];
}

export interface RosterStore {
  getRoster(userId: number): Promise<RosterItem[]>;
  getItem(userId: number, jid: string): Promise<RosterItem | null>;
  setItem(userId: number, item: RosterItem): Promise<void>;
  removeItem(userId: number, jid: string): Promise<boolean>;
}
