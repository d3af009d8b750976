/**
 * Fixtures of the store conformance suite: the adapters it runs on, realistic state made through the use cases, and
 * the instruments of the race tests (a rail that holds racing commands together, a counter of contract reads).
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Kysely, type KyselyPlugin, SelectQueryNode, sql, TableNode } from 'kysely'
import { afterAll, beforeAll } from 'vitest'
import { createUser } from '../../src/app/accounts.ts'
import type { App } from '../../src/app/app.ts'
import { loadConfig } from '../../src/app/config.ts'
import { milestoneCommand } from '../../src/app/contracts.ts'
import { GroupCommit } from '../../src/app/group-commit.ts'
import { offerCommand, openOffer } from '../../src/app/offers.ts'
import type { PaymentRail } from '../../src/app/payment-rail.ts'
import type { TermsInput } from '../../src/domain/terms.ts'
import { createRuntime, type Runtime } from '../../src/main.ts'
import type { Store } from '../../src/store/database.ts'
import { openPglite } from '../../src/store/pglite/pglite-store.ts'
import { openPostgres } from '../../src/store/postgres/postgres-store.ts'
import { loadContract, loadOffer } from '../../src/store/repos/aggregate-repo.ts'
import type { DB } from '../../src/store/schema.ts'
import { openSqlite } from '../../src/store/sqlite/sqlite-store.ts'
import { dropSchema, PG_URL, silentLog } from '../support/harness.ts'

export interface Adapter {
  readonly name: 'sqlite' | 'pglite' | 'postgres'
  open(): Promise<Store>
  /** a second, independent store on the same database (another connection), where the adapter has one */
  openAnother?(): Promise<Store>
  cleanup(): Promise<void>
}

function sqliteAdapter(): Adapter {
  const dir = mkdtempSync(join(tmpdir(), 'tranche-store-'))
  const path = join(dir, 'tranche.db')
  return {
    name: 'sqlite',
    open: () => openSqlite(path),
    // a second connection in the same thread: its busy wait would block the first one's progress for the whole
    // timeout, so it gives up soon and the command retries
    openAnother: () => openSqlite(path, { busyTimeoutMs: 50 }),
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  }
}

function postgresAdapter(url: string): Adapter {
  const schema = `t_${randomBytes(6).toString('hex')}`
  return {
    name: 'postgres',
    open: () => openPostgres(url, { schema, poolSize: 4 }),
    openAnother: () => openPostgres(url, { schema, poolSize: 2 }),
    cleanup: () => dropSchema(schema),
  }
}

export const ADAPTERS: (() => Adapter)[] = [
  sqliteAdapter,
  () => ({ name: 'pglite', open: () => openPglite(), cleanup: async () => {} }),
  ...(PG_URL ? [PG_URL] : []).map((url) => () => postgresAdapter(url)),
]

const TABLES = [
  'offers',
  'contracts',
  'object_index',
  'accounts',
  'journal_entries',
  'journal_lines',
  'audit_log',
  'events',
  'event_recipients',
  'timers',
  'idempotency_keys',
  'webhook_deliveries',
]

export async function rowCounts(db: Kysely<DB>): Promise<Record<string, number>> {
  const out: Record<string, number> = {}
  for (const t of TABLES) {
    const { rows } = await sql<{ n: bigint | number }>`select count(*) as n from ${sql.table(t)}`.execute(db)
    out[t] = Number(rows[0]?.n)
  }
  return out
}

export const userActor = (id: string) => ({ kind: 'user' as const, id })
export const tag = () => randomBytes(4).toString('hex')
export const UNICODE = 'Logo – café ☕ «日本語» 🎨 "quoted" \\ back\nslash \u0000 {"$big":"1"}'

export function termsInput(amounts: bigint[], over: Partial<TermsInput> = {}): TermsInput {
  return {
    title: UNICODE,
    description: 'Zürich ∑ 💸',
    currency: 'USD',
    paymentMode: 'by_milestone',
    reviewDays: 7,
    revisionLimit: 2,
    unitName: null,
    unitPrice: null,
    milestones: amounts.map((amount, i) => ({
      title: `Étape ${i + 1} ✓`,
      description: '',
      acceptanceCriteria: 'ça marche',
      amount,
      dueDate: '2030-01-15',
      deposit: false,
      entries: null,
    })),
    ...over,
  }
}

