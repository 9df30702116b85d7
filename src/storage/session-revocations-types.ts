// Stream endings asked for by a process that holds no streams (the CLI): it records them here and
// every server node reads what is new at a short interval (and at once on SIGHUP), ending its own
// streams of that account or application. Records are kept an hour; ids never repeat.

/** password: the user's streams end with <reset/>; user-deleted and app-deleted: with <not-authorized/>. */
export type RevocationKind = 'password' | 'user-deleted' | 'app-deleted';

export interface SessionRevocation {
  id: number;
  kind: RevocationKind;
  appId: number;
  /** null for app-deleted. */
  userId: number | null;
  createdAt: Date;
}

/** How long a record is kept: a node that was down longer has no streams from before it anyway. */
export const REVOCATION_KEEP_MS = 3600_000;

export interface SessionRevocationStore {
  /** Records a revocation (and removes those older than REVOCATION_KEEP_MS); returns its id. */
  add(input: { kind: RevocationKind; appId: number; userId: number | null }): Promise<number>;
  /** The highest id handed out so far (0 when none): a starting node reads only what comes after it. */
  latestId(): Promise<number>;
  /** Records with an id above `after`, oldest first, at most `limit`. */
  since(after: number, limit: number): Promise<SessionRevocation[]>;
}
