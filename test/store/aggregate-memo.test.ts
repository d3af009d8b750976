/**
 * The aggregates' in-memory helpers on every adapter: a decoded contract is served again only while its row holds
 * the same text, and the contract that holds an object is remembered once found (never as missing).
 */
import type { Kysely } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { newId } from '../../src/app/ids.ts'
import { encode } from '../../src/app/json-codec.ts'
import { createContract } from '../../src/domain/contract-model.ts'
import { validateTerms } from '../../src/domain/terms.ts'
import type { DecisionContext } from '../../src/domain/types.ts'
import type { Store } from '../../src/store/database.ts'
import { contractIdOf, loadContract, saveContract } from '../../src/store/repos/aggregate-repo.ts'
import type { DB } from '../../src/store/schema.ts'
import { ADAPTERS, tag, termsInput, userActor } from './store-fixtures.ts'

describe.each(ADAPTERS.map((make) => make()))('aggregate memo on $name', (adapter) => {
  let store: Store
  let db: Kysely<DB>

  beforeAll(async () => {
    store = await adapter.open()
    db = store.db
  }, 180_000)

  afterAll(async () => {
    await store?.close()
    await adapter.cleanup()
  })

  it('serves a decoded contract again only while its row holds the same text', async () => {
    const ctx: DecisionContext = { now: 1_700_000_000_000, actor: userActor('usr_a'), newId }
    const terms = validateTerms(termsInput([10_000n]), { minimumMajor: 5n })
    const { contract } = createContract(
      {
        id: newId('ctr'),
        offerId: newId('off'),
        clientId: `usr_a${tag()}`,
        freelancerId: `usr_b${tag()}`,
        terms,
        fees: { clientFeeBps: 500, serviceFeeBps: 1000 },
      },
      ctx,
    )
    const msId = contract.milestones[0]!.id
    expect(await contractIdOf(db, msId)).toBeNull() // not indexed yet, and not remembered as missing
    await saveContract(db, contract, null)
    expect(await contractIdOf(db, msId)).toBe(contract.id)
    const first = (await loadContract(db, contract.id))!.value
    expect(Object.isFrozen(first.milestones[0])).toBe(true)
    expect((await loadContract(db, contract.id))!.value).toBe(first)
    // the row changed behind the store's back (another server, a restore): decoded afresh
    const changed = { ...contract, title: 'Changed elsewhere' }
    await db
      .updateTable('contracts')
      .set({ data: encode(changed) })
      .where('id', '=', contract.id)
      .execute()
    const second = (await loadContract(db, contract.id))!.value
    expect(second).not.toBe(first)
    expect(second.title).toBe('Changed elsewhere')
    // a save rolled back leaves the memo unable to serve its text: the row's text is what is read
    await db
      .transaction()
      .execute(async (trx) => {
        await saveContract(trx, { ...second, title: 'Rolled back' }, 1)
        throw new Error('undo')
      })
      .catch(() => undefined)
    expect((await loadContract(db, contract.id))!.value.title).toBe('Changed elsewhere')
  })

  it('knows the contract of every object of a contract it read or saved, without reading the index', async () => {
    const ctx: DecisionContext = { now: 1_700_000_000_000, actor: userActor('usr_a'), newId }
    const terms = validateTerms(termsInput([10_000n, 20_000n, 30_000n]), { minimumMajor: 5n })
    const { contract } = createContract(
      {
        id: newId('ctr'),
        offerId: newId('off'),
        clientId: `usr_a${tag()}`,
        freelancerId: `usr_b${tag()}`,
        terms,
        fees: { clientFeeBps: 500, serviceFeeBps: 1000 },
      },
      ctx,
    )
    await saveContract(db, contract, null)
    let queries = 0
    const watched = db.withPlugin({
      transformQuery: (a) => {
        queries++
        return a.node
      },
      transformResult: async (a) => a.result,
    })
    for (const m of contract.milestones) expect(await contractIdOf(watched, m.id)).toBe(contract.id)
    expect(queries).toBe(0)
    // an object it has not seen is looked up in the index, and a missing one stays unknown
    expect(await contractIdOf(watched, newId('ms'))).toBeNull()
    expect(queries).toBe(1)
  })
})
