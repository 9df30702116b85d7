// What the console's routes receive, and the errors they answer with.
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { AccountService } from '../accounts/service.js';
import type { ChatService } from '../chat/service.js';
import type { Cluster } from '../cluster/types.js';
import type { ClusterSessions } from '../cluster-sessions.js';
import type { Config } from '../config/types.js';
import type { Core } from '../core/core.js';
import type { Operator } from '../storage/admin-types.js';
import type { Store } from '../storage/types.js';
import type { LogRing } from './log-ring.js';

export interface AdminDeps {
  store: Store;
  config: Config;
  log: Logger;
  core: Core;
  chat: ChatService;
  /** User deletion and password changes, which REST tokens and XMPP sessions on every node follow. */
  accounts: AccountService;
  cluster: Cluster;
  /** XMPP streams on every node: list, close one, end a user's after a password change. */
  sessions: ClusterSessions;
  /** The registry /metrics serves; the overview reads the same numbers. */
  metrics: Registry;
  /** Recent warnings and errors; the log page is empty without it. */
  logRing?: LogRing;
  /** The clock; tests move it. */
  now?: () => Date;
}

export class AdminError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = 'AdminError';
  }
}

export const notFound = (what: string) => new AdminError(404, `${what} not found`);

declare module 'fastify' {
  interface FastifyRequest {
    operator: Operator | null;
  }
}

/** Whether the operator may see and change application `appId`. */
export const mayUse = (operator: Operator, appId: number): boolean => operator.appIds === null || operator.appIds.includes(appId);
