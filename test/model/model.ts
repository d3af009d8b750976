/**
 * The model shared by the model-based tests: random worlds (several contracts in several currencies between a few
 * users), random abstract steps, their resolution into concrete domain commands against the current state, and a
 * pure model that applies them through the domain deciders while keeping an in-memory double-entry ledger and the
 * timer table, checking the invariants of SPEC §3, §5, §6 and §7 after every step.
 *
 * This is the entry point the tests import; the pieces live beside it: worlds (model-world.ts), steps
 * (model-steps.ts), their resolution (model-resolve.ts), the pure model (model-pure.ts) with its ledger
 * (model-ledger.ts), its checks of money movement (model-movement.ts) and of the invariants (model-invariants.ts),
 * and how a broken rule is reported (model-violation.ts).
 */

export const DEEP = Boolean(process.env.TRANCHE_DEEP)

export {
  ADMIN,
  type ModelOptions,
  type ModelParties,
  type Outcome,
  PureModel,
  STRANGER,
  USERS,
} from './model-pure.ts'
export {
  describeCommand,
  type Expectation,
  fracOf,
  type Party,
  type Resolved,
  resolveStep,
} from './model-resolve.ts'
export {
  type AddSpec,
  type EditSpec,
  type Frac,
  type Side,
  type Step,
  stepArb,
  stepsArb,
  type Who,
} from './model-steps.ts'
export { InvariantViolation } from './model-violation.ts'
export {
  type ContractSpec,
  contractSpecArb,
  isoDay,
  MINIMUM_MAJOR,
  type MilestoneSpec,
  milestoneSpecArb,
  termsOf,
  type WorldSpec,
  worldArb,
} from './model-world.ts'
