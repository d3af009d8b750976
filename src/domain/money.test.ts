import { describe, expect, it } from 'vitest'
import {
  allocate,
  CURRENCIES,
  exponentOf,
  fee,
  formatMajor,
  formatMoney,
  isSupportedCurrency,
  isValidAmount,
  majorUnit,
  minimumMilestone,
  parseMajor,
  releaseWithin,
  splitEscrow,
  splitRelease,
} from './money.ts'

const FEES = { clientFeeBps: 500, serviceFeeBps: 1000 }

describe('fee: round_half_up(x × bps / 10000)', () => {
  it('rounds a half up', () => {
    expect(fee(100_010n, 500)).toBe(5001n) // 5000.5
    expect(fee(60_005n, 1000)).toBe(6001n) // 6000.5
    expect(fee(10n, 500)).toBe(1n) // 0.5
    expect(fee(10_010n, 500)).toBe(501n) // 500.5
  })

  it('rounds less than a half down', () => {
    expect(fee(60_005n, 500)).toBe(3000n) // 3000.25
    expect(fee(9n, 500)).toBe(0n) // 0.45
    expect(fee(100_000n, 500)).toBe(5000n)
    expect(fee(100_000n, 1000)).toBe(10_000n)
    expect(fee(0n, 500)).toBe(0n)
    expect(fee(1_000_000_000_000n, 500)).toBe(50_000_000_000n)
  })

  it('is monotonic in x', () => {
    for (const bps of [1, 333, 500, 1000, 9999]) {
      let prev = 0n
      for (let x = 0n; x <= 3000n; x++) {
        const f = fee(x, bps)
        expect(f >= prev).toBe(true)
        prev = f
      }
    }
  })

  it('refuses a negative amount', () => {
    expect(() => fee(-1n, 500)).toThrow(RangeError)
  })
})

describe('allocate', () => {
  it('splits proportionally, remainder to the largest fractional parts, earliest first on ties', () => {
    expect(allocate(100n, [1n, 1n, 1n])).toEqual([34n, 33n, 33n])
    expect(allocate(10n, [1n, 2n])).toEqual([3n, 7n])
    expect(allocate(10n, [0n, 1n])).toEqual([0n, 10n])
    expect(allocate(0n, [1n, 2n])).toEqual([0n, 0n])
    expect(allocate(7n, [1n, 1n, 1n, 1n])).toEqual([2n, 2n, 2n, 1n])
  })

  it('always sums to the whole', () => {
    for (const whole of [1n, 99n, 100_001n, 999_999_999_999n]) {
      for (const weights of [[1n], [1n, 2n, 3n], [7n, 7n, 7n, 7n, 7n, 7n, 7n], [1n, 1_000_000n], [3n, 0n, 5n]]) {
        const parts = allocate(whole, weights)
        expect(parts.reduce((s, p) => s + p, 0n)).toBe(whole)
        expect(parts.every((p) => p >= 0n)).toBe(true)
      }
    }
  })

  it('needs a positive total weight', () => {
    expect(() => allocate(10n, [0n, 0n])).toThrow(RangeError)
    expect(() => allocate(10n, [])).toThrow(RangeError)
  })
})

