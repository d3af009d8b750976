/**
 * Versioned migrations, run on start (and by `tranche migrate`). The same definitions serve SQLite and PostgreSQL;
 * the differences are the auto-increment column and how an index carries a column it is not ordered by.
 */
import { type CreateTableBuilder, type Kysely, type Migration, type MigrationProvider, Migrator, sql } from 'kysely'

type AnyDb = Kysely<unknown>

function migrations(dialect: 'sqlite' | 'postgres'): Record<string, Migration> {
  type Table = CreateTableBuilder<string, string>
  const serial = (t: Table, name: string): Table =>
    dialect === 'postgres'
      ? t.addColumn(name, 'bigserial', (c) => c.primaryKey())
      : t.addColumn(name, 'integer', (c) => c.primaryKey().autoIncrement())
  return {
    '001_initial': {
      async up(db: AnyDb) {
        const s = db.schema
        await s
          .createTable('users')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('email', 'text', (c) => c.notNull())
          .addColumn('email_lower', 'text', (c) => c.notNull().unique())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('time_zone', 'text', (c) => c.notNull())
          .addColumn('password_hash', 'text', (c) => c.notNull())
          .addColumn('is_admin', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .execute()
        await s
          .createTable('sessions')
          .addColumn('token_hash', 'text', (c) => c.primaryKey())
          .addColumn('user_id', 'text', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('expires_at', 'bigint', (c) => c.notNull())
          .execute()
        await s
          .createTable('api_keys')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('user_id', 'text', (c) => c.notNull())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('secret_hash', 'text', (c) => c.notNull().unique())
          .addColumn('last4', 'text', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('deleted_at', 'bigint')
          .execute()
        await s.createIndex('api_keys_user').on('api_keys').column('user_id').execute()
        for (const table of ['offers', 'contracts']) {
          await s
            .createTable(table)
            .addColumn('id', 'text', (c) => c.primaryKey())
            .addColumn('client_id', 'text', (c) => c.notNull())
            .addColumn('freelancer_id', 'text', (c) => c.notNull())
            .addColumn('status', 'text', (c) => c.notNull())
            .addColumn('data', 'text', (c) => c.notNull())
            .addColumn('version', 'integer', (c) => c.notNull())
            .addColumn('created_at', 'bigint', (c) => c.notNull())
            .execute()
          await s.createIndex(`${table}_client`).on(table).columns(['client_id', 'id']).execute()
          await s.createIndex(`${table}_freelancer`).on(table).columns(['freelancer_id', 'id']).execute()
        }
        await s
          .createTable('object_index')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('contract_id', 'text', (c) => c.notNull())
          .execute()
        await s
          .createTable('accounts')
          .addColumn('account', 'text', (c) => c.notNull())
          .addColumn('currency', 'text', (c) => c.notNull())
          .addColumn('balance', 'bigint', (c) => c.notNull())
          .addColumn('user_id', 'text')
          .addPrimaryKeyConstraint('accounts_pk', ['account', 'currency'])
          .execute()
        await s.createIndex('accounts_user').on('accounts').column('user_id').execute()
        await serial(s.createTable('journal_entries'), 'seq')
          .addColumn('id', 'text', (c) => c.notNull().unique())
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('currency', 'text', (c) => c.notNull())
          .addColumn('memo', 'text', (c) => c.notNull())
          .addColumn('contract_id', 'text')
          .addColumn('milestone_id', 'text')
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .execute()
        await serial(s.createTable('journal_lines'), 'seq')
          .addColumn('entry_id', 'text', (c) => c.notNull())
          .addColumn('account', 'text', (c) => c.notNull())
          .addColumn('currency', 'text', (c) => c.notNull())
          .addColumn('amount', 'bigint', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .execute()
        await s
          .createIndex('journal_lines_account')
          .on('journal_lines')
          .columns(['account', 'currency', 'seq'])
          .execute()
        await s.createIndex('journal_lines_entry').on('journal_lines').column('entry_id').execute()
        await serial(s.createTable('audit_log'), 'seq')
          .addColumn('id', 'text', (c) => c.notNull().unique())
          .addColumn('at', 'bigint', (c) => c.notNull())
          .addColumn('actor', 'text', (c) => c.notNull())
          .addColumn('action', 'text', (c) => c.notNull())
          .addColumn('target', 'text', (c) => c.notNull())
          .addColumn('record', 'text', (c) => c.notNull())
          .addColumn('prev_hash', 'text', (c) => c.notNull())
          .addColumn('hash', 'text', (c) => c.notNull())
          .execute()
        await s.createIndex('audit_log_target').on('audit_log').column('target').execute()
        await s
          .createTable('audit_head')
          .addColumn('id', 'integer', (c) => c.primaryKey())
          .addColumn('hash', 'text', (c) => c.notNull())
          .addColumn('count', 'bigint', (c) => c.notNull())
          .execute()
        await serial(s.createTable('events'), 'seq')
          .addColumn('id', 'text', (c) => c.notNull().unique())
          .addColumn('type', 'text', (c) => c.notNull())
          .addColumn('object_id', 'text', (c) => c.notNull())
          .addColumn('contract_id', 'text')
          .addColumn('data', 'text', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .execute()
        await s
          .createTable('event_recipients')
          .addColumn('user_id', 'text', (c) => c.notNull())
          .addColumn('event_seq', 'bigint', (c) => c.notNull())
          .addPrimaryKeyConstraint('event_recipients_pk', ['user_id', 'event_seq'])
          .execute()
        await s
          .createTable('timers')
          .addColumn('key', 'text', (c) => c.primaryKey())
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('run_at', 'bigint', (c) => c.notNull())
          .addColumn('payload', 'text', (c) => c.notNull())
          .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('lease_until', 'bigint')
          .addColumn('lease_owner', 'text')
          .addColumn('last_error', 'text')
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .execute()
        await s.createIndex('timers_due').on('timers').columns(['run_at', 'key']).execute()
        await s
          .createTable('idempotency_keys')
          .addColumn('user_id', 'text', (c) => c.notNull())
          .addColumn('key', 'text', (c) => c.notNull())
          .addColumn('request_hash', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('response_status', 'integer')
          .addColumn('response_body', 'text')
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addPrimaryKeyConstraint('idempotency_keys_pk', ['user_id', 'key'])
          .execute()
        await s
          .createTable('webhook_endpoints')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('user_id', 'text', (c) => c.notNull())
          .addColumn('url', 'text', (c) => c.notNull())
          .addColumn('secret', 'text', (c) => c.notNull())
          .addColumn('enabled_events', 'text', (c) => c.notNull())
          .addColumn('enabled', 'integer', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('deleted_at', 'bigint')
          .execute()
        await s.createIndex('webhook_endpoints_user').on('webhook_endpoints').column('user_id').execute()
        await s
          .createTable('webhook_deliveries')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('endpoint_id', 'text', (c) => c.notNull())
          .addColumn('user_id', 'text', (c) => c.notNull())
          .addColumn('event_id', 'text', (c) => c.notNull())
          .addColumn('event_seq', 'bigint', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('attempts', 'integer', (c) => c.notNull())
          .addColumn('next_attempt_at', 'bigint')
          .addColumn('lease_until', 'bigint')
          .addColumn('last_status', 'integer')
          .addColumn('last_error', 'text')
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('delivered_at', 'bigint')
          .execute()
        await s
          .createIndex('webhook_deliveries_due')
          .on('webhook_deliveries')
          .columns(['status', 'next_attempt_at'])
          .execute()
        await s
          .createIndex('webhook_deliveries_endpoint')
          .on('webhook_deliveries')
          .columns(['endpoint_id', 'id'])
          .execute()
        await s
          .createTable('payouts')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('user_id', 'text', (c) => c.notNull())
          .addColumn('currency', 'text', (c) => c.notNull())
          .addColumn('amount', 'bigint', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .execute()
        await s.createIndex('payouts_user').on('payouts').columns(['user_id', 'id']).execute()
        await s
          .createTable('clock')
          .addColumn('id', 'integer', (c) => c.primaryKey())
          .addColumn('now', 'bigint', (c) => c.notNull())
          .execute()
        await sql`insert into audit_head (id, hash, count) values (1, ${'0'.repeat(64)}, 0)`.execute(db)
      },
    },
    // More audit chains, so that concurrent transactions on PostgreSQL need not all wait for one head row
    // (audit-repo.ts); a database with records keeps them on chain 1.
    '002_audit_chains': {
      async up(db: AnyDb) {
        for (let id = 2; id <= 8; id++)
          await sql`insert into audit_head (id, hash, count) values (${id}, ${'0'.repeat(64)}, 0)`.execute(db)
      },
    },
    // 8 chains still left transactions of several servers waiting for one another's head rows: 64 (sampled
    // lock waits, bench/README.md)
    '003_more_audit_chains': {
      async up(db: AnyDb) {
        for (let id = 9; id <= AUDIT_CHAINS; id++)
          await sql`insert into audit_head (id, hash, count) values (${id}, ${'0'.repeat(64)}, 0)`.execute(db)
      },
    },
    // A webhook endpoint's secret can be rolled: the one before keeps signing beside it until previous_secret_until
    '004_webhook_secret_roll': {
      async up(db: AnyDb) {
        await db.schema.alterTable('webhook_endpoints').addColumn('previous_secret', 'text').execute()
        await db.schema.alterTable('webhook_endpoints').addColumn('previous_secret_until', 'bigint').execute()
      },
    },
    // The account index also holds each line's amount, so that the sums per account (`verify`, which reads every
    // line) are read from the index alone instead of from the table, line by line in the index's order: 600–800 →
    // ~190 ms on 1,000,000 lines (SQLite, bench/README.md). Statements page by the same (account, currency, seq).
    '005_journal_lines_account_amount': {
      async up(db: AnyDb) {
        await db.schema.dropIndex('journal_lines_account').execute()
        if (dialect === 'postgres')
          await sql`create index journal_lines_account on journal_lines (account, currency, seq) include (amount)`.execute(
            db,
          )
        else
          await db.schema
            .createIndex('journal_lines_account')
            .on('journal_lines')
            .columns(['account', 'currency', 'seq', 'amount'])
            .execute()
      },
    },
  }
}

/** How many audit chains (head rows) there are; SQLite, with one writer at a time, writes only the first. */
export const AUDIT_CHAINS = 64

class StaticProvider implements MigrationProvider {
  constructor(private readonly all: Record<string, Migration>) {}
  async getMigrations() {
    return this.all
  }
}

/**
 * Runs pending migrations; refuses a database written by a newer version of Tranche. On SQLite all of it is one
 * write transaction (BEGIN IMMEDIATE): Kysely takes no migration lock there and runs each statement on its own, so
 * two processes starting at once on a fresh file (a server and its worker) would both run the same migrations, and
 * a process stopped half-way would leave tables that no recorded migration made. PostgreSQL migrations run in a
 * transaction under Kysely's lock.
 */
export async function migrateToLatest(db: AnyDb, dialect: 'sqlite' | 'postgres'): Promise<void> {
  if (dialect === 'postgres') return migrate(db, dialect)
  await sql`begin immediate`.execute(db)
  try {
    await migrate(db, dialect)
    await sql`commit`.execute(db)
  } catch (e) {
    await sql`rollback`.execute(db).catch(() => undefined)
    throw e
  }
}

async function migrate(db: AnyDb, dialect: 'sqlite' | 'postgres'): Promise<void> {
  // Kysely's Migrator looks for its tables in every schema unless told which one: with several Tranche schemas in one
  // PostgreSQL database (a `schema` per store, as the tests use), a fresh schema would see another schema's
  // kysely_migration, skip creating its own, and fail. Pin it to the schema the connection writes to.
  const schema =
    dialect === 'postgres'
      ? (await sql<{ schema: string | null }>`select current_schema() as schema`.execute(db)).rows[0]?.schema
      : null
  const migrator = new Migrator({
    db,
    provider: new StaticProvider(migrations(dialect)),
    ...(schema ? { migrationTableSchema: schema } : {}),
  })
  // what the database records, read directly: Kysely lists only the migrations this code has
  const recorded = await (db as Kysely<{ kysely_migration: { name: string } }>)
    .selectFrom('kysely_migration')
    .select('name')
    .execute()
    .catch(() => []) // a new database: no table yet
  const names = new Set(Object.keys(migrations(dialect)))
  const unknown = recorded.filter((m) => !names.has(m.name))
  if (unknown.length) {
    throw new Error(
      `the database was migrated by a newer version of Tranche (${unknown.map((m) => m.name).join(', ')}); upgrade Tranche`,
    )
  }
  const { error } = await migrator.migrateToLatest()
  if (error) throw error
}
