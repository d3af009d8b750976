/**
 * The application core: what every command shares. `run` executes one command as one database transaction —
 * state, ledger entries, audit record, events (outbox), timers and the idempotent response commit together — and
 * retries it from a fresh read when a concurrent command won the race.
 */
import type { Kysely } from 'kysely'
import type { Contract } from '../domain/contract-model.ts'
import type { JournalEntry } from '../domain/ledger.ts'
import type { Offer } from '../domain/offer.ts'
import type { Actor, DecisionContext, DomainEvent, Effects, TimerChanges } from '../domain/types.ts'
import { iso } from '../domain/types.ts'
import { classify, type Store, writeTransaction } from '../store/database.ts'
import { saveContract, saveOffer, VersionConflict, type Versioned } from '../store/repos/aggregate-repo.ts'
import { type AuditInput, appendAudit } from '../store/repos/audit-repo.ts'
import { insertEvents } from '../store/repos/event-repo.ts'
import { completeKey, type KeyClaims, lockKey } from '../store/repos/idempotency-repo.ts'
import { NegativeBalance, postEntries } from '../store/repos/ledger-repo.ts'
import { applyTimers } from '../store/repos/timer-repo.ts'
import type { DB } from '../store/schema.ts'
import type { Clock } from './clock.ts'
import type { Config } from './config.ts'
import type { GroupCommit } from './group-commit.ts'
import { newId } from './ids.ts'
import { DEFAULT_PAYMENT_METHOD, type PaymentRail } from './payment-rail.ts'
import { presentObjectOf, presentOffer } from './present.ts'

export interface Logger {
  info(obj: object, msg?: string): void
  warn(obj: object, msg?: string): void
  error(obj: object, msg?: string): void
}

export interface App {
  readonly store: Store
  readonly clock: Clock
  readonly config: Config
  readonly rail: PaymentRail
  readonly log: Logger
  /** Called after a commit that set timers or wrote events, so the worker looks sooner. */
  readonly notify: (what: { timers: boolean; events: boolean }) => void
  /** Group commit (SQLite): commands that arrive together share one transaction and one fsync. */
  readonly batcher?: GroupCommit | undefined
  /** How Idempotency-Keys in flight are claimed: in memory (SQLite) or as rows (PostgreSQL, many servers) */
  readonly claims: KeyClaims
}

export interface IdempotentResponse {
  readonly userId: string
  readonly key: string
  readonly hash: string
  readonly status: number
  /** turns the command's result into the body that is stored and sent */
  readonly render: (result: unknown) => string
}

const MAX_ATTEMPTS = 8

export class Tx {
  private timersTouched = false
  private eventsWritten = false
  /** audit records, appended to the chain when the transaction ends (see `appendAudit`) */
  readonly auditRecords: AuditInput[] = []
  /** journal entries, posted when the command's work is done (see `postPending`) */
  private readonly pendingEntries: JournalEntry[] = []

  constructor(
    readonly db: Kysely<DB>,
    readonly app: App,
    readonly now: number,
    readonly actor: Actor,
  ) {}

  ctx(actor: Actor = this.actor): DecisionContext {
    return { now: this.now, actor, newId }
  }

  /** Whether reads of state that a command will change should lock their rows (PostgreSQL). */
  get locks(): boolean {
    return this.app.store.caps.rowLocks
  }

  /** Wakes the worker after the commit (something for it to send). */
  touchEvents() {
    this.eventsWritten = true
  }

  get touched() {
    return { timers: this.timersTouched, events: this.eventsWritten }
  }

  /**
   * Journal entries of the command. They are posted when the rest of its work is written (`postPending`): posting
   * changes balance rows, which PostgreSQL keeps locked until the commit, and a user's balance row is shared by all
   * that user's contracts — so it is locked for the last moment of a transaction only, not for all its round trips.
   */
  async entries(entries: readonly JournalEntry[]) {
    this.pendingEntries.push(...entries)
  }

  /** Posts the command's journal entries (a user account left below zero throws `NegativeBalance`). */
  async postPending() {
    const entries = this.pendingEntries.splice(0)
    if (entries.length) await postEntries(this.db, entries, this.now)
  }

  async timers(changes: TimerChanges) {
    if (!changes.set.length && !changes.cancel.length) return
    this.timersTouched = true
    await applyTimers(this.db, changes, this.now)
  }

