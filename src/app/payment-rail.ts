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
    if (paymentMethod === 'pm_sandbox_decline')
      throw new DomainError('card_declined', 'The card was declined.', 'payment_method')
    if (!paymentMethod.startsWith('pm_'))
      throw new DomainError('parameter_invalid', 'Unknown payment method.', 'payment_method')
  },
  async payout() {},
}
