// Uploaded files (QuickBlox blobs).
/** An uploaded file (QuickBlox "blob"). The bytes live outside the database, named by `uid`. */
export interface Blob {
  id: number;
  /** 32 lowercase hex characters, random: the public name of the file in download URLs. */
  uid: string;
  appId: number;
  /** The owner. Blobs outlive their owner so that attachments in other users' histories keep working. */
  userId: number;
  name: string;
  contentType: string;
  /** Bytes; null until the upload is completed. */
  size: number | null;
  public: boolean;
  tags: string[];
  /** null while the file is being uploaded, 'complete' once the client declared it uploaded. */
  status: 'complete' | null;
  createdAt: Date;
  updatedAt: Date;
  completedAt: Date | null;
}

export interface NewBlob {
  appId: number;
  userId: number;
  uid: string;
  name: string;
  contentType: string;
  public: boolean;
  tags: string[];
  /** The digest of the key that may upload the file, and when that key stops working. */
  uploadKeyHash: string;
  uploadExpiresAt: Date;
}

export interface BlobStore {
  createBlob(input: NewBlob): Promise<Blob>;
  getBlob(appId: number, id: number): Promise<Blob | null>;
  /** By uid, in any application (uids are unique per installation); the caller checks the application. */
  getBlobByUid(uid: string): Promise<Blob | null>;
  /** The blob an upload key opens: the key matches, has not expired, and the blob is not complete. */
  blobForUpload(uploadKeyHash: string, now: Date): Promise<Blob | null>;
  /** One owner's blobs, oldest first, with the total before paging. */
  listBlobs(appId: number, userId: number, page: { limit: number; offset: number }): Promise<{ total: number; blobs: Blob[] }>;
  renameBlob(appId: number, id: number, name: string): Promise<Blob | null>;
  /** Marks the blob complete with its size and retires its upload key; a complete blob is returned unchanged. */
  completeBlob(appId: number, id: number, size: number, at: Date): Promise<Blob | null>;
  deleteBlob(appId: number, id: number): Promise<boolean>;
}
