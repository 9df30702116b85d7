import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { generate } from 'selfsigned';

/** Where TLS credentials come from (the configuration keys of the same names). */
export interface TlsSettings {
  tls_cert_file: string | null;
  tls_key_file: string | null;
  data_dir: string;
  domain: string;
}

export interface TlsCredentials {
  key: string;
  cert: string;
  generated: boolean;
}

/**
 * The configured certificate and key, else the ones kept in <data_dir>/tls/<domain>.{key,crt},
 * else a freshly generated self-signed pair stored there for the next start.
 */
export async function loadOrCreateTlsCredentials(
  config: TlsSettings,
  log?: { info(...a: any[]): void },
): Promise<TlsCredentials> {
  if (config.tls_cert_file && config.tls_key_file) {
    const [key, cert] = await Promise.all([readFile(config.tls_key_file, 'utf8'), readFile(config.tls_cert_file, 'utf8')]);
    return { key, cert, generated: false };
  }
  const dir = path.join(config.data_dir, 'tls');
  const keyFile = path.join(dir, `${config.domain}.key`);
  const certFile = path.join(dir, `${config.domain}.crt`);
  if (existsSync(keyFile) && existsSync(certFile)) {
    const [key, cert] = await Promise.all([readFile(keyFile, 'utf8'), readFile(certFile, 'utf8')]);
    return { key, cert, generated: false };
  }

  const { key, cert } = await generateSelfSigned(config.domain);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFile(keyFile, key, { mode: 0o600 });
  await chmod(keyFile, 0o600); // mode above only applies when the file is created
  await writeFile(certFile, cert, { mode: 0o644 });
  log?.info({ cert: certFile, key: keyFile }, `generated a self-signed TLS certificate for ${config.domain}`);
  return { key, cert, generated: true };
}

export async function generateSelfSigned(domain: string): Promise<{ key: string; cert: string }> {
  const names = [domain, `muc.${domain}`, ...(domain === 'localhost' ? [] : ['localhost'])];
  const notBeforeDate = new Date(Date.now() - 60_000); // tolerate small clock skew on clients
  const notAfterDate = new Date(notBeforeDate);
  notAfterDate.setFullYear(notAfterDate.getFullYear() + 10);
  const pems = await generate([{ name: 'commonName', value: domain }], {
    keyType: 'rsa',
    keySize: 2048,
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [...names.map((value) => ({ type: 2 as const, value })), { type: 7 as const, ip: '127.0.0.1' }],
      },
    ],
  });
  return { key: pems.private, cert: pems.cert };
}
