/**
 * Money: integer minor units as `bigint`, with the ISO 4217 currency beside it (SPEC §3).
 * Every split of an amount is computed here, once, and always sums exactly to its whole.
 */

/**
 * The ISO 4217 currencies in circulation, with their exponents (digits after the decimal point, ISO 4217's minor
 * units). Not accepted: XXX (no currency), XTS (testing), the precious metals (XAU…) and the fund codes (BOV, CHE,
 * CHW, COU, MXV, USN, UYI, XDR, XSU, XUA), which are no one's money for a freelance job.
 */
export const CURRENCIES: Readonly<Record<string, number>> = Object.freeze({
  AED: 2,
  AFN: 2,
  ALL: 2,
  AMD: 2,
  ANG: 2,
  AOA: 2,
  ARS: 2,
  AUD: 2,
  AWG: 2,
  AZN: 2,
  BAM: 2,
  BBD: 2,
  BDT: 2,
  BGN: 2,
  BHD: 3,
  BIF: 0,
  BMD: 2,
  BND: 2,
  BOB: 2,
  BRL: 2,
  BSD: 2,
  BTN: 2,
  BWP: 2,
  BYN: 2,
  BZD: 2,
  CAD: 2,
  CDF: 2,
  CHF: 2,
  CLF: 4,
  CLP: 0,
  CNY: 2,
  COP: 2,
  CRC: 2,
  CUP: 2,
  CVE: 2,
  CZK: 2,
  DJF: 0,
  DKK: 2,
  DOP: 2,
  DZD: 2,
  EGP: 2,
  ERN: 2,
  ETB: 2,
  EUR: 2,
  FJD: 2,
  FKP: 2,
  GBP: 2,
  GEL: 2,
  GHS: 2,
  GIP: 2,
  GMD: 2,
  GNF: 0,
  GTQ: 2,
  GYD: 2,
  HKD: 2,
  HNL: 2,
  HTG: 2,
  HUF: 2,
  IDR: 2,
  ILS: 2,
  INR: 2,
  IQD: 3,
  IRR: 2,
  ISK: 0,
  JMD: 2,
  JOD: 3,
  JPY: 0,
  KES: 2,
  KGS: 2,
  KHR: 2,
  KMF: 0,
  KPW: 2,
  KRW: 0,
  KWD: 3,
  KYD: 2,
  KZT: 2,
  LAK: 2,
  LBP: 2,
  LKR: 2,
  LRD: 2,
  LSL: 2,
  LYD: 3,
  MAD: 2,
  MDL: 2,
  MGA: 2,
  MKD: 2,
  MMK: 2,
  MNT: 2,
  MOP: 2,
  MRU: 2,
  MUR: 2,
  MVR: 2,
  MWK: 2,
  MXN: 2,
  MYR: 2,
  MZN: 2,
  NAD: 2,
  NGN: 2,
  NIO: 2,
  NOK: 2,
  NPR: 2,
  NZD: 2,
  OMR: 3,
  PAB: 2,
  PEN: 2,
  PGK: 2,
  PHP: 2,
  PKR: 2,
  PLN: 2,
  PYG: 0,
  QAR: 2,
  RON: 2,
  RSD: 2,
  RUB: 2,
  RWF: 0,
  SAR: 2,
  SBD: 2,
  SCR: 2,
  SDG: 2,
  SEK: 2,
  SGD: 2,
  SHP: 2,
  SLE: 2,
  SOS: 2,
  SRD: 2,
  SSP: 2,
  STN: 2,
  SVC: 2,
  SYP: 2,
  SZL: 2,
  THB: 2,
  TJS: 2,
  TMT: 2,
  TND: 3,
  TOP: 2,
  TRY: 2,
  TTD: 2,
  TWD: 2,
  TZS: 2,
  UAH: 2,
  UGX: 0,
  USD: 2,
  UYU: 2,
  UYW: 4,
  UZS: 2,
  VED: 2,
  VES: 2,
  VND: 0,
  VUV: 0,
  WST: 2,
  XAF: 0,
  XCD: 2,
  XCG: 2,
  XOF: 0,
  XPF: 0,
  YER: 2,
  ZAR: 2,
  ZMW: 2,
  ZWG: 2,
})

export const MIN_AMOUNT = 1n
export const MAX_AMOUNT = 1_000_000_000_000n
export const BPS_SCALE = 10_000n

export function isSupportedCurrency(code: string): boolean {
  return Object.hasOwn(CURRENCIES, code)
}

/** The exponent of a supported currency; throws for an unknown one (callers validate first). */
export function exponentOf(currency: string): number {
  const e = CURRENCIES[currency]
  if (e === undefined) throw new RangeError(`unsupported currency ${currency}`)
  return e
}

/** One major unit in minor units: 100n for USD, 1n for JPY, 1000n for KWD. */
export function majorUnit(currency: string): bigint {
  return 10n ** BigInt(exponentOf(currency))
}

/** The smallest milestone amount: `minimumMajor` major units (SPEC §3: 5, configurable). */
export function minimumMilestone(currency: string, minimumMajor = 5n): bigint {
  return minimumMajor * majorUnit(currency)
}

