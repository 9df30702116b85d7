// `parley admins create|list|delete`: operator accounts for the web console. The password is read
// from a prompt (a terminal, echo off) or from standard input, never from the command line, where
// other users of the machine could read it in the process list.
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { DuplicateOperatorError, type Operator } from '../storage/admin-types.js';
import type { Store } from '../storage/types.js';

export const ADMIN_VERBS = {
  'admins create': { email: { type: 'string' }, apps: { type: 'string' } },
  'admins list': {},
  'admins delete': { email: { type: 'string' } },
} as const;

const MIN_PASSWORD = 8;
const MAX_PASSWORD = 128;

export interface AdminCommandIo {
  out: (line?: string) => void;
  json: boolean;
  /** Where the password comes from; defaults to process.stdin. */
  stdin?: NodeJS.ReadableStream & { isTTY?: boolean };
  /** Where a terminal prompt is written; defaults to process.stderr. */
  prompt?: (text: string) => void;
}

export class AdminCommandError extends Error {}

export const operatorJson = (o: Operator) => ({ id: o.id, email: o.email, apps: o.appIds ?? 'all', created_at: o.createdAt.toISOString() });

export async function adminsCommand(verb: keyof typeof ADMIN_VERBS, values: Record<string, unknown>, store: Store, io: AdminCommandIo): Promise<number> {
  switch (verb) {
    case 'admins create': {
      const email = emailOption(values);
      const appIds = appsOption(values.apps);
      for (const id of appIds ?? []) {
        if (!(await store.accounts.getApplication(id))) throw new AdminCommandError(`no application with id ${id}; see \`parley apps list\``);
      }
      const password = await readPassword(io);
      try {
        const operator = await store.operators.createOperator({ email, password, appIds });
        if (io.json) io.out(JSON.stringify(operatorJson(operator)));
        else io.out(`created operator ${operator.email} (${appIds ? `applications ${appIds.join(', ')}` : 'every application'}); sign in at /admin`);
        return 0;
      } catch (err) {
        if (err instanceof DuplicateOperatorError) throw new AdminCommandError(err.message);
        throw err;
      }
    }
    case 'admins list': {
      const operators = await store.operators.listOperators();
      if (io.json) io.out(JSON.stringify(operators.map(operatorJson)));
      else if (operators.length === 0) io.out('no operators; create one with `parley admins create --email E`');
      else for (const o of operators) io.out(`${o.id}  ${o.email}  ${o.appIds ? `apps ${o.appIds.join(',')}` : 'all apps'}`);
      return 0;
    }
    case 'admins delete': {
      const email = emailOption(values);
      const operator = await store.operators.getOperatorByEmail(email);
      if (!operator || !(await store.operators.deleteOperator(operator.id))) throw new AdminCommandError(`no operator with email ${email}`);
      if (io.json) io.out(JSON.stringify({ deleted: operator.email }));
      else io.out(`deleted operator ${operator.email}`);
      return 0;
    }
  }
}

function emailOption(values: Record<string, unknown>): string {
  const email = values.email;
  if (typeof email !== 'string' || !/^[^\s@]{1,64}@[^\s@]{1,189}$/.test(email.trim())) throw new AdminCommandError('--email: expected an email address');
  return email.trim();
}

function appsOption(raw: unknown): number[] | null {
  if (raw === undefined) return null;
  if (typeof raw !== 'string' || !/^[0-9]{1,15}(,[0-9]{1,15}){0,99}$/.test(raw)) throw new AdminCommandError(`--apps: expected application ids like 1,2, got "${String(raw)}"`);
  return raw.split(',').map(Number);
}

/** From a terminal: asked twice with echo off. Otherwise: the first line of standard input. */
async function readPassword(io: AdminCommandIo): Promise<string> {
  const stdin = io.stdin ?? process.stdin;
  const password = stdin.isTTY ? await promptTwice(stdin, io.prompt ?? ((t) => void process.stderr.write(t))) : await firstLine(stdin);
  if (password.length < MIN_PASSWORD || password.length > MAX_PASSWORD) {
    throw new AdminCommandError(`the password must have ${MIN_PASSWORD} to ${MAX_PASSWORD} characters`);
  }
  return password;
}

async function firstLine(stdin: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  for await (const chunk of stdin) {
    text += chunk.toString();
    if (text.includes('\n') || text.length > MAX_PASSWORD * 4) break;
  }
  const line = text.split(/\r?\n/)[0];
  if (!line) throw new AdminCommandError('no password on standard input (give it on the first line, or run in a terminal to be asked)');
  return line;
}

async function promptTwice(stdin: NodeJS.ReadableStream, prompt: (text: string) => void): Promise<string> {
  const silent = new Writable({ write: (_chunk, _encoding, done) => done() });
  const rl = createInterface({ input: stdin, output: silent, terminal: true });
  const ask = (text: string) => new Promise<string>((resolve) => {
    prompt(text);
    rl.question('', (answer) => {
      prompt('\n');
      resolve(answer);
    });
  });
  try {
    const first = await ask('Password for the operator: ');
    const second = await ask('Repeat it: ');
    if (first !== second) throw new AdminCommandError('the two passwords differ');
    return first;
  } finally {
    rl.close();
  }
}