  async events(list: readonly { event: DomainEvent; object: Record<string, unknown>; contractId: string | null }[]) {
    if (!list.length) return
    this.eventsWritten = true
    await insertEvents(
      this.db,
      list.map(({ event, object, contractId }) => {
        const id = newId('evt')
        const body = JSON.stringify({
          id,
          object: 'event',
          type: event.type,
          created_at: iso(this.now),
          data: { object },
        })
        return {
          id,
          type: event.type,
          objectId: event.objectId,
          contractId,
          body,
          createdAt: this.now,
          audience: event.audience ?? [],
        }
      }),
      () => newId('whd'),
    )
  }

  /** Records the command in the audit log; written with the transaction's other records when it ends. */
  audit(action: string, target: string, data: Record<string, unknown>) {
    const a = this.actor
    const actor = a.kind === 'system' ? 'system' : a.kind === 'admin' ? `admin:${a.id}` : a.id
    this.auditRecords.push({ id: newId('aud'), at: this.now, actor, action, target, data })
  }

  /** Persists a contract decision: rail charges, state, ledger, timers, events, audit. */
  async commitContract(
    before: Versioned<Contract> | null,
    d: Effects & { contract: Contract },
    action: string,
    paymentMethod?: string,
  ) {
    for (const charge of d.railCharges) {
      await this.app.rail.charge({
        paymentMethod: paymentMethod ?? DEFAULT_PAYMENT_METHOD,
        currency: charge.currency,
        amount: charge.amount,
        reference: d.contract.id,
      })
    }
    await saveContract(this.db, d.contract, before?.version ?? null, before?.value)
    await this.applyEffects(d, d.contract.id, (e) => presentObjectOf(d.contract, e.object, e.objectId))
    this.audit(action, d.contract.id, {
      events: d.events.map((e) => `${e.type}:${e.objectId}`),
      entries: d.entries.map((e) => e.id),
    })
  }

  async commitOffer(before: Versioned<Offer> | null, d: Effects & { offer: Offer }, action: string) {
    await saveOffer(this.db, d.offer, before?.version ?? null)
    await this.applyEffects(d, null, () => presentOffer(d.offer))
    this.audit(action, d.offer.id, { status: d.offer.status, revision: d.offer.revisions.length })
  }

  async applyEffects(fx: Effects, contractId: string | null, render: (e: DomainEvent) => Record<string, unknown>) {
    await this.entries(fx.entries)
    await this.timers(fx.timers)
    await this.events(
      fx.events.map((event) => ({ event, object: event.data ? { ...event.data } : render(event), contractId })),
    )
  }
}

function retryable(e: unknown): boolean {
  return e instanceof VersionConflict || e instanceof NegativeBalance || classify(e) === 'serialization'
}

export interface CommandOptions {
  readonly actor: Actor
  readonly idem?: IdempotentResponse | undefined
}

/**
 * The body of one command inside a transaction: the command itself, then its idempotent response. Its audit
 * records are returned for the caller to append before the transaction commits.
 */
export async function execute<T>(trx: Kysely<DB>, app: App, opts: CommandOptions, fn: (tx: Tx) => Promise<T>) {
  const tx = new Tx(trx, app, app.clock.now(), opts.actor)
  if (opts.idem && tx.locks) await lockKey(trx, opts.idem.userId, opts.idem.key)
  const value = await fn(tx)
  if (opts.idem)
    await completeKey(trx, opts.idem.userId, opts.idem.key, opts.idem.status, opts.idem.render(value), opts.idem.hash)
  await tx.postPending()
  return { value, touched: tx.touched, audit: tx.auditRecords }
}

/** One command as its own transaction. */
async function transaction<T>(app: App, opts: CommandOptions, fn: (tx: Tx) => Promise<T>) {
  return writeTransaction(app.store, async (trx) => {
    const r = await execute(trx, app, opts, fn)
    await appendAudit(trx, app.store.caps, r.audit)
    return r
  })
}

/** Runs one command as one transaction; see the module comment. */
export async function run<T>(app: App, opts: CommandOptions, fn: (tx: Tx) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      const { value, touched } = app.batcher
        ? await app.batcher.submit(app, opts, fn)
        : await transaction(app, opts, fn)
      if (touched.timers || touched.events) app.notify(touched)
      return value
    } catch (e) {
      if (attempt < MAX_ATTEMPTS && retryable(e)) {
        await new Promise((r) => setTimeout(r, Math.random() * 5 * attempt))
        continue
      }
      throw e
    }
  }
}

/** A read outside any command. */
export function reader(app: App): Kysely<DB> {
  return app.store.db
}
