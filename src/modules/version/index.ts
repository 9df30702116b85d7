// Software version (XEP-0092) of the server. The operating system is left out on purpose: it
// tells an attacker more than it tells a client.
import { readFileSync } from 'node:fs';
import type { ModuleApi as Core } from '../../core/api.js';
import { xml } from '../../xml/element.js';

export const NS_VERSION = 'jabber:iq:version';

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

export function versionModule(core: Core): void {
  const version = packageVersion();
  core.addDiscoFeature(NS_VERSION);
  core.handleIq({
    scope: 'host',
    xmlns: NS_VERSION,
    name: 'query',
    get: () => xml('query', { xmlns: NS_VERSION }, xml('name', null, 'Parley'), xml('version', null, version)),
  });
}
