// What operators do to whole applications (the `parley apps` verbs, the console).
import type { Application } from './account-types.js';

export interface ApplicationAdminStore {
  /** Deletes the application and everything in it (users, sessions, dialogs, history, blob records); false when unknown. */
  deleteApplication(id: number): Promise<boolean>;
  /** A new auth secret: session signatures made with the old one stop matching. Null when unknown. */
  rotateAuthSecret(id: number): Promise<Application | null>;
}
