/** The payment rail (SPEC §7): an interface; the built-in sandbox declines only `pm_sandbox_decline`. */
import { DomainError } from '../domain/errors.ts'

export interface PaymentRail {
  /** Charges the client; throws a 402 DomainError when declined. */
  charge(input: { paymentMethod: string; currency: string; amount: bigint; reference: string }): Promise<void>
  /** Sends money out to a user. */
  payout(input: { userId: string; currency: string; amount: bigint; reference: string }): Promise<void>
}

export const DEFAULT_PAYMENT_METHOD = 'pm_sandbox_ok'

export const sandboxRail: PaymentRail = {
  async charge({ paymentMethod }) {
    // SPEC §7: the sandbox always succeeds, except this one method (any other name is a card that pays)
    if (paymentMethod === 'pm_sandbox_decline')
      throw new DomainError('card_declined', 'The card was declined.', 'payment_method')
  },
  async payout() {},
}
