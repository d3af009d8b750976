/**
 * The store conformance suite, schema and aggregates: the same checks, through the real repos, on every adapter —
 * SQLite (a temp file), PostgreSQL in process (PGlite) and the real PostgreSQL server when TRANCHE_TEST_DATABASE_URL is
 * set (a fresh schema, dropped after). Here: the dialect's capabilities, the migrations, and offers and contracts saved,
 * loaded and guarded by their version. Each adapter gets one store for the whole block; every test uses its own ids.
 * The rest of the suite is in the other `store-*.test.ts` files.
 */
import { randomBytes } from 'node:crypto'
import { type Kysely, sql } from 'kysely'
import { beforeAll, describe, expect, it } from 'vitest'
import { newId } from '../../src/app/ids.ts'
import { decode } from '../../src/app/json-codec.ts'
import { createContract } from '../../src/domain/contract-model.ts'
import { createOffer } from '../../src/domain/offer.ts'
import { validateTerms } from '../../src/domain/terms.ts'
import type { DecisionContext } from '../../src/domain/types.ts'
import { classify, type Store } from '../../src/store/database.ts'
import { AUDIT_CHAINS, migrateToLatest } from '../../src/store/migrations.ts'
import { openPostgres } from '../../src/store/postgres/postgres-store.ts'
import {
  contractIdOf,
  loadContract,
  loadOffer,
  saveContract,
  saveOffer,
  VersionConflict,
} from '../../src/store/repos/aggregate-repo.ts'
import type { DB } from '../../src/store/schema.ts'
import { dropSchema, PG_URL } from '../support/harness.ts'
import { ADAPTERS, storeBed, tag, termsInput, UNICODE, userActor } from './store-fixtures.ts'

describe.each(ADAPTERS.map((make) => make()))('store conformance on $name', (adapter) => {
  const bed = storeBed(adapter)
  let store: Store
  let db: Kysely<DB>
  beforeAll(() => {
    ;({ store, db } = bed)
  })

  it('reports the capabilities of its dialect', () => {
    expect(store.caps.dialect).toBe(adapter.name === 'sqlite' ? 'sqlite' : 'postgres')
    expect(store.caps.skipLocked).toBe(adapter.name !== 'sqlite')
    expect(store.caps.rowLocks).toBe(adapter.name !== 'sqlite')
  })

  it('runs migrations idempotently', async () => {
    await migrateToLatest(db as Kysely<unknown>, store.caps.dialect)
    await migrateToLatest(db as Kysely<unknown>, store.caps.dialect)
    const { rows } = await sql<{ name: string }>`select name from kysely_migration`.execute(db)
    expect(rows.map((r) => r.name)).toEqual([
      '001_initial',
      '002_audit_chains',
      '003_more_audit_chains',
      '004_webhook_secret_roll',
      '005_journal_lines_account_amount',
    ])
    const head = await db.selectFrom('audit_head').selectAll().execute()
    expect(head).toHaveLength(AUDIT_CHAINS)
  })

  it.runIf(adapter.name === 'postgres')(
    'migrates a fresh schema beside another migrated schema in the same database',
    async () => {
      const schema = `t_${randomBytes(6).toString('hex')}`
      try {
        const fresh = await openPostgres(PG_URL!, { schema, poolSize: 1 })
        const { rows } = await sql<{ name: string }>`select name from kysely_migration`.execute(fresh.db)
        expect(rows.map((r) => r.name)).toEqual([
          '001_initial',
          '002_audit_chains',
          '003_more_audit_chains',
          '004_webhook_secret_roll',
          '005_journal_lines_account_amount',
        ])
        await fresh.close()
      } finally {
        await dropSchema(schema)
      }
    },
  )

  it('round-trips an offer and a contract exactly (bigint amounts, unicode text)', async () => {
    const ctx: DecisionContext = { now: 1_700_000_000_123, actor: userActor('usr_a'), newId }
    const terms = validateTerms(termsInput([999_999_999_999n, 500n * 100n]), { minimumMajor: 5n })
    const { offer } = createOffer(
      { authorId: `usr_a${tag()}`, counterpartyId: `usr_b${tag()}`, role: 'client', terms },
      ctx,
    )
    await db.transaction().execute((trx) => saveOffer(trx, offer, null))
    expect(await loadOffer(db, offer.id)).toStrictEqual({ value: offer, version: 1 })

    const { contract } = createContract(
      {
        id: newId('ctr'),
        offerId: offer.id,
        clientId: offer.clientId,
        freelancerId: offer.freelancerId,
        terms,
        fees: { clientFeeBps: 500, serviceFeeBps: 1000 },
      },
      ctx,
    )
    await db.transaction().execute((trx) => saveContract(trx, contract, null))
    const loaded = await loadContract(db, contract.id)
    expect(loaded).toStrictEqual({ value: contract, version: 1 })
    expect(typeof loaded?.value.milestones[0]?.amount).toBe('bigint')
    expect(loaded?.value.title).toBe(UNICODE)
    for (const m of contract.milestones) expect(await contractIdOf(db, m.id)).toBe(contract.id)
    // what the row holds decodes to the same contract (the load above may be served from the decoded memo)
    const stored = await db
      .selectFrom('contracts')
      .select('data')
      .where('id', '=', contract.id)
      .executeTakeFirstOrThrow()
    expect(decode(stored.data)).toStrictEqual(contract)
    const row = await db
      .selectFrom('contracts')
      .select(['status', 'client_id', 'created_at'])
      .where('id', '=', contract.id)
      .executeTakeFirstOrThrow()
    expect(row).toEqual({ status: 'active', client_id: offer.clientId, created_at: 1_700_000_000_123n })

    // inserting the same id again is a unique violation, classified at the adapter
    const dup = await saveOffer(db, offer, null).catch((e: unknown) => e)
    expect(classify(dup)).toBe('unique_violation')
  })

  it('guards saves with the version read (VersionConflict on a stale version)', async () => {
    const ctx: DecisionContext = { now: 1_700_000_000_000, actor: userActor('usr_a'), newId }
    const terms = validateTerms(termsInput([10_000n]), { minimumMajor: 5n })
    const { offer } = createOffer(
      { authorId: `usr_a${tag()}`, counterpartyId: `usr_b${tag()}`, role: 'client', terms },
      ctx,
    )
    await saveOffer(db, offer, null)
    await saveOffer(db, { ...offer, status: 'declined' }, 1)
    await expect(saveOffer(db, { ...offer, status: 'withdrawn' }, 1)).rejects.toBeInstanceOf(VersionConflict)
    const now = await loadOffer(db, offer.id)
    expect(now?.version).toBe(2)
    expect(now?.value.status).toBe('declined')

    const { contract } = createContract(
      {
        id: newId('ctr'),
        offerId: offer.id,
        clientId: offer.clientId,
        freelancerId: offer.freelancerId,
        terms,
        fees: { clientFeeBps: 0, serviceFeeBps: 0 },
      },
      ctx,
    )
    await saveContract(db, contract, null)
    await saveContract(db, contract, 1)
    await expect(saveContract(db, contract, 1)).rejects.toBeInstanceOf(VersionConflict)
    expect((await loadContract(db, contract.id))?.version).toBe(2)
  })
})
