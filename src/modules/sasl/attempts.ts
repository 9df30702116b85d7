// What one SASL attempt is charged to: the account it names and the client's address. Failures are
// limited per account and address (one user behind a NAT guessing wrong does not lock out the
// others), attempts of any outcome per account and address and per address (so aborts and restarts
// cannot be used to run the server's key lookups for free).
import type { Config } from '../../config/types.js';
import { FailureLimiter } from './limiter.js';

const WINDOW_MS = 60_000;

export class SaslAttempts {
  private readonly failures: FailureLimiter;
  private readonly perAccount: FailureLimiter;
  private readonly perAddress: FailureLimiter;

  constructor(config: Pick<Config, 'auth_failures_per_minute' | 'auth_attempts_per_minute' | 'auth_attempts_per_address_per_minute'>) {
    this.failures = new FailureLimiter(config.auth_failures_per_minute, WINDOW_MS);
    // +1: the limit is how many may go through; `blocked` is checked after this attempt was counted.
    this.perAccount = new FailureLimiter(config.auth_attempts_per_minute + 1, WINDOW_MS);
    this.perAddress = new FailureLimiter(config.auth_attempts_per_address_per_minute + 1, WINDOW_MS);
  }

  /** Counts an attempt; false when it must be refused (temporary-auth-failure) without looking at its credentials. */
  begin(account: string, address: string): boolean {
    const key = accountKey(account, address);
    this.perAccount.record(key);
    this.perAddress.record(address);
    return !this.failures.blocked(key) && !this.perAccount.blocked(key) && !this.perAddress.blocked(address);
  }

  failed(account: string, address: string): void {
    this.failures.record(accountKey(account, address));
  }
}

const accountKey = (account: string, address: string): string => `${account.toLowerCase()}\0${address}`;

/** The authentication identity of a SCRAM client-first-message (`n,,n=user,r=…`), unescaped; '' when there is none. */
export function scramUsername(clientFirst: Buffer): string {
  const parts = clientFirst.subarray(0, 1024).toString('utf8').split(',', 4);
  const name = parts[2]?.startsWith('n=') ? parts[2].slice(2) : '';
  return name.replace(/=2C/g, ',').replace(/=3D/g, '=');
}

/** The authentication identity of a PLAIN message (authzid NUL authcid NUL password); '' when malformed. */
export function plainUsername(message: Buffer): string {
  const parts = message.toString('utf8').split('\0');
  return parts.length === 3 ? parts[1]! : '';
}
