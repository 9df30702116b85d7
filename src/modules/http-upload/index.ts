// HTTP File Upload (XEP-0363, urn:xmpp:http:upload:0) on the server's own domain: a slot request
// creates a blob (see slots.ts) and answers with a PUT URL carrying a one-time key and a GET URL
// anyone with the link may read, both on the HTTP(S) port (src/rest/http-upload.ts). Limits: one file at most
// `blob_max_size` bytes; a user's blobs together at most `upload_quota` bytes.
import { randomBytes } from 'node:crypto';
import type { ModuleApi as Core } from '../../core/api.js';
import type { Config } from '../../config/types.js';
import type { BlobStore } from '../../storage/types.js';
import { Element, xml } from '../../xml/element.js';
import { StanzaError } from '../../xmpp/errors.js';
import { buildForm } from '../../xmpp/data-form.js';
import { newKey, NS_UPLOAD, SLOT_LIFETIME_MS, sizeTag, UPLOAD_PATH, UPLOAD_TAG } from '../../chat/upload-slots.js';

const MAX_NAME = 255;
const CONTENT_TYPE = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*$/;
const QUOTA_PAGE = 500;

/** The base URL clients reach the HTTP side at. */
export function uploadBase(config: Config): string | null {
  const configured = config.public_api_url?.replace(/\/+$/, '');
  if (configured) return /^https?:\/\//.test(configured) ? configured : `https://${configured}`;
  const host = config.bind === '0.0.0.0' || config.bind === '::' ? config.domain : config.bind.includes(':') ? `[${config.bind}]` : config.bind;
  if (config.https_port > 0) return `https://${host}:${config.https_port}`;
  if (config.http_port > 0) return `http://${host}:${config.http_port}`;
  return null;
}

export function httpUploadModule(core: Core, config: Config, blobs: BlobStore, base: () => string | null): void {
  const now = () => new Date();

  /** Bytes the user's blobs take (those completed, plus the sizes promised to open slots). */
  async function usage(appId: number, userId: number): Promise<number> {
    let total = 0;
    for (let offset = 0; ; offset += QUOTA_PAGE) {
      const page = await blobs.listBlobs(appId, userId, { limit: QUOTA_PAGE, offset });
      for (const b of page.blobs) total += b.size ?? Number(b.tags.find((t) => t.startsWith('size:'))?.slice(5) ?? 0);
      if (offset + QUOTA_PAGE >= page.total || page.blobs.length === 0) return total;
    }
  }

  core.addDiscoFeature(NS_UPLOAD);
  core.on('disco/server-info', 'upload', ({ query }) => {
    query.append(buildForm('result', [
      { var: 'FORM_TYPE', type: 'hidden', values: [NS_UPLOAD] },
      { var: 'max-file-size', values: [String(config.blob_max_size)] },
    ]));
    return undefined;
  });

  core.handleIq({
    scope: 'host',
    xmlns: NS_UPLOAD,
    name: 'request',
    get: async ({ payload, session }) => {
      const user = session?.user;
      if (!user) throw new StanzaError('forbidden', 'Only a signed-in user may upload.');
      const root = base();
      if (!root) throw new StanzaError('service-unavailable', 'No HTTP port is open for uploads.');
      const filename = payload.attrs.filename?.trim() ?? '';
      if (!filename || filename.length > MAX_NAME || /[\x00-\x1f\x7f/\\]/.test(filename)) throw new StanzaError('bad-request', 'The filename is missing or not allowed.');
      const sizeText = payload.attrs.size ?? '';
      if (!/^\d{1,15}$/.test(sizeText) || Number(sizeText) === 0) throw new StanzaError('bad-request', 'The size must be a positive number of bytes.');
      const size = Number(sizeText);
      const contentType = payload.attrs['content-type']?.trim() || 'application/octet-stream';
      if (contentType.length > 255 || !CONTENT_TYPE.test(contentType)) throw new StanzaError('bad-request', 'The content-type is not a MIME type.');
      if (size > config.blob_max_size) {
        throw new StanzaError('not-acceptable', `The file is too large (at most ${config.blob_max_size} bytes).`, undefined,
          xml('file-too-large', { xmlns: NS_UPLOAD }, xml('max-file-size', null, String(config.blob_max_size))));
      }
      if (config.upload_quota > 0 && (await usage(user.appId, user.userId)) + size > config.upload_quota) {
        throw new StanzaError('resource-constraint', `Your files would exceed your quota of ${config.upload_quota} bytes.`, 'wait');
      }
      const { key, hash } = newKey();
      const uid = randomBytes(16).toString('hex');
      await blobs.createBlob({
        appId: user.appId, userId: user.userId, uid, name: filename, contentType, public: true,
        tags: [UPLOAD_TAG, sizeTag(size)], uploadKeyHash: hash, uploadExpiresAt: new Date(now().getTime() + SLOT_LIFETIME_MS),
      });
      const path = `${root}${UPLOAD_PATH}/${uid}/${encodeURIComponent(filename)}`;
      return xml('slot', { xmlns: NS_UPLOAD }, xml('put', { url: `${path}?key=${key}` }), xml('get', { url: path }));
    },
  });
}
