import type { Kysely } from 'kysely';
import type { Ddl } from './ddl.js';

/** Dashboard sessions (an API key exchanged for an httpOnly cookie), and each webhook's last attempt for its health. */
export async function up(db: Kysely<any>, ddl: Ddl): Promise<void> {
  await ddl
    .owned(db, 'sessions')
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('api_key_id', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.alterTable('webhooks').addColumn('last_attempt_at', 'bigint').execute();
}
