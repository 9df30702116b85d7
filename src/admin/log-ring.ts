import { pino, type Level, type Logger } from 'pino';
// A pino destination that keeps the most recent warnings and errors in memory for the console's
// log page. Lines are pino's JSON; anything else is ignored.

export interface LogEntry {
  time: number;
  level: 'warn' | 'error' | 'fatal';
  msg: string;
  /** The rest of the line's fields, minus pino's own bookkeeping. */
  fields: Record<string, unknown>;
}

const LEVELS: Record<number, LogEntry['level']> = { 40: 'warn', 50: 'error', 60: 'fatal' };
const MAX_LINE = 16 * 1024;

export class LogRing {
  private readonly entries: LogEntry[] = [];

  constructor(readonly capacity = 500) {}

  /** The destination interface pino writes to (one JSON line per call). */
  write(line: string): boolean {
    if (line.length > MAX_LINE) line = line.slice(0, MAX_LINE);
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return true;
    }
    const level = LEVELS[Number(parsed.level)];
    if (!level) return true;
    const { time, msg, level: _level, pid: _pid, hostname: _hostname, ...fields } = parsed;
    this.entries.push({ time: typeof time === 'number' ? time : Date.now(), level, msg: String(msg ?? ''), fields });
    if (this.entries.length > this.capacity) this.entries.splice(0, this.entries.length - this.capacity);
    return true;
  }

  /** Newest first. */
  recent(limit = this.capacity): LogEntry[] {
    return this.entries.slice(-limit).reverse();
  }
}

/** A pino logger writing to stdout as usual, and its warnings and errors also to `ring`. */
export function loggerWithRing(level: Level | 'silent', name: string, ring: LogRing): Logger {
  if (level === 'silent') return pino({ level, name });
  return pino({ level, name }, pino.multistream([{ level, stream: process.stdout }, { level: 'warn', stream: ring }]));
}
