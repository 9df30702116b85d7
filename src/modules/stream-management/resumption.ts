// Which stream-management ids can be resumed, and — for a while after a session ended — the last
// `h` of ids that cannot any more (XEP-0198 lets <failed/> carry it).
import type { C2sSession } from '../../core/api.js';

const ENDED_LIMIT = 10_000;

interface Ended {
  owner: string;
  h: number;
  until: number;
}

/** Whose a session is: resumption is only ever granted to the same user. */
export const ownerOf = (session: C2sSession): string => `${session.user?.userId}-${session.user?.appId}`;

export class ResumableSessions {
  private readonly live = new Map<string, C2sSession>();
  private readonly ended = new Map<string, Ended>();

  constructor(private readonly rememberMs: number) {}

  add(id: string, session: C2sSession): void {
    this.live.set(id, session);
  }

  /** The session `id` names, if it is resumable and belongs to the user of `by`. */
  find(id: string, by: C2sSession): C2sSession | undefined {
    return this.findOwned(id, ownerOf(by));
  }

  /** `find` for an owner named by `ownerOf` (a request from another node). */
  findOwned(id: string, owner: string): C2sSession | undefined {
    const session = this.live.get(id);
    return session && ownerOf(session) === owner ? session : undefined;
  }

  /** The session moved to another node: `id` is no longer resumable here, and no h is remembered. */
  forget(id: string, session: C2sSession): void {
    if (this.live.get(id) === session) this.live.delete(id);
  }

  /** The session ended: `id` is no longer resumable; its final `h` is remembered for its owner. */
  end(id: string, session: C2sSession, h: number): void {
    if (this.live.get(id) !== session) return;
    this.live.delete(id);
    if (this.ended.size >= ENDED_LIMIT) this.ended.delete(this.ended.keys().next().value!);
    this.ended.set(id, { owner: ownerOf(session), h, until: Date.now() + this.rememberMs });
  }

  /** The final `h` of an ended session, for its owner, while remembered. */
  endedH(id: string, by: C2sSession): number | undefined {
    return this.endedHOwned(id, ownerOf(by));
  }

  endedHOwned(id: string, owner: string): number | undefined {
    const ended = this.ended.get(id);
    if (!ended) return undefined;
    if (ended.until < Date.now()) {
      this.ended.delete(id);
      return undefined;
    }
    return ended.owner === owner ? ended.h : undefined;
  }
}