/** A contract made through the use cases: the client offers, the freelancer accepts. */
export async function makeContract(app: App, amounts: bigint[] = [100_000n]) {
  const password = 'correct-horse-battery-9'
  const c = await createUser(app, { email: `client-${tag()}@tranche.test`, password, name: 'Client ☕' })
  const f = await createUser(app, { email: `freelancer-${tag()}@tranche.test`, password, name: 'Freelancer 🎨' })
  const client = userActor(c.id)
  const freelancer = userActor(f.id)
  const offer = await openOffer(app, client, { role: 'client', counterpartyEmail: f.email, terms: termsInput(amounts) })
  await offerCommand(app, freelancer, offer.id, { type: 'accept', revision: 1 })
  const cid = (await loadOffer(app.store.db, offer.id))?.value.contractId
  const contract = cid ? await loadContract(app.store.db, cid) : null
  if (!cid || !contract) throw new Error('the offer did not become a contract')
  return { client, freelancer, cid, mids: contract.value.milestones.map((m) => m.id) }
}

export const fund = (app: App, actor: ReturnType<typeof userActor>, mid: string) =>
  milestoneCommand(app, actor, { type: 'fund', milestoneIds: [mid] })
export const submit = (app: App, actor: ReturnType<typeof userActor>, mid: string) =>
  milestoneCommand(app, actor, { type: 'submit', milestoneId: mid, message: 'done', links: [], entries: null })
export const approve = (app: App, actor: ReturnType<typeof userActor>, mid: string) =>
  milestoneCommand(app, actor, {
    type: 'approve',
    milestoneId: mid,
    amount: null,
    acceptedEntries: null,
    bonus: null,
    rest: 'refund',
    message: null,
  })

/** A rail whose charge waits until `parties` charges are in flight (or a timeout), so racing commands both read first. */
export function barrierRail(parties: number, timeoutMs: number): PaymentRail & { arrivals(): number } {
  let waiting: (() => void)[] = []
  let arrived = 0
  return {
    arrivals: () => arrived,
    async charge() {
      arrived++
      await new Promise<void>((resolve) => {
        waiting.push(resolve)
        if (waiting.length >= parties) {
          for (const w of waiting) w()
          waiting = []
        } else {
          setTimeout(resolve, timeoutMs)
        }
      })
    },
    async payout() {},
  }
}

/** Counts reads of the contracts table: a command that lost a real race reads the contract again on its retry. */
export function contractReads() {
  let n = 0
  const plugin: KyselyPlugin = {
    transformQuery({ node }) {
      if (
        SelectQueryNode.is(node) &&
        node.from?.froms.some((f) => TableNode.is(f) && f.table.identifier.name === 'contracts')
      )
        n++
      return node
    },
    transformResult: async ({ result }) => result,
  }
  return {
    count: () => n,
    /** `app` with this rail and a watched store (and a group-commit batcher over that store on SQLite) */
    watch(app: App, rail: PaymentRail): App {
      const store = { ...app.store, db: app.store.db.withPlugin(plugin) }
      return { ...app, rail, store, batcher: app.batcher ? new GroupCommit(store) : undefined }
    },
  }
}

/**
 * A describe block's store on `adapter` and the runtime the use cases run on, opened before its tests and closed
 * after them; the fields are set once its `beforeAll` has run.
 */
export function storeBed(adapter: Adapter) {
  const bed = {} as { store: Store; rt: Runtime; app: App; db: Kysely<DB> }
  beforeAll(async () => {
    bed.store = await adapter.open()
    bed.rt = await runtimeOn(bed.store)
    bed.app = bed.rt.app
    bed.db = bed.store.db
  }, 180_000)
  afterAll(async () => {
    await bed.rt?.close()
    await adapter.cleanup()
  })
  return bed
}

export async function runtimeOn(store: Store): Promise<Runtime> {
  const config = loadConfig({ TRANCHE_CLOCK: 'manual', TRANCHE_LOG_LEVEL: 'silent', TRANCHE_DB: ':memory:' })
  return createRuntime(config, { store, log: silentLog })
}