describe('splitRelease / splitEscrow / releaseWithin', () => {
  it('splitRelease: service fee off the freelancer, client fee on top', () => {
    expect(splitRelease(100_010n, FEES)).toEqual({
      released: 100_010n,
      serviceFee: 10_001n,
      clientFee: 5001n,
      freelancerNet: 90_009n,
    })
    expect(splitRelease(60_005n, FEES)).toEqual({
      released: 60_005n,
      serviceFee: 6001n,
      clientFee: 3000n,
      freelancerNet: 54_004n,
    })
  })

  it('splitEscrow: a partial release and the refund of the rest', () => {
    const s = splitEscrow(100_010n, 5001n, 60_005n, FEES)
    expect(s.release).toEqual({ released: 60_005n, serviceFee: 6001n, clientFee: 3000n, freelancerNet: 54_004n })
    expect(s.refundPrincipal).toBe(40_005n)
    expect(s.refundFee).toBe(2001n)
    // the escrow (principal + held fee) is exactly what leaves it
    expect(s.release.released + s.release.clientFee + s.refundPrincipal + s.refundFee).toBe(100_010n + 5001n)
  })

  it('splitEscrow: full release keeps the whole held fee, zero release refunds it all', () => {
    const full = splitEscrow(100_010n, 5001n, 100_010n, FEES)
    expect(full.release.clientFee).toBe(5001n)
    expect([full.refundPrincipal, full.refundFee]).toEqual([0n, 0n])
    const none = splitEscrow(100_010n, 5001n, 0n, FEES)
    expect(none.release).toEqual({ released: 0n, serviceFee: 0n, clientFee: 0n, freelancerNet: 0n })
    expect([none.refundPrincipal, none.refundFee]).toEqual([100_010n, 5001n])
  })

  it('splitEscrow: refuses a release outside the escrow', () => {
    expect(() => splitEscrow(100n, 5n, 101n, FEES)).toThrow(RangeError)
    expect(() => splitEscrow(100n, 5n, -1n, FEES)).toThrow(RangeError)
  })

  it('releaseWithin: the client fee share is kept across rounds without drift', () => {
    // 3 × 10,010: held fee fee(30,030) = 1502 (1501.5 rounds up); per round fee(10,010) would be 501 × 3 = 1503
    const held = fee(30_030n, 500)
    expect(held).toBe(1502n)
    const r1 = releaseWithin(held, 10_010n, FEES, 0n)
    const r2 = releaseWithin(held - r1.clientFee, 10_010n, FEES, 10_010n)
    const r3 = releaseWithin(held - r1.clientFee - r2.clientFee, 10_010n, FEES, 20_020n)
    expect([r1.clientFee, r2.clientFee, r3.clientFee]).toEqual([501n, 500n, 501n])
    expect(r1.clientFee + r2.clientFee + r3.clientFee).toBe(held)
    expect([r1.serviceFee, r2.serviceFee, r3.serviceFee]).toEqual([1001n, 1001n, 1001n])
    const s = splitEscrow(20_020n, 1001n, 10_010n, FEES, 10_010n)
    expect(s.release.clientFee).toBe(500n)
    expect([s.refundPrincipal, s.refundFee]).toEqual([10_010n, 501n])
  })

  it('releaseWithin: the platform never keeps more than the held fee', () => {
    expect(releaseWithin(10n, 100_000n, FEES).clientFee).toBe(10n)
    expect(releaseWithin(0n, 100_000n, FEES).clientFee).toBe(0n)
    expect(releaseWithin(10n, 100_000n, FEES).serviceFee).toBe(10_000n)
  })
})

describe('currencies and amounts', () => {
  it('knows exponents and major units', () => {
    expect([exponentOf('USD'), exponentOf('JPY'), exponentOf('KWD')]).toEqual([2, 0, 3])
    expect([majorUnit('USD'), majorUnit('JPY'), majorUnit('KWD')]).toEqual([100n, 1n, 1000n])
    expect(() => exponentOf('XXX')).toThrow(RangeError)
  })

  it('accepts upper-case supported codes only', () => {
    expect(isSupportedCurrency('USD')).toBe(true)
    expect(isSupportedCurrency('usd')).toBe(false)
    expect(isSupportedCurrency('XXX')).toBe(false)
    expect(isSupportedCurrency('toString')).toBe(false)
  })

  it('take every ISO 4217 currency in circulation, with its minor units; no test, metal or fund codes', () => {
    expect(Object.keys(CURRENCIES).length).toBeGreaterThan(150)
    const exponents = { PYG: 0, XPF: 0, RWF: 0, VUV: 0, BIF: 0, KZT: 2, RUB: 2, CLF: 4, UYW: 4, TND: 3, LYD: 3 }
    for (const [code, e] of Object.entries(exponents)) expect([code, exponentOf(code)]).toEqual([code, e])
    for (const code of ['XXX', 'XTS', 'XAU', 'XAG', 'XDR', 'BOV', 'USN', 'UYI'])
      expect(isSupportedCurrency(code)).toBe(false)
    for (const [code, e] of Object.entries(CURRENCIES)) {
      expect(code).toMatch(/^[A-Z]{3}$/)
      expect([0, 2, 3, 4]).toContain(e)
    }
  })

  it('valid amounts are 1..10^12', () => {
    expect(isValidAmount(0n)).toBe(false)
    expect(isValidAmount(1n)).toBe(true)
    expect(isValidAmount(1_000_000_000_000n)).toBe(true)
    expect(isValidAmount(1_000_000_000_001n)).toBe(false)
    expect(isValidAmount(-5n)).toBe(false)
  })

  it('minimumMilestone: 5 major units by default, configurable', () => {
    expect(minimumMilestone('USD')).toBe(500n)
    expect(minimumMilestone('JPY')).toBe(5n)
    expect(minimumMilestone('KWD')).toBe(5000n)
    expect(minimumMilestone('USD', 10n)).toBe(1000n)
    expect(() => minimumMilestone('ABC')).toThrow(RangeError)
  })
})