/** A valid amount: an integer 1 ≤ x ≤ 10^12 minor units. */
export function isValidAmount(x: bigint): boolean {
  return x >= MIN_AMOUNT && x <= MAX_AMOUNT
}

/** round_half_up(x × bps / 10000) for x ≥ 0 — monotonic in x. */
export function fee(x: bigint, bps: number): bigint {
  if (x < 0n) throw new RangeError('fee of a negative amount')
  return (x * BigInt(bps) + BPS_SCALE / 2n) / BPS_SCALE
}

/**
 * Splits `whole` into parts proportional to `weights`; the parts always sum to `whole` exactly
 * (largest remainder; ties go to the earliest part).
 */
export function allocate(whole: bigint, weights: readonly bigint[]): bigint[] {
  const total = weights.reduce((s, w) => s + w, 0n)
  if (total <= 0n) throw new RangeError('allocate needs a positive total weight')
  const parts = weights.map((w) => (whole * w) / total)
  let rest = whole - parts.reduce((s, p) => s + p, 0n)
  const order = weights
    .map((w, i) => ({ i, rem: (whole * w) % total }))
    .sort((a, b) => (b.rem === a.rem ? a.i - b.i : b.rem > a.rem ? 1 : -1))
  for (let k = 0; rest > 0n; k = (k + 1) % order.length, rest--) {
    const slot = order[k]!
    parts[slot.i] = parts[slot.i]! + 1n
  }
  return parts
}

/** What a release of `r` pays and keeps (SPEC §5): the freelancer's net, the two fees. */
export interface ReleaseSplit {
  readonly released: bigint
  readonly serviceFee: bigint
  readonly clientFee: bigint
  readonly freelancerNet: bigint
}

/** The one split of a milestone's escrow into a release of `r` and a refund of the rest. */
export interface EscrowSplit {
  readonly release: ReleaseSplit
  /** principal returned to the client */
  readonly refundPrincipal: bigint
  /** the client fee returned with it: held fee − fee_client(r) */
  readonly refundFee: bigint
}

export function splitRelease(r: bigint, fees: { clientFeeBps: number; serviceFeeBps: number }): ReleaseSplit {
  const serviceFee = fee(r, fees.serviceFeeBps)
  return { released: r, serviceFee, clientFee: fee(r, fees.clientFeeBps), freelancerNet: r - serviceFee }
}

/**
 * Escrow holding `principal` and `heldFee` (client fee), released `r` now (0 ≤ r ≤ principal) and refunded the rest.
 * `priorReleased` is what this escrow already released earlier (by_entry rounds): the client fee kept by the
 * platform is fee(total released) − fee(prior released), so rounding never drifts across rounds.
 */
export function splitEscrow(
  principal: bigint,
  heldFee: bigint,
  r: bigint,
  fees: { clientFeeBps: number; serviceFeeBps: number },
  priorReleased = 0n,
): EscrowSplit {
  if (r < 0n || r > principal) throw new RangeError('release outside the escrow')
  const release = releaseWithin(heldFee, r, fees, priorReleased)
  return { release, refundPrincipal: principal - r, refundFee: heldFee - release.clientFee }
}

/** A release of `r` from an escrow whose held client fee is `heldFee` (the platform's part never exceeds it). */
export function releaseWithin(
  heldFee: bigint,
  r: bigint,
  fees: { clientFeeBps: number; serviceFeeBps: number },
  priorReleased = 0n,
): ReleaseSplit {
  const base = splitRelease(r, fees)
  const kept = fee(priorReleased + r, fees.clientFeeBps) - fee(priorReleased, fees.clientFeeBps)
  const clientFee = kept > heldFee ? heldFee : kept
  return { ...base, clientFee }
}

/** Parses a decimal string in major units ("12.34") into minor units; null when it is not exact. */
export function parseMajor(text: string, currency: string): bigint | null {
  const e = exponentOf(currency)
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text.trim())
  if (!m) return null
  const frac = m[3] ?? ''
  if (frac.length > e) return null
  const minor = BigInt(m[2]! + frac.padEnd(e, '0'))
  return m[1] === '-' ? -minor : minor
}

/** Formats minor units as a plain decimal in major units: 123456n USD → "1234.56". */
export function formatMajor(minor: bigint, currency: string): string {
  const e = exponentOf(currency)
  const neg = minor < 0n
  const digits = (neg ? -minor : minor).toString().padStart(e + 1, '0')
  const int = digits.slice(0, digits.length - e)
  const frac = e > 0 ? `.${digits.slice(digits.length - e)}` : ''
  return `${neg ? '-' : ''}${int}${frac}`
}

/** An amount in a message: what it is, and the minor units the API speaks: "USD 1.50 (150 minor units)". */
export function amountText(minor: bigint, currency: string): string {
  return `${formatMoney(minor, currency)} (${minor} minor unit${minor === 1n ? '' : 's'})`
}

/** Formats for people: "USD 1,234.56". */
export function formatMoney(minor: bigint, currency: string): string {
  const [int, frac] = formatMajor(minor < 0n ? -minor : minor, currency).split('.')
  const grouped = int!.replace(/\B(?=(\d{3})+(?!\d))/g, ',')
  return `${minor < 0n ? '-' : ''}${currency} ${grouped}${frac ? `.${frac}` : ''}`
}
