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
import { classify, type Store, writesInWith, writeTransaction } from '../store/database.ts'
import { saveContract, saveOffer, VersionConflict, type Versioned } from '../store/repos/aggregate-repo.ts'
import { type AuditInput, appendAudit } from '../store/repos/audit-repo.ts'
import { type ContractWrites, writeContractCommand } from '../store/repos/command-write.ts'
import { insertEvents, type NewEvent } from '../store/repos/event-repo.ts'
import { completeKey, type KeyClaims, lockKey } from '../store/repos/idempotency-repo.ts'
import { NegativeBalance, postEntries } from '../store/repos/ledger-repo.ts'
import { applyTimers } from '../store/repos/timer-repo.ts'
import type { DB } from '../store/schema.ts'
import type { Clock } from './clock.ts'
import type { Config } from './config.ts'
import type { CredentialCache } from './credentials.ts'
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
  /** The users behind session tokens and API keys, remembered for a second (credentials.ts) */
  readonly credentials: CredentialCache
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
  /** journal entries, posted when the command's work is done (see `writePending`) */
  private readonly pendingEntries: JournalEntry[] = []
  /** PostgreSQL: a contract decision whose writes wait for the end of the command, to go in one statement */
  private deferred: Omit<ContractWrites, 'entries' | 'audit' | 'now'> | null = null

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
   * Journal entries of the command. They are posted when the rest of its work is written (`writePending`): posting
   * changes balance rows, which PostgreSQL keeps locked until the commit, and a user's balance row is shared by all
   * that user's contracts — so it is locked for the last moment of a transaction only, not for all its round trips.
   * A balance read later in the same command does not see them until `writePending` has run.
   */
  async entries(entries: readonly JournalEntry[]) {
    this.pendingEntries.push(...entries)
  }

  /**
   * Writes what the command left for its end: its deferred contract decision (PostgreSQL: one statement with the
   * journal entries and `audit`, see `commitContract`), else its journal entries. A user account left below zero
   * throws `NegativeBalance`.
   */
  async writePending(audit: AuditInput | null = null) {
    const entries = this.pendingEntries.splice(0)
    const d = this.deferred
    this.deferred = null
    if (d)
      await writeContractCommand(this.db, this.app.store.caps, { ...d, entries, audit, now: this.now }, newDeliveryId)
    else if (entries.length) await postEntries(this.db, entries, this.now)
  }

  async timers(changes: TimerChanges) {
    if (!changes.set.length && !changes.cancel.length) return
    this.timersTouched = true
    await applyTimers(this.db, changes, this.now)
  }

  async events(list: readonly EventToWrite[]) {
    if (!list.length) return
    this.eventsWritten = true
    await insertEvents(this.db, this.newEvents(list), newDeliveryId)
  }

  private newEvents(list: readonly EventToWrite[]): NewEvent[] {
    return list.map(({ event, object, contractId }) => {
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
    })
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
    /**
     * what the actor said, kept in the audit log: the reason of ending a contract, refunding or answering a refund
     * request; the message of an approval (a partial one's is also the refund request's reason)
     */
    said: { reason?: string | null; message?: string | null } = {},
  ) {
    for (const charge of d.railCharges) {
      await this.app.rail.charge({
        paymentMethod: paymentMethod ?? DEFAULT_PAYMENT_METHOD,
        currency: charge.currency,
        amount: charge.amount,
        reference: d.contract.id,
      })
    }
    const audit = () =>
      this.audit(action, d.contract.id, {
        events: d.events.map((e) => `${e.type}:${e.objectId}`),
        entries: d.entries.map((e) => e.id),
        ...(said.reason ? { reason: said.reason } : {}),
        ...(said.message ? { message: said.message } : {}),
      })
    const render = (e: DomainEvent) => presentObjectOf(d.contract, e.object, e.objectId)
    if (before && writesInWith(this.db)) {
      await this.writePending() // a command that decides twice writes the first decision before the second
      this.deferred = {
        contract: d.contract,
        version: before.version,
        before: before.value,
        timers: d.timers,
        events: this.newEvents(this.eventsToWrite(d, d.contract.id, render)),
      }
      this.timersTouched ||= d.timers.set.length > 0 || d.timers.cancel.length > 0
      this.eventsWritten ||= d.events.length > 0
      await this.entries(d.entries)
      audit()
      return
    }
    await saveContract(this.db, d.contract, before?.version ?? null, before?.value)
    await this.applyEffects(d, d.contract.id, render)
    audit()
  }

  /**
   * Ends the command's writes: what it left pending (`writePending`; on PostgreSQL with its one audit record in the
   * same statement when `appendRecords`) and, with `appendRecords`, its audit records. Returns the records left for
   * the caller to append.
   */
  async finish(appendRecords: boolean): Promise<AuditInput[]> {
    const records = this.auditRecords.splice(0)
    const one = appendRecords && this.deferred && records.length === 1 ? records[0]! : null
    await this.writePending(one)
    if (one) return []
    if (!appendRecords) return records
    await appendAudit(this.db, this.app.store.caps, records)
    return []
  }

  async commitOffer(before: Versioned<Offer> | null, d: Effects & { offer: Offer }, action: string) {
    await saveOffer(this.db, d.offer, before?.version ?? null)
    await this.applyEffects(d, null, () => presentOffer(d.offer))
    this.audit(action, d.offer.id, { status: d.offer.status, revision: d.offer.revisions.length })
  }

  async applyEffects(fx: Effects, contractId: string | null, render: (e: DomainEvent) => Record<string, unknown>) {
    await this.entries(fx.entries)
    await this.timers(fx.timers)
    await this.events(this.eventsToWrite(fx, contractId, render))
  }

  private eventsToWrite(
    fx: Effects,
    contractId: string | null,
    render: (e: DomainEvent) => Record<string, unknown>,
  ): EventToWrite[] {
    return fx.events.map((event) => ({ event, object: event.data ? { ...event.data } : render(event), contractId }))
  }
}

