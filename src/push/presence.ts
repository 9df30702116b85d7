// Whether a user can be reached over XMPP right now, anywhere in the cluster: chat alerts go to
// those who cannot, and a ping to a user's bare JID answers by it.
import type { Cluster } from '../cluster/types.js';

export interface PresenceDirectory {
  /** True when the user has an available resource on some node (a detached, resumable session counts as away). */
  isAvailable(appId: number, userId: number): Promise<boolean>;
  /** True when the user has an available resource on this node: known at once, without asking the cluster. */
  isAvailableHere(appId: number, userId: number): boolean;
}

/** What this node knows of its own sessions (core's SessionRegistry fits). */
export interface LocalSessions {
  available(bare: string): readonly { detached: boolean }[];
}

export function clusterPresence(sessions: LocalSessions, cluster: Cluster, domain: string): PresenceDirectory {
  const here = (appId: number, userId: number): boolean => sessions.available(`${userId}-${appId}@${domain}`).some((s) => !s.detached);
  return {
    isAvailableHere: here,
    async isAvailable(appId, userId) {
      const bare = `${userId}-${appId}@${domain}`;
      if (here(appId, userId)) return true;
      if (!cluster.enabled) return false;
      // This node's own resources were judged above (the registry cannot tell a detached one).
      return (await cluster.locate(bare)).some((l) => l.available && l.node !== cluster.nodeId);
    },
  };
}
