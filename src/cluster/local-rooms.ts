// The single-process room directory: every occupant is on this node.
import type { PlacedMember, RoomDirectory, RoomEvent, RoomListener } from './rooms.js';

export class LocalRoomDirectory implements RoomDirectory {
  readonly enabled = false;
  readonly nodeId = 'local';
  private listener: RoomListener | null = null;
  listen(listener: RoomListener): void {
    this.listener = listener;
  }
  async join(): Promise<void> {}
  async leave(): Promise<void> {}
  async publish(room: string, event: RoomEvent): Promise<void> {
    this.listener?.event(room, event, this.nodeId);
  }
  async publishToAccounts(): Promise<void> {}
  async members(): Promise<PlacedMember[]> {
    return [];
  }
}
