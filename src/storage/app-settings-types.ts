// Per-application settings an operator sets from the CLI (e.g. whether custom-object classes may
// be created by first use). Values are JSON; which keys exist is decided by the features.

export interface AppSettingsStore {
  get(appId: number, key: string): Promise<unknown>;
  /** Every setting of the application. */
  all(appId: number): Promise<Record<string, unknown>>;
  /** undefined removes the setting. */
  set(appId: number, key: string, value: unknown): Promise<void>;
}
