/**
 * Prepared queries: a query on a hot path is built with Kysely's builder once per dialect and shape, compiled, and
 * then run with new values — no builder, no operation tree, no compiler on each run. Building and compiling cost
 * more CPU than running most of Tranche's statements (on SQLite), and a command runs a dozen of them.
 *
 *   const bump = prepared((db, a: { id: string; by: bigint }) =>
 *     db.updateTable('accounts').set((eb) => ({ balance: eb('balance', '+', a.by) })).where('account', '=', a.id))
 *   await bump(trx, { id, by: 5n })
 *
 * The builder is called with a stand-in for the arguments: every value is a placeholder that Kysely passes through
 * as a parameter; arrays keep their length (the shape: one compiled query per set of lengths). After compiling, each
 * parameter that is a placeholder is replaced by the value at its path. A builder must therefore use argument values
 * only as values (never to choose the query's structure — that is what the shape is for); a value Kysely does not
 * send as a parameter is caught when the query is first compiled. A database with Kysely plugins (tests that watch
 * queries) gets the query built as usual, so the plugins see it.
 */
import { type Compilable, CompiledQuery, type Kysely, type QueryResult, type RawBuilder } from 'kysely'
import { directConnection, runOn } from './database.ts'
import type { DB } from './schema.ts'

class Placeholder {
  constructor(readonly path: readonly (string | number)[]) {}
}

type Plan = { readonly sql: string; readonly parameters: readonly unknown[]; readonly query: CompiledQuery }

/** The arguments' stand-in (placeholders at the leaves) and the shape key (every array's length, in order). */
function standIn(value: unknown, path: (string | number)[], shape: number[], count: { n: number }): unknown {
  if (Array.isArray(value)) {
    shape.push(value.length)
    return value.map((v, i) => standIn(v, [...path, i], shape, count))
  }
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) {
      if (v === undefined) throw new Error(`prepared query: ${[...path, k].join('.')} is undefined`)
      out[k] = standIn(v, [...path, k], shape, count)
    }
    return out
  }
  count.n++
  return new Placeholder(path)
}

function shapeOf(value: unknown, shape: number[]): number[] {
  if (Array.isArray(value)) {
    shape.push(value.length)
    for (const v of value) shapeOf(v, shape)
  } else if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype)
    for (const k in value) shapeOf((value as Record<string, unknown>)[k], shape)
  return shape
}

function at(value: unknown, path: readonly (string | number)[]): unknown {
  let v = value
  for (const k of path) v = (v as Record<string | number, unknown>)[k]
  return v
}

export function prepared<A extends object, O>(
  build: (db: Kysely<DB>, args: A) => Compilable<O>,
): (db: Kysely<DB>, args: A) => Promise<QueryResult<O>> {
  // per dialect (the adapter object Kysely shares between a database and its transactions), per shape
  const plans = new WeakMap<object, Map<string, Plan>>()
  return async (db, args) => {
    const executor = db.getExecutor()
    // plugins transform the operation tree, which a prepared query no longer has: build it as usual then
    if (executor.plugins.length) return db.executeQuery(build(db, args))
    const adapter = executor.adapter
    let byShape = plans.get(adapter)
    if (!byShape) {
      byShape = new Map()
      plans.set(adapter, byShape)
    }
    const key = shapeOf(args, []).join(',')
    let plan = byShape.get(key)
    if (!plan) {
      const count = { n: 0 }
      const compiled = build(db, standIn(args, [], [], count) as A).compile()
      const used = new Set(compiled.parameters.filter((p) => p instanceof Placeholder)).size
      if (used !== count.n)
        throw new Error(
          `prepared query: ${count.n - used} argument value(s) not sent as parameters in: ${compiled.sql}`,
        )
      plan = { sql: compiled.sql, parameters: compiled.parameters, query: compiled }
      byShape.set(key, plan)
    }
    const parameters = plan.parameters.map((p) => (p instanceof Placeholder ? at(args, p.path) : p))
    const direct = directConnection(db)
    if (direct) return runOn(direct, plan.sql, parameters) as QueryResult<O>
    return db.executeQuery<O>(CompiledQuery.raw(plan.sql, parameters) as CompiledQuery<O>)
  }
}

/** A statement written with Kysely's `sql` tag, as a query that `prepared` can build and compile. */
export const rawQuery = <O>(db: Kysely<DB>, q: RawBuilder<O>): Compilable<O> => ({ compile: () => q.compile(db) })
