// The sender of last resort: an application with no credentials for a channel gets its pushes
// written to the log (without the device token in full), so that development needs no provider.
import type { Logger } from 'pino';
import type { OutboxPush } from '../storage/push-types.js';
import type { PushSender, SendOutcome } from './sender.js';

export class LogSender implements PushSender {
  constructor(private readonly log: Logger) {}

  async send(push: OutboxPush): Promise<SendOutcome> {
    this.log.info({ push: push.id, app: push.appId, user: push.userId, channel: push.channel, token: `${push.token.slice(0, 8)}…`, payload: push.payload }, 'push (log only: no credentials for this channel)');
    return { kind: 'sent' };
  }

  close(): void {}
}