describe('parseMajor / formatMajor / formatMoney', () => {
  it('parses exact decimals in major units', () => {
    expect(parseMajor('12.34', 'USD')).toBe(1234n)
    expect(parseMajor('12', 'USD')).toBe(1200n)
    expect(parseMajor('12.3', 'USD')).toBe(1230n)
    expect(parseMajor(' 7.05 ', 'USD')).toBe(705n)
    expect(parseMajor('-1.5', 'USD')).toBe(-150n)
    expect(parseMajor('500', 'JPY')).toBe(500n)
    expect(parseMajor('1.234', 'KWD')).toBe(1234n)
    expect(parseMajor('0.005', 'KWD')).toBe(5n)
  })

  it('refuses what is not exact in the currency', () => {
    expect(parseMajor('12.345', 'USD')).toBeNull()
    expect(parseMajor('500.5', 'JPY')).toBeNull()
    expect(parseMajor('1.2345', 'KWD')).toBeNull()
    for (const bad of ['abc', '', '1e3', '.5', '12.', '1,000', '+1']) expect(parseMajor(bad, 'USD')).toBeNull()
  })

  it('formats minor units as plain decimals', () => {
    expect(formatMajor(123_456n, 'USD')).toBe('1234.56')
    expect(formatMajor(5n, 'USD')).toBe('0.05')
    expect(formatMajor(-5n, 'USD')).toBe('-0.05')
    expect(formatMajor(0n, 'USD')).toBe('0.00')
    expect(formatMajor(1234n, 'JPY')).toBe('1234')
    expect(formatMajor(0n, 'JPY')).toBe('0')
    expect(formatMajor(5n, 'KWD')).toBe('0.005')
    expect(formatMajor(1_234_567n, 'KWD')).toBe('1234.567')
  })

  it('formats for people with the code and thousands separators', () => {
    expect(formatMoney(123_456n, 'USD')).toBe('USD 1,234.56')
    expect(formatMoney(100n, 'USD')).toBe('USD 1.00')
    expect(formatMoney(100_000_000n, 'USD')).toBe('USD 1,000,000.00')
    expect(formatMoney(-123_456n, 'USD')).toBe('-USD 1,234.56')
    expect(formatMoney(1_234_567n, 'JPY')).toBe('JPY 1,234,567')
    expect(formatMoney(999n, 'JPY')).toBe('JPY 999')
    expect(formatMoney(1_234_567n, 'KWD')).toBe('KWD 1,234.567')
  })

  it('parse(format(x)) = x', () => {
    for (const cur of ['USD', 'JPY', 'KWD']) {
      for (const x of [0n, 1n, 7n, 99n, 100n, 123_456n, -42n, 1_000_000_000_000n]) {
        expect(parseMajor(formatMajor(x, cur), cur)).toBe(x)
      }
    }
  })
})
