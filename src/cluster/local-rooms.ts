// The single-process room directory: every occupant is on this node.
import type { PlacedMember, RoomDirectory, RoomEvent, RoomListener } from './rooms.js';

export class LocalRoomDirectory implements RoomDirectory {
  readonly enabled = false;
  readonly nodeId = 'local';
  private readonly listeners: RoomListener[] = [];
  listen(listener: RoomListener): void {
    this.listeners.push(listener);
  }
  async join(): Promise<void> {}
  async leave(): Promise<void> {}
  async publish(room: string, event: RoomEvent): Promise<void> {
    for (const listener of this.listeners) listener.event(room, event, this.nodeId);
  }
  async publishToAccounts(): Promise<void> {}
  async members(): Promise<PlacedMember[]> {
    return [];
  }
  async lock(): Promise<() => Promise<void>> {
    return async () => {};
  }
}
