// REST password guessing: failed sign-ins (POST /session.json with user credentials, POST
// /login.json) are counted per account and per client address over a window; past either
// allowance every attempt on that key, right or wrong, gets QuickBlox's 429 until the window
// moves on. A success clears the account's count (not the address's). Counters live in memory,
// per node, in rate-limiter-flexible's fixed windows.
import { RateLimiterMemory, type RateLimiterRes } from 'rate-limiter-flexible';
import { ApiError } from '../chat/errors.js';
import { metrics } from '../metrics/index.js';

export interface LoginThrottleOptions {
  perAccount: number;
  perAddress: number;
  windowSeconds: number;
}

/** A 429 that says when to come back (the Retry-After header). */
export class ThrottledError extends ApiError {
  constructor(readonly retryAfterSeconds: number) {
    super('tooManyRequests');
  }
}

export class LoginThrottle {
  private readonly byAccount: RateLimiterMemory;
  private readonly byAddress: RateLimiterMemory;

  constructor(private readonly options: LoginThrottleOptions) {
    this.byAccount = new RateLimiterMemory({ keyPrefix: 'account', points: options.perAccount, duration: options.windowSeconds });
    this.byAddress = new RateLimiterMemory({ keyPrefix: 'address', points: options.perAddress, duration: options.windowSeconds });
  }

  /** Throws ThrottledError when the account or the address has used up its failures. */
  async check(account: string, address: string): Promise<void> {
    const [a, b] = await Promise.all([this.byAccount.get(account), this.byAddress.get(address)]);
    const waits = [
      exhausted(a, this.options.perAccount),
      exhausted(b, this.options.perAddress),
    ].filter((ms): ms is number => ms !== null);
    if (waits.length > 0) {
      metrics.authThrottled.inc({ via: 'rest' });
      throw new ThrottledError(Math.max(1, Math.ceil(Math.max(...waits) / 1000)));
    }
  }

  async failed(account: string, address: string): Promise<void> {
    await Promise.all([this.byAccount.penalty(account, 1), this.byAddress.penalty(address, 1)]);
  }

  async succeeded(account: string): Promise<void> {
    await this.byAccount.delete(account);
  }
}

function exhausted(res: RateLimiterRes | null, allowed: number): number | null {
  return res !== null && res.consumedPoints >= allowed ? res.msBeforeNext : null;
}

/** The account key of a sign-in: application and login (or e-mail), case-folded. */
export const accountKey = (appId: number, name: string): string => `${appId}:${name.trim().toLowerCase()}`;
