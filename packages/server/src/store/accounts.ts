import { createHash, timingSafeEqual } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { StoreContext } from './context.js';
import type { Tables } from './schema.js';
import { newId, newToken } from './ids.js';

export interface Account {
  id: string;
  name: string;
  created_at: number;
}

/** Who is calling: the account, and the API key (directly, or behind a dashboard session). */
export interface Credential {
  account: string;
  keyId: string;
}

export interface ApiKeyInfo {
  id: string;
  name: string;
  /** The key's last four characters. */
  hint: string;
  created_at: number;
  revoked_at: number | null;
}

/**
 * API keys are random 32-character tokens behind `sk_`, so a fast hash is enough: SHA-256
 * without salt lets us find a key by its hash in one indexed lookup.
 */
export function hashKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/**
 * Every API call authenticates; a verified key is remembered this long, so the lookup is not a
 * database round trip per request. Revoking a key clears this process's memory at once; other
 * API processes (PostgreSQL deployments) stop accepting it within this time.
 */
const KEY_CACHE_MS = 5_000;
const KEY_CACHE_SIZE = 10_000;

export function accountsStore(ctx: StoreContext) {
  const verified = new Map<string, { credential: Credential; until: number }>();
  const insertKey = async (db: Kysely<Tables>, account: string, key: string, name: string): Promise<ApiKeyInfo> => {
    const row = { id: newId(), account_id: account, name, key_hash: hashKey(key), key_hint: key.slice(-4), created_at: ctx.now(), revoked_at: null };
    await db.insertInto('api_keys').values(row).execute();
    return { id: row.id, name, hint: row.key_hint, created_at: row.created_at, revoked_at: null };
  };

  const insertAccount = async (tx: Transaction<Tables>, name: string) => {
    const account = { id: newId(), name, created_at: ctx.now() };
    const key = `sk_${newToken()}`;
    await tx.insertInto('accounts').values(account).execute();
    await insertKey(tx, account.id, key, 'Default key');
    return { account, key };
  };

  /** The live key with this hash; the final comparison is constant-time. */
  const findKey = async (hash: string) => {
    const row = await ctx.db.selectFrom('api_keys').select(['id', 'account_id', 'key_hash']).where('key_hash', '=', hash).where('revoked_at', 'is', null).executeTakeFirst();
    if (!row || !timingSafeEqual(Buffer.from(row.key_hash, 'hex'), Buffer.from(hash, 'hex'))) return undefined;
    return row;
  };

  return {
    /** Creates an account with its first API key; the key is returned here and never again. */
    async create(name: string): Promise<{ account: Account; key: string }> {
      return ctx.db.transaction().execute((tx) => insertAccount(tx, name));
    },

    /**
     * The default account, created with its first key on a fresh database. Several processes
     * starting together on one PostgreSQL take turns, so exactly one creates it (and prints
     * the key).
     */
    async ensureDefault(): Promise<{ account: Account; key?: string }> {
      // The first account created is the default one.
      return ctx.db.transaction().execute(async (tx) => {
        await ctx.database.lock(tx, 'protocol.default-account');
        const existing = await tx.selectFrom('accounts').select(['id', 'name', 'created_at']).orderBy('seq', 'asc').limit(1).executeTakeFirst();
        if (existing) return { account: existing };
        return insertAccount(tx, 'Default');
      });
    },

    async createKey(account: string, name: string): Promise<{ key: string; info: ApiKeyInfo }> {
      const key = `sk_${newToken()}`;
      return { key, info: await insertKey(ctx.db, account, key, name) };
    },

    /** Makes sure a key with exactly this value works for the account (PROTOCOL_API_KEY); idempotent. */
    async ensureKey(account: string, key: string): Promise<void> {
      await ctx.db.transaction().execute(async (tx) => {
        // Processes starting together with one PROTOCOL_API_KEY take turns, so it is inserted once.
        await ctx.database.lock(tx, 'protocol.ensure-key');
        const existing = await tx.selectFrom('api_keys').select(['account_id', 'revoked_at']).where('key_hash', '=', hashKey(key)).executeTakeFirst();
        if (!existing) {
          await insertKey(tx, account, key, 'PROTOCOL_API_KEY');
        } else if (existing.account_id !== account || existing.revoked_at !== null) {
          await tx.updateTable('api_keys').set({ account_id: account, revoked_at: null }).where('key_hash', '=', hashKey(key)).execute();
        }
      });
    },

    async listKeys(account: string): Promise<ApiKeyInfo[]> {
      const rows = await ctx.db.selectFrom('api_keys').selectAll().where('account_id', '=', account).where('revoked_at', 'is', null).orderBy('seq', 'desc').execute();
      return rows.map((r) => ({ id: r.id, name: r.name, hint: r.key_hint, created_at: r.created_at, revoked_at: r.revoked_at }));
    },

    async revokeKey(account: string, id: string): Promise<boolean> {
      const result = await ctx.db
        .updateTable('api_keys')
        .set({ revoked_at: ctx.now() })
        .where('account_id', '=', account)
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      verified.clear(); // this process stops accepting it now
      return Number(result.numUpdatedRows) > 0;
    },

    /** The account a key belongs to and the key's id, or undefined. The final comparison is constant-time. */
    async authenticate(key: string): Promise<Credential | undefined> {
      const hash = hashKey(key);
      const known = verified.get(hash);
      if (known && known.until > Date.now()) return known.credential;
      const row = await findKey(hash);
      if (!row) return undefined;
      const credential = { account: row.account_id, keyId: row.id };
      if (verified.size >= KEY_CACHE_SIZE) verified.clear();
      verified.set(hash, { credential, until: Date.now() + KEY_CACHE_MS });
      return credential;
    },

    async getAccount(account: string): Promise<Account | undefined> {
      return ctx.db.selectFrom('accounts').select(['id', 'name', 'created_at']).where('id', '=', account).executeTakeFirst();
    },

    /**
     * Exchanges an API key for a session token (the dashboard's cookie). The session lives while
     * its key does: revoking the key ends it.
     */
    async createSession(key: string, ttlSeconds: number): Promise<{ token: string; account: string; expiresAt: number } | undefined> {
      const apiKey = await findKey(hashKey(key));
      if (!apiKey) return undefined;
      const token = newToken() + newToken();
      const now = ctx.now();
      await ctx.db
        .insertInto('sessions')
        .values({ id: newId(), account_id: apiKey.account_id, token_hash: hashKey(token), api_key_id: apiKey.id, created_at: now, expires_at: now + ttlSeconds })
        .execute();
      return { token, account: apiKey.account_id, expiresAt: now + ttlSeconds };
    },

    /** The account behind a session token, while the session is unexpired and its key unrevoked. */
    async authenticateSession(token: string): Promise<Credential | undefined> {
      const hash = hashKey(token);
      const row = await ctx.db
        .selectFrom('sessions')
        .innerJoin('api_keys', (join) => join.onRef('api_keys.account_id', '=', 'sessions.account_id').onRef('api_keys.id', '=', 'sessions.api_key_id'))
        .select(['sessions.account_id', 'sessions.token_hash', 'sessions.api_key_id'])
        .where('sessions.token_hash', '=', hash)
        .where('sessions.expires_at', '>', ctx.now())
        .where('api_keys.revoked_at', 'is', null)
        .executeTakeFirst();
      if (!row || !timingSafeEqual(Buffer.from(row.token_hash, 'hex'), Buffer.from(hash, 'hex'))) return undefined;
      return { account: row.account_id, keyId: row.api_key_id };
    },

    async deleteSession(token: string): Promise<void> {
      await ctx.db.deleteFrom('sessions').where('token_hash', '=', hashKey(token)).execute();
    },
  };
}
