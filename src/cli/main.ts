import cluster from 'node:cluster';
import { ArchiveSettings } from '../modules/mam/settings.js';
import { readFileSync, realpathSync } from 'node:fs';
import { chmod, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { pino } from 'pino';
import { CONFIG_KEYS, ConfigError, configKeysMarkdown, loadConfig, redactedConfig } from '../config/load.js';
import type { Config } from '../config/types.js';
import { openStore, ownerOnlyDirectory } from '../storage/open.js';
import { BlobFiles } from '../storage/blob-files.js';
import { sweepOrphanBlobFiles } from '../storage/blob-sweeper.js';
import { lockDataDir, runningServerPid } from '../storage/sqlite/data-dir-lock.js';
import { sqliteFile } from '../storage/sqlite/index.js';
import { DuplicateLoginError, type Application, type Store, type User } from '../storage/types.js';
import { EXPORT_FORMATS, type ExportFormat } from '../export/history.js';
import { exportCommand } from './export.js';
import { migrateCommand } from './migrate.js';
import * as platform from './platform.js';
import { printPushSettings, pushAlerts, pushSet, pushShow, PushUsageError } from './push.js';
import { MAX_WORKERS, superviseWorkers } from './workers.js';
import { loadOrCreateTlsCredentials } from '../util/tls.js';
import { explainStartupError } from './startup-errors.js';
import { readSecret } from './read-secret.js';
import { AccountService } from '../accounts/service.js';
import { ADMIN_VERBS, AdminCommandError, adminsCommand } from './admins.js';
import { LogRing, loggerWithRing } from '../admin/log-ring.js';

export interface CliIo {
  stdout?: (text: string) => void;
  stderr?: (text: string) => void;
  env?: NodeJS.ProcessEnv;
  /** Where `users passwd` and `admins create` read the password (default: process.stdin). */
  stdin?: NodeJS.ReadableStream & { isTTY?: boolean };
}

const USAGE = `Usage: parley <command> [options]

Commands:
  serve [--workers N]           Run the chat server (with --workers: N processes, each a cluster
                                node sharing the ports; needs redis_url)
  apps create [--name N]        Create an application and print its credentials
  apps list                     List applications
  apps archive --app ID [--all on|off]
                                Show (or set) whether every chat message is archived for MAM
                                (mam_archive_all), not only save_to_history=1 ones
  apps rotate-secret --app ID   Give an application a new auth secret (the old one stops working)
  apps delete --app ID --yes    Delete an application with its users, dialogs and history
  users create --app ID --login L --password P [--email E] [--full-name F]
                                Create a user in an application
  users list --app ID           List the users of an application
  users passwd --app ID (--id N | --login L)
                                Set a user's password, read from stdin (a prompt on a terminal)
  users delete --app ID (--id N | --login L)
                                Delete a user
  admins create --email E [--apps 1,2]
                                Create a console operator (limited to those applications); the
                                password is asked for, or read from the first line of stdin
  admins list                   List console operators
  admins delete --email E       Delete a console operator (ends their console sessions)
  export --app ID [--dialog ID] [--format jsonl|csv] [--out FILE]
                                Write a dialog's (or the whole application's) chat history
  migrate [--from sqlite://PATH] [--to postgres://URL]
                                Copy an installation from SQLite (default: the data dir's) into an
                                empty PostgreSQL database (default: database_url); stop the server first
  apps set --app ID --key K [--value V]
                                Set (or without --value remove) an application setting:
                                custom_objects_auto_create true|false
  classes create --app ID --name N --fields f:Type,…
                                Create a custom-object class (Integer, Float, Boolean, String,
                                Date, Location, File; arrays as String_a …)
  classes list --app ID         List an application's classes
  classes delete --app ID --name N
                                Delete a class with all its records
  apikeys create --app ID       Make an API key (printed once; only its digest is kept)
  apikeys list --app ID         List an application's API keys
  apikeys revoke --app ID --id N
                                Revoke an API key
  push set --app ID --channel apns --key-file F.p8 --key-id K --team-id T --bundle-id B [--endpoint URL]
  push set --app ID --channel gcm --service-account F.json [--endpoint URL]
  push set --app ID --channel webhook --url U --secret S
                                Store an application's push credentials (owner-only files under
                                <data_dir>/push; keys and secrets are never printed)
  push show --app ID            Show which push channels are set up
  push alerts --app ID --enable|--disable [--template T]
                                Automatic chat alerts on or off; T uses {sender}, {text}, {dialog}
  config [--markdown]           Print the effective configuration (or the key table)
  help, --version               Show this help, or the version

Options for every command:
  --config FILE     JSON config file (default: $PARLEY_CONFIG, else ./parley.json if present)
  --data-dir DIR    Data directory (overrides data_dir)
  --json            Machine-readable output (not for serve)

Every configuration key can also be set as PARLEY_<KEY>; see \`parley config --markdown\`.
`;

class UsageError extends Error {}

type Options = NonNullable<ParseArgsConfig['options']>;
const COMMON: Options = {
  config: { type: 'string' },
  'data-dir': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};
const VERBS: Record<string, Options> = {
  serve: { workers: { type: 'string' } },
  config: { markdown: { type: 'boolean' } },
  'apps create': { name: { type: 'string' } },
  'apps list': {},
  'apps archive': { app: { type: 'string' }, all: { type: 'string' } },
  'apps rotate-secret': { app: { type: 'string' } },
  'apps delete': { app: { type: 'string' }, yes: { type: 'boolean' } },
  'users create': {
    app: { type: 'string' },
    login: { type: 'string' },
    password: { type: 'string' },
    email: { type: 'string' },
    'full-name': { type: 'string' },
  },
  'users list': { app: { type: 'string' } },
  'users passwd': { app: { type: 'string' }, id: { type: 'string' }, login: { type: 'string' } },
  'users delete': { app: { type: 'string' }, id: { type: 'string' }, login: { type: 'string' } },
  export: { app: { type: 'string' }, dialog: { type: 'string' }, format: { type: 'string' }, out: { type: 'string' } },
  migrate: { from: { type: 'string' }, to: { type: 'string' } },
  ...ADMIN_VERBS,
  'apps set': { app: { type: 'string' }, key: { type: 'string' }, value: { type: 'string' } },
  'classes create': { app: { type: 'string' }, name: { type: 'string' }, fields: { type: 'string' } },
  'classes list': { app: { type: 'string' } },
  'classes delete': { app: { type: 'string' }, name: { type: 'string' } },
  'apikeys create': { app: { type: 'string' } },
  'apikeys list': { app: { type: 'string' } },
  'apikeys revoke': { app: { type: 'string' }, id: { type: 'string' } },
  'push set': {
    app: { type: 'string' }, channel: { type: 'string' }, 'key-file': { type: 'string' }, 'key-id': { type: 'string' },
    'team-id': { type: 'string' }, 'bundle-id': { type: 'string' }, endpoint: { type: 'string' },
    'service-account': { type: 'string' }, url: { type: 'string' }, secret: { type: 'string' },
  },
  'push show': { app: { type: 'string' } },
  'push alerts': { app: { type: 'string' }, enable: { type: 'boolean' }, disable: { type: 'boolean' }, template: { type: 'string' } },
};

type Values = Record<string, string | boolean | undefined>;

export const appJson = (a: Application) => ({
  id: a.id,
  name: a.name,
  auth_key: a.authKey,
  auth_secret: a.authSecret,
  account_key: a.accountKey,
});
export const userJson = (u: User) => ({
  id: u.id,
  app_id: u.appId,
  login: u.login,
  email: u.email,
  full_name: u.fullName,
});

/** Runs one `parley` command and returns its exit code; never calls process.exit itself. */
export async function main(argv: string[], io: CliIo = {}): Promise<number> {
  const stdout = io.stdout ?? ((s: string) => void process.stdout.write(s));
  const stderr = io.stderr ?? ((s: string) => void process.stderr.write(s));
  const out = (line = '') => stdout(`${line}\n`);

  const [first = '', second = ''] = argv;
  if (first === 'help' || first === '--help' || first === '-h') {
    stdout(USAGE);
    return 0;
  }
  if (first === '--version' || first === '-v' || first === 'version') {
    out(`parley ${packageVersion()}`);
    return 0;
  }
  if (!first) {
    stderr(USAGE);
    return 1;
  }
  const verb = first in VERBS ? first : `${first} ${second}`;
  if (!(verb in VERBS)) {
    const what = ['apps', 'users', 'admins', 'classes', 'apikeys', 'push'].includes(first) ? `"${verb.trim()}"` : `"${first}"`;
    stderr(`parley: unknown command ${what}; see \`parley help\`\n`);
    return 1;
  }

  try {
    let values: Values;
    try {
      const options = { ...COMMON, ...VERBS[verb] };
      values = parseArgs({ args: argv.slice(verb.split(' ').length), options, strict: true }).values as Values;
    } catch (err) {
      throw new UsageError(`${verb}: ${(err as Error).message}`);
    }
    if (values.help) {
      stdout(USAGE);
      return 0;
    }

    const dataDir = values['data-dir'] as string | undefined;
    const config = loadConfig({
      file: values.config as string | undefined,
      env: io.env ?? process.env,
      overrides: dataDir !== undefined ? { data_dir: dataDir } : {},
    });
    const json = values.json === true;
    // Secrets go to the terminal, never to a log collector reading a pipe (see ensureApplication).
    const terminal = io.stdout ? false : process.stdout.isTTY === true;

    switch (verb) {
      case 'serve': {
        const workers = workersOption(values);
        if (workers === null) return await serve(config, out, terminal);
        if (!config.redis_url) {
          throw new ConfigError('--workers needs redis_url (PARLEY_REDIS_URL): each worker is a cluster node, and Redis routes stanzas between them');
        }
        const passed = [...(values.config ? ['--config', values.config as string] : []), ...(dataDir !== undefined ? ['--data-dir', dataDir] : [])];
        return await serveWorkers(config, workers, passed, out, terminal);
      }
      case 'config':
        if (values.markdown) out(configKeysMarkdown());
        else if (json) out(JSON.stringify(redactedConfig(config), null, 2));
        else printConfig(redactedConfig(config), out);
        return 0;
      case 'apps create':
        return await withStore(config, async (store) => {
          const app = await store.accounts.createApplication({ name: values.name as string | undefined });
          if (json) out(JSON.stringify(appJson(app)));
          else printApp(app, out);
          return 0;
        });
      case 'apps list':
        return await withStore(config, async (store) => {
          const apps = await store.accounts.listApplications();
          if (json) out(JSON.stringify(apps.map(appJson)));
          else if (apps.length === 0) out('no applications; create one with `parley apps create`');
          else apps.forEach((a) => printApp(a, out));
          return 0;
        });
      case 'apps archive': {
        const appId = appOption(values);
        const wanted = values.all as string | undefined;
        if (wanted !== undefined && wanted !== 'on' && wanted !== 'off') throw new UsageError('apps archive: --all takes on or off');
        return await withStore(config, async (store) => {
          await requireApp(store, appId);
          const settings = new ArchiveSettings(store.keyValue);
          if (wanted !== undefined) await settings.setArchiveAll(appId, wanted === 'on');
          const all = await settings.archiveAll(appId);
          out(json ? JSON.stringify({ app_id: appId, mam_archive_all: all }) : `application ${appId}: mam_archive_all ${all ? 'on' : 'off'}`);
          return 0;
        });
      }
      case 'apps rotate-secret': {
        const appId = appOption(values);
        return await withStore(config, async (store) => {
          const app = await store.accounts.rotateAuthSecret(appId);
          if (!app) throw new Error(`no application with id ${appId}; see \`parley apps list\``);
          if (json) out(JSON.stringify(appJson(app)));
          else printApp(app, out);
          return 0;
        });
      }
      case 'apps delete': {
        const appId = appOption(values);
        if (values.yes !== true) throw new UsageError(`apps delete removes application ${appId} with all its users, dialogs and history; add --yes to confirm`);
        return await withStore(config, async (store) => {
          const app = await requireApp(store, appId);
          await store.accounts.deleteApplication(appId);
          // Running servers end the application's streams: each node reads the record within
          // REVOCATION_POLL_MS; one on this data directory is told at once (SIGHUP).
          await store.revocations.add({ kind: 'app-deleted', appId, userId: null });
          const server = signalled(runningServerPid(config.data_dir), 'SIGHUP');
          // Its blob rows went with it; their files are removed now rather than at the server's next sweep.
          const { removed } = await sweepOrphanBlobFiles(new BlobFiles(path.join(config.data_dir, 'blobs')), store.blobs, { graceMs: 0 });
          if (json) out(JSON.stringify({ deleted: appId, blob_files_removed: removed, signalled_server: server }));
          else out(`deleted application ${appId} ${JSON.stringify(app.name)} (${removed} blob files removed)${server === null ? '' : `; server ${server} told to end its streams`}`);
          return 0;
        });
      }
      case 'users passwd': {
        const appId = appOption(values);
        return await withStore(config, async (store) => {
          const user = await userOption(store, appId, values);
          const password = await readSecret(io.stdin ?? process.stdin, `New password for ${user.login}: `, stderr);
          // Through the accounts service: the user's REST tokens (XMPP passwords too) stop working.
          await new AccountService(store, () => {}).changePassword(appId, user.id, password);
          // Running servers end the user's XMPP streams with <reset/>: each node reads the record
          // within REVOCATION_POLL_MS; one on this data directory is told at once (SIGHUP).
          await store.revocations.add({ kind: 'password', appId, userId: user.id });
          const server = signalled(runningServerPid(config.data_dir), 'SIGHUP');
          if (json) out(JSON.stringify({ ...userJson(user), signalled_server: server }));
          else out(`password changed for ${formatUser(user, config)}${server === null ? '' : `; server ${server} told to end the user's streams`}`);
          return 0;
        });
      }
      case 'users delete': {
        const appId = appOption(values);
        return await withStore(config, async (store) => {
          const user = await userOption(store, appId, values);
          // Through the accounts service: its REST sessions end with it. Running servers end its streams:
          // each node reads the record within REVOCATION_POLL_MS; one on this data directory is told at
          // once (SIGHUP, which also has it look at its live sessions again).
          await new AccountService(store, () => {}).deleteUser(appId, user.id);
          await store.revocations.add({ kind: 'user-deleted', appId, userId: user.id });
          const server = signalled(runningServerPid(config.data_dir), 'SIGHUP');
          if (json) out(JSON.stringify({ deleted: userJson(user), signalled_server: server }));
          else out(`deleted user ${formatUser(user, config)}${server === null ? '' : `; server ${server} told to end its sessions`}`);
          return 0;
        });
      }
      case 'users create': {
        const login = required(values, 'login');
        const password = required(values, 'password');
        const appId = appOption(values);
        return await withStore(config, async (store) => {
          await requireApp(store, appId);
          const user = await store.accounts.createUser(appId, {
            login,
            password,
            email: (values.email as string | undefined) ?? null,
            fullName: (values['full-name'] as string | undefined) ?? null,
          });
          if (json) out(JSON.stringify(userJson(user)));
          else out(`created user ${formatUser(user, config)}`);
          return 0;
        });
      }
      case 'users list': {
        const appId = appOption(values);
        return await withStore(config, async (store) => {
          await requireApp(store, appId);
          const users = await allUsers(store, appId);
          if (json) out(JSON.stringify(users.map(userJson)));
          else if (users.length === 0) out(`no users in application ${appId}`);
          else users.forEach((u) => out(formatUser(u, config)));
          return 0;
        });
      }
      case 'export': {
        const appId = appOption(values);
        const format = (values.format ?? 'jsonl') as string;
        if (!(EXPORT_FORMATS as readonly string[]).includes(format)) throw new UsageError(`--format must be one of ${EXPORT_FORMATS.join(', ')}`);
        return await withStore(config, async (store) => {
          await requireApp(store, appId);
          const file = values.out as string | undefined;
          const count = await exportCommand(store, `muc.${config.domain}`, {
            appId, dialogId: values.dialog as string | undefined, format: format as ExportFormat, file,
          }, io.stderr ? null : process.stderr);
          if (file) stderr(`exported ${count} messages to ${file}\n`);
          return 0;
        });
      }
      case 'admins create':
      case 'admins list':
      case 'admins delete':
        return await withStore(config, (store) => adminsCommand(verb, values, store, { out, json, stdin: io.stdin }));
      case 'push set':
      case 'push show':
      case 'push alerts': {
        const appId = appOption(values);
        await withStore(config, (store) => requireApp(store, appId).then(() => 0));
        const shown = verb === 'push set' ? await pushSet(config, appId, values)
          : verb === 'push alerts' ? await pushAlerts(config, appId, values) : await pushShow(config, appId);
        if (json) out(JSON.stringify(shown));
        else printPushSettings(shown, out);
        return 0;
      }
      case 'migrate': {
        const to = (values.to as string | undefined) ?? config.database_url;
        if (!to) throw new UsageError('migrate: give --to postgres://… or set database_url');
        const from = (values.from as string | undefined) ?? `sqlite://${sqliteFile(config.data_dir)}`;
        const rows = await migrateCommand({ from, to }, stderr);
        if (json) out(JSON.stringify({ rows }));
        else out(`copied ${rows} rows to PostgreSQL; set store to postgres (PARLEY_STORE=postgres) to serve from it`);
        return 0;
      }
      default:
        if (verb in PLATFORM_VERBS) {
          const appId = appOption(values);
          return await withStore(config, async (store) => {
            await requireApp(store, appId);
            await PLATFORM_VERBS[verb](store, appId, values, json, out);
            return 0;
          });
        }
    }
    return 1;
  } catch (err) {
    if (err instanceof ConfigError) {
      stderr(`parley: invalid configuration: ${err.message}\n`);
      return 2;
    }
    if (err instanceof DuplicateLoginError) {
      stderr(`parley: ${err.message}\n`);
      return 1;
    }
    if (err instanceof UsageError || err instanceof AdminCommandError || err instanceof PushUsageError) {
      stderr(`parley: ${err.message}\nsee \`parley help\`\n`);
      return 1;
    }
    stderr(`parley: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

type PlatformVerb = (store: Store, appId: number, values: Values, json: boolean, out: (line?: string) => void) => Promise<void>;

const PLATFORM_VERBS: Record<string, PlatformVerb> = {
  'apps set': async (store, appId, values, json, out) => {
    const settings = await platform.setAppSetting(store, appId, required(values, 'key'), values.value as string | undefined);
    out(json ? JSON.stringify(settings) : Object.entries(settings).map(([k, v]) => `${k} = ${JSON.stringify(v)}`).join('\n') || 'no settings');
  },
  'classes create': async (store, appId, values, json, out) => {
    const cls = await platform.createClass(store, appId, required(values, 'name'), required(values, 'fields'));
    out(json ? JSON.stringify(cls) : `created class ${cls.name}: ${Object.entries(cls.fields as Record<string, string>).map(([k, t]) => `${k}:${t}`).join(',')}`);
  },
  'classes list': async (store, appId, _values, json, out) => {
    const classes = await platform.listClasses(store, appId);
    if (json) out(JSON.stringify(classes));
    else if (classes.length === 0) out(`no classes in application ${appId}`);
    else classes.forEach((c) => out(`${c.name}  ${Object.entries(c.fields as Record<string, string>).map(([k, t]) => `${k}:${t}`).join(',')}`));
  },
  'classes delete': async (store, appId, values, json, out) => {
    const name = required(values, 'name');
    if (!(await platform.deleteClass(store, appId, name))) throw new Error(`no class "${name}" in application ${appId}`);
    out(json ? JSON.stringify({ deleted: name }) : `deleted class ${name} and its records`);
  },
  'apikeys create': async (store, appId, _values, json, out) => {
    const key = await platform.createApiKey(store, appId);
    out(json ? JSON.stringify(key) : `API key ${key.id}: ${key.key}\n(shown once: store it now)`);
  },
  'apikeys list': async (store, appId, _values, json, out) => {
    const keys = await platform.listApiKeys(store, appId);
    if (json) out(JSON.stringify(keys));
    else if (keys.length === 0) out(`no API keys in application ${appId}`);
    else keys.forEach((k) => out(`${k.id}  created ${k.created_at}${k.revoked_at ? `  revoked ${k.revoked_at}` : ''}`));
  },
  'apikeys revoke': async (store, appId, values, json, out) => {
    const raw = required(values, 'id');
    if (!/^\d+$/.test(raw)) throw new UsageError(`--id: expected a key id, got "${raw}"`);
    if (!(await platform.revokeApiKey(store, appId, Number(raw)))) throw new Error(`no live API key ${raw} in application ${appId}`);
    out(json ? JSON.stringify({ revoked: Number(raw) }) : `revoked API key ${raw}`);
  },
};

function required(values: Values, name: string): string {
  const v = values[name];
  if (typeof v !== 'string' || v === '') throw new UsageError(`missing required option --${name}`);
  return v;
}

function workersOption(values: Values): number | null {
  const raw = values.workers;
  if (raw === undefined) return null;
  if (typeof raw !== 'string' || !/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > MAX_WORKERS) {
    throw new UsageError(`--workers: expected a number of processes from 1 to ${MAX_WORKERS}, got "${String(raw)}"`);
  }
  return Number(raw);
}

function appOption(values: Values): number {
  const raw = required(values, 'app');
  if (!/^\d+$/.test(raw) || Number(raw) < 1) throw new UsageError(`--app: expected an application id, got "${raw}"`);
  return Number(raw);
}

/** The user named by --id or --login (exactly one of them) in the application. */
async function userOption(store: Store, appId: number, values: Values): Promise<User> {
  await requireApp(store, appId);
  const id = values.id as string | undefined;
  const login = values.login as string | undefined;
  if ((id === undefined) === (login === undefined)) throw new UsageError('name the user with either --id N or --login L');
  if (id !== undefined && (!/^\d+$/.test(id) || Number(id) < 1)) throw new UsageError(`--id: expected a user id, got "${id}"`);
  const user = id !== undefined ? await store.accounts.getUser(appId, Number(id)) : await store.accounts.getUserByLogin(appId, login!);
  if (!user) throw new Error(`no user ${id !== undefined ? `with id ${id}` : `with login ${JSON.stringify(login)}`} in application ${appId}; see \`parley users list --app ${appId}\``);
  return user;
}

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

async function requireApp(store: Store, appId: number): Promise<Application> {
  const app = await store.accounts.getApplication(appId);
  if (!app) throw new Error(`no application with id ${appId}; see \`parley apps list\``);
  return app;
}

async function allUsers(store: Store, appId: number): Promise<User[]> {
  const users: User[] = [];
  const limit = 500;
  for (let offset = 0; ; offset += limit) {
    const page = await store.accounts.listUsers(appId, { limit, offset });
    users.push(...page);
    if (page.length < limit) return users;
  }
}

/** Sends the signal; the pid when it was sent, null when there was nobody to send it to (or it could not be). */
function signalled(pid: number | null, signal: NodeJS.Signals): number | null {
  if (pid === null) return null;
  try {
    process.kill(pid, signal);
    return pid;
  } catch {
    return null;
  }
}

async function withStore(config: Config, fn: (store: Store) => Promise<number>): Promise<number> {
  const store = await openStore(config);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

function printApp(a: Application, out: (line?: string) => void) {
  out(`application ${a.id} ${JSON.stringify(a.name)}`);
  out(`  auth_key:    ${a.authKey}`);
  out(`  auth_secret: ${a.authSecret}`);
  out(`  account_key: ${a.accountKey}`);
}

function formatUser(u: User, config: Config): string {
  const extra = [u.email ?? '', u.fullName ? JSON.stringify(u.fullName) : ''].filter(Boolean).join('  ');
  return `${u.id}  ${u.login}  ${u.id}-${u.appId}@${config.domain}${extra ? `  ${extra}` : ''}`;
}

function printConfig(config: Config, out: (line?: string) => void) {
  const rows: [string, unknown, string][] = [['config_file', config.config_file, 'PARLEY_CONFIG']];
  for (const k of CONFIG_KEYS) rows.push([k.key, config[k.key], k.env]);
  const width = Math.max(...rows.map(([k]) => k.length));
  for (const [k, v, env] of rows) out(`${k.padEnd(width)}  ${String(v ?? '(none)').padEnd(24)}  ${env}`);
}

/** Where the first start leaves the demo application's credentials (readable by the server's user only). */
export const demoCredentialsFile = (config: Config): string => path.join(config.data_dir, 'demo-app.json');

/**
 * On first start: a demo application. Its credentials go to a 0600 file in the data directory and,
 * when stdout is a terminal, to the screen; never into the log (a pipe's reader may be a log
 * collector, so nothing secret is printed there either).
 */
async function ensureApplication(store: Store, config: Config, log: pino.Logger, out: (line?: string) => void, terminal: boolean): Promise<void> {
  if ((await store.accounts.listApplications()).length > 0) return;
  const app = await store.accounts.createApplication({ name: 'demo' });
  const file = demoCredentialsFile(config);
  let saved = true;
  try {
    await writeFile(file, `${JSON.stringify(appJson(app), null, 2)}\n`, { mode: 0o600 });
    await chmod(file, 0o600);
  } catch (err) {
    saved = false;
    log.warn({ err, file }, 'could not write the demo application credentials');
  }
  log.info({ application: { id: app.id, name: app.name }, ...(saved ? { credentials: file } : {}) }, 'created a demo application');
  const rule = '='.repeat(64);
  out(rule);
  out('No application existed, so a demo application was created:');
  out(`  application id: ${app.id}`);
  if (terminal) {
    out(`  auth key:       ${app.authKey}`);
    out(`  auth secret:    ${app.authSecret}`);
    out(`  account key:    ${app.accountKey}`);
  }
  if (saved) out(`Its credentials are in ${file} (readable by this user only).`);
  out('`parley apps list` shows them again.');
  out(rule);
}

/** The primary of `serve --workers N`: prepares the store once (migrations, demo application), then supervises. */
async function serveWorkers(config: Config, count: number, passed: string[], out: (line?: string) => void, terminal: boolean): Promise<number> {
  const log = pino({ level: config.log_level, name: 'parley' });
  const unlock = await lockSqliteDataDir(config);
  await withStore(config, async (store) => {
    await ensureApplication(store, config, log, out, terminal);
    return 0;
  });
  // Made once here: workers generating the self-signed certificate at the same time would overwrite each other's files.
  if (config.c2s_port > 0 || config.c2s_tls_port > 0 || config.https_port > 0) await loadOrCreateTlsCredentials(config, log);
  const base = config.cluster_node_id ?? hostname();
  try {
    return await superviseWorkers({ count, base, exec: fileURLToPath(import.meta.url), args: ['serve', ...passed], log });
  } finally {
    unlock();
  }
}

/** `serve` with SQLite: one server per data directory (the workers of `serve --workers` share their primary's lock). */
async function lockSqliteDataDir(config: Config): Promise<() => void> {
  if (config.store !== 'sqlite' || cluster.isWorker) return () => {};
  await ownerOnlyDirectory(config.data_dir);
  return lockDataDir(config.data_dir);
}

async function serve(config: Config, out: (line?: string) => void, terminal: boolean): Promise<number> {
  const logRing = new LogRing();
  const log = loggerWithRing(config.log_level, 'parley', logRing);
  const explained = (err: unknown): unknown => {
    const sentence = explainStartupError(err, config);
    return sentence ? new Error(sentence) : err;
  };
  const unlock = await lockSqliteDataDir(config).catch((err: unknown) => {
    throw explained(err);
  });
  let store: Store;
  try {
    store = await openStore(config);
  } catch (err) {
    unlock();
    throw explained(err);
  }
  let server: { stop(reason?: string): Promise<void>; reloadTls(): Promise<void>; endSessionsOfDeletedAccounts(): Promise<number>; applyRevocations(): Promise<number> };
  try {
    await ensureApplication(store, config, log, out, terminal);
    // Loaded lazily so that admin commands do not pull in the whole server.
    const { startServer } = await import('../server.js');
    server = await startServer({ config, store, log, logRing });
  } catch (err) {
    const failure = explained(err);
    log.fatal({ err }, failure === err ? 'server failed to start' : (failure as Error).message);
    await store.close();
    unlock();
    throw failure;
  }
  process.on('SIGHUP', () => {
    server.reloadTls().catch((err: unknown) => log.error({ err }, 'TLS certificate reload failed; the previous one stays in use'));
    server.endSessionsOfDeletedAccounts().then(
      (ended) => { if (ended > 0) log.info({ accounts: ended }, 'ended the sessions of deleted accounts'); },
      (err: unknown) => log.error({ err }, 'checking live sessions against the accounts failed'),
    );
    server.applyRevocations().then(
      (applied) => { if (applied > 0) log.info({ revocations: applied }, 'ended streams as the command line asked'); },
      (err: unknown) => log.error({ err }, 'reading recorded stream revocations failed'),
    );
  });

  return new Promise<number>((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        // A worker's primary stops it (and kills it if it hangs); a terminal's Ctrl-C reaches both.
        if (cluster.isWorker) return;
        log.warn({ signal }, 'second signal; exiting immediately');
        process.exit(1);
      }
      stopping = true;
      log.info({ signal }, 'shutting down');
      server
        .stop(signal)
        .then(() => store.close())
        .then(() => unlock())
        .then(
          () => resolve(0),
          (err) => {
            log.error({ err }, 'error during shutdown');
            resolve(1);
          },
        );
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

// Run when this module is the program: directly, or through bin/parley.js (possibly symlinked by npm).
function isEntryPoint(): boolean {
  if (!process.argv[1]) return false;
  try {
    const entry = realpathSync(process.argv[1]);
    const self = fileURLToPath(import.meta.url);
    return entry === self || entry === path.resolve(path.dirname(self), '../../../bin/parley.js');
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  const code = await main(process.argv.slice(2));
  // Let buffered output drain before exiting; serve may leave nothing else to wait for.
  process.stdout.write('', () => process.exit(code));
}
