import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { MultipartFile } from '@fastify/multipart';
import { ProtocolError, invalid } from '../../errors.js';
import { cleanFilename, type FileStore } from '../../files/file-store.js';
import type { Store } from '../../store/index.js';
import { Id, ListQuery, strictObject } from '../schemas.js';
import { Attachment } from '../responses.js';
import { nulRefused } from '../validation.js';
import { registerResource } from './resource.js';

const ALLOWED_FIELDS = new Set(['file', 'message_id']);

/**
 * Attachments are created by a multipart upload (`file`, optional `message_id`) that streams to
 * disk; the rest is the common resource shape. A failed create or a delete removes the file.
 */
export function attachmentRoutes(app: FastifyInstance, store: Store, files: FileStore): void {
  registerResource(app, {
    path: '/attachments',
    noun: 'attachment',
    item: Attachment,
    operations: {
      list: store.attachments.list,
      get: store.attachments.get,
      update: store.attachments.update,
      delete: async (account, id) => {
        const { storageKey } = await store.attachments.delete(account, id);
        await files.remove(storageKey);
      },
    },
    listQuery: strictObject({ ...ListQuery, conversation_id: Type.Optional(Id) }),
    updateBody: strictObject({ filename: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })) }),
  });

  // Multipart: the body is streamed by the handler, so it has no body schema here (openapi.ts documents it).
  app.post('/attachments', { schema: { response: { 201: Attachment } } }, async (request, reply) => {
    if (!request.isMultipart()) throw new ProtocolError('unsupported_media_type', 'Upload the file as multipart/form-data, in the field "file"');
    let saved: { storageKey: string; size: number; filename: string; type: string } | undefined;
    const fields: Record<string, string> = {};
    try {
      for await (const part of request.parts()) {
        if (!ALLOWED_FIELDS.has(part.fieldname)) throw invalid(`Unknown field '${part.fieldname}'`, part.fieldname);
        if (part.type === 'file') {
          if (part.fieldname !== 'file' || saved) throw invalid('Upload exactly one file, in the field "file"', 'file');
          const file = part as MultipartFile;
          if (file.mimetype.includes('\0')) throw nulRefused("The file's content type", 'file');
          const { storageKey, size } = await files.save(file.file);
          saved = { storageKey, size, filename: cleanFilename(file.filename), type: file.mimetype || 'application/octet-stream' };
        } else {
          const value = String(part.value);
          // What refuseUnstorable (validation.ts) does for JSON and form bodies; multipart fields are read here.
          if (value.includes('\0')) throw nulRefused(`The field '${part.fieldname}'`, part.fieldname);
          fields[part.fieldname] = value;
        }
      }
      if (!saved) throw invalid('Missing required field \'file\'', 'file');
      const attachment = await store.attachments.create(
        request.account,
        { storage_key: saved.storageKey, filename: saved.filename, file_type: saved.type, file_size: saved.size },
        { message_id: fields.message_id || null },
      );
      reply.status(201);
      return attachment;
    } catch (error) {
      if (saved) await files.remove(saved.storageKey);
      throw error;
    }
  });
}

/** `file_url`s: public, because the path holds an unguessable key; sandboxed so an uploaded page cannot run script on our origin. */
export function fileRoutes(app: FastifyInstance, store: Store, files: FileStore): void {
  app.get('/files/:account/:key', { schema: { summary: "An attachment's file (its file_url); public, by unguessable key", produces: ['*/*'], params: strictObject({ account: Id, key: Type.String({ pattern: '^[A-Za-z0-9]{32}$' }) }) } }, async (request, reply) => {
    const { account, key } = request.params as { account: string; key: string };
    const file = await store.attachments.findFile(account, key);
    if (!file) throw new ProtocolError('not_found', 'No such file');
    return reply
      .header('content-type', file.file_type)
      .header('content-length', file.file_size)
      .header('content-disposition', `inline; filename*=UTF-8''${encodeURIComponent(file.filename)}`)
      .header('x-content-type-options', 'nosniff')
      .header('content-security-policy', "sandbox; default-src 'none'")
      .header('cache-control', 'private, max-age=3600')
      .send(files.open(key));
  });
}
