// The single-process cluster: every session is local, so there is never anywhere else to look.
import type { Cluster, ResourceLocation } from './types.js';
import { LocalRoomDirectory } from './local-rooms.js';

export class LocalCluster implements Cluster {
  readonly enabled = false;
  readonly nodeId = 'local';
  readonly rooms = new LocalRoomDirectory();
  async start(): Promise<void> {}
  async register(): Promise<void> {}
  async claim(): Promise<string | null> {
    return null;
  }
  async placeResumable(): Promise<void> {}
  async resumableAt(): Promise<string | null> {
    return null;
  }
  async unregister(): Promise<void> {}
  async locate(): Promise<ResourceLocation[]> {
    return [];
  }
  async locateMany(bares: string[]): Promise<Map<string, ResourceLocation[]>> {
    return new Map(bares.map((b) => [b, []]));
  }
  async publish(): Promise<boolean> {
    return false;
  }
  async liveNodes(): Promise<string[]> {
    return [this.nodeId];
  }
  async ping(): Promise<void> {}
  async stop(): Promise<void> {}
}
