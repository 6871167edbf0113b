import type { ColumnDataType, ColumnDefinitionBuilder, CreateTableBuilder, Kysely } from 'kysely';
import type { DialectName } from '../database.js';

/**
 * The per-dialect parts of the migrations: how an ever-increasing `seq` primary key is spelled,
 * and which dialect it is (migrations 007 and 009 are PostgreSQL's alone). Everything
 * else is written once with Kysely's schema builder.
 */
export interface Ddl {
  dialect: DialectName;
  seqType: ColumnDataType;
  seq: (column: ColumnDefinitionBuilder) => ColumnDefinitionBuilder;
  /** A table owned by an account: `seq`, `id`, `account_id`, unique on (account_id, id). */
  owned(db: Kysely<any>, table: string): CreateTableBuilder<string, string>;
}

export function ddlFor(dialect: DialectName): Ddl {
  const seqType: ColumnDataType = dialect === 'sqlite' ? 'integer' : 'bigint';
  // SQLite: AUTOINCREMENT so a deleted newest row's seq is never handed out again.
  const seq =
    dialect === 'sqlite'
      ? (c: ColumnDefinitionBuilder) => c.primaryKey().autoIncrement()
      : (c: ColumnDefinitionBuilder) => c.primaryKey().generatedAlwaysAsIdentity();
  return {
    dialect,
    seqType,
    seq,
    owned: (db, table) =>
      db.schema
        .createTable(table)
        .addColumn('seq', seqType, seq)
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('account_id', 'text', (c) => c.notNull())
        .addUniqueConstraint(`${table}_account_id`, ['account_id', 'id']),
  };
}
