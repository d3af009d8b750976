/**
 * How the model reports a broken rule: an InvariantViolation, thrown through the model's `fail` so that it carries
 * the trace of the run. `assert` is for the checks that live outside PureModel (model-ledger.ts, model-movement.ts,
 * model-invariants.ts).
 */

export class InvariantViolation extends Error {
  override name = 'InvariantViolation'
}

/** Fails the run through `model.fail` (which adds the trace) when `cond` does not hold. */
export function assert(model: { fail(msg: string): never }, cond: boolean, msg: () => string) {
  if (!cond) model.fail(msg())
}