type EventToWrite = { event: DomainEvent; object: Record<string, unknown>; contractId: string | null }
const newDeliveryId = () => newId('whd')

function retryable(e: unknown): boolean {
  return e instanceof VersionConflict || e instanceof NegativeBalance || classify(e) === 'serialization'
}

export interface CommandOptions {
  readonly actor: Actor
  readonly idem?: IdempotentResponse | undefined
  /**
   * Everything the command does is in its transaction, so a group commit may run it twice (group-commit.ts): a due
   * timer. Should it ever reach the payment rail (as `tx.app.rail`), the group commit makes sure it calls it once.
   */
  readonly replayable?: boolean
}

/**
 * The body of one command inside a transaction: the command itself, its idempotent response, then the writes it
 * left to the end (`Tx.finish`). With `appendRecords` its audit records are appended too (the command is the
 * transaction); otherwise they are returned for the caller to append before the transaction commits.
 */
export async function execute<T>(
  trx: Kysely<DB>,
  app: App,
  opts: CommandOptions,
  fn: (tx: Tx) => Promise<T>,
  appendRecords: boolean,
) {
  const tx = new Tx(trx, app, app.clock.now(), opts.actor)
  if (opts.idem && tx.locks) await lockKey(trx, opts.idem.userId, opts.idem.key)
  const value = await fn(tx)
  if (opts.idem)
    await completeKey(trx, opts.idem.userId, opts.idem.key, opts.idem.status, opts.idem.render(value), opts.idem.hash)
  const audit = await tx.finish(appendRecords)
  return { value, touched: tx.touched, audit }
}

/** One command as its own transaction. */
async function transaction<T>(app: App, opts: CommandOptions, fn: (tx: Tx) => Promise<T>) {
  return writeTransaction(app.store, (trx) => execute(trx, app, opts, fn, true))
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
