// The local Redis server's process, for benches that report Redis's CPU beside the server's.
import { Redis } from 'ioredis';
import { processCpu } from './proc.js';

/** The pid of the Redis server at `url` when it runs on this machine (it answers INFO with its pid, and /proc has it). */
export async function localRedisPid(url: string): Promise<number | null> {
  const redis = new Redis(url);
  try {
    const pid = Number(/process_id:(\d+)/.exec(await redis.info('server'))?.[1]);
    if (!pid) return null;
    processCpu(pid);
    return pid;
  } catch {
    return null;
  } finally {
    await redis.quit();
  }
}
