// A blob as QuickBlox shows it in JSON.
import type { Blob } from '../storage/types.js';
import { isoSeconds } from './time.js';

export const blobView = (b: Blob) => ({
  id: b.id,
  uid: b.uid,
  content_type: b.contentType,
  name: b.name,
  size: b.size,
  public: b.public,
  blob_status: b.status,
  set_completed_at: b.completedAt ? isoSeconds(b.completedAt) : null,
  created_at: isoSeconds(b.createdAt),
  updated_at: isoSeconds(b.updatedAt),
  tag_list: b.tags.length > 0 ? b.tags.join(',') : null,
});
