import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { newToken } from '../store/ids.js';

/**
 * Attachment bytes on disk under `PROTOCOL_DATA_DIR/attachments`. Uploads stream straight to a
 * file (never whole into memory); the random storage key is both the file name and the
 * unguessable part of `file_url`.
 */
export interface FileStore {
  /** Writes the stream to a new file; returns its key and size in bytes. */
  save(stream: Readable): Promise<{ storageKey: string; size: number }>;
  open(storageKey: string): fs.ReadStream;
  remove(storageKey: string): Promise<void>;
}

export function createFileStore(dataDir: string): FileStore {
  const root = path.join(dataDir, 'attachments');
  // Two levels of fan-out keep directories small with millions of files.
  const pathOf = (key: string) => {
    if (!/^[A-Za-z0-9]{32}$/.test(key)) throw new Error('invalid storage key');
    return path.join(root, key.slice(0, 2), key);
  };
  return {
    async save(stream) {
      const storageKey = newToken();
      const file = pathOf(storageKey);
      await fs.promises.mkdir(path.dirname(file), { recursive: true });
      let size = 0;
      stream.on('data', (chunk: Buffer) => (size += chunk.length));
      try {
        await pipeline(stream, fs.createWriteStream(file, { flags: 'wx' }));
      } catch (error) {
        await fs.promises.rm(file, { force: true });
        throw error;
      }
      return { storageKey, size };
    },
    open: (storageKey) => fs.createReadStream(pathOf(storageKey)),
    remove: (storageKey) => fs.promises.rm(pathOf(storageKey), { force: true }),
  };
}

/** A safe display name: no path, no control characters, at most 255 characters. */
export function cleanFilename(name: string | undefined): string {
  const base = path.basename((name ?? '').replace(/\\/g, '/')).replace(/[\u0000-\u001f\u007f]/g, '').trim();
  return (base || 'file').slice(0, 255);
}
