/** A small bar chart (plain SVG): per month, what I earned (net, released to me) and what I spent (funded, with fee). */
import { money } from '../lib/format'

export interface MonthPoint {
  month: string // YYYY-MM
  earned: number
  spent: number
}

export function EarningsChart({ data, currency }: { data: MonthPoint[]; currency: string }) {
  if (!data.length) return <p className="empty">No earnings or spending in {currency} yet.</p>
  const W = 640
  const H = 220
  const pad = { l: 8, r: 8, t: 12, b: 28 }
  const max = Math.max(1, ...data.flatMap((d) => [d.earned, d.spent]))
  const slot = (W - pad.l - pad.r) / data.length
  const bw = Math.min(28, slot / 2.6)
  const y = (v: number) => pad.t + (H - pad.t - pad.b) * (1 - v / max)
  const monthName = (m: string) =>
    new Date(`${m}-15T00:00:00Z`).toLocaleString('en-GB', { month: 'short', year: 'numeric', timeZone: 'UTC' })
  return (
    <figure className="chart">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`Earnings and spending per month in ${currency}`}>
        <line x1={pad.l} x2={W - pad.r} y1={H - pad.b} y2={H - pad.b} className="axis" />
        {data.map((d, i) => {
          const x = pad.l + slot * i + slot / 2
          return (
            <g key={d.month}>
              <rect x={x - bw - 2} y={y(d.earned)} width={bw} height={H - pad.b - y(d.earned)} className="bar-earned">
                <title>{`${monthName(d.month)}: earned ${money(d.earned, currency)}`}</title>
              </rect>
              <rect x={x + 2} y={y(d.spent)} width={bw} height={H - pad.b - y(d.spent)} className="bar-spent">
                <title>{`${monthName(d.month)}: spent ${money(d.spent, currency)}`}</title>
              </rect>
              <text x={x} y={H - 10} textAnchor="middle" className="tick">
                {monthName(d.month)}
              </text>
            </g>
          )
        })}
      </svg>
      <figcaption>
        <span className="key key-earned" /> Earned (net of fees) <span className="key key-spent" /> Spent (funded with
        fees) · peak {money(max, currency)}
      </figcaption>
      <table className="sr-only">
        <caption>Earnings and spending per month</caption>
        <tbody>
          {data.map((d) => (
            <tr key={d.month}>
              <th scope="row">{d.month}</th>
              <td>{money(d.earned, currency)}</td>
              <td>{money(d.spent, currency)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  )
}
