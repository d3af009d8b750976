/**
 * Support for the crash test (crash.test.ts): the commands a client sends — offers and their acceptance, funds (one
 * milestone, several at once, deposits), submits, approves, refund requests and their acceptance, freelancer refunds,
 * payouts, every POST with an Idempotency-Key — what each 2xx means for the model (a fund is paid from the client's
 * credit first; a deposit is released at once), and the random flows over them that each client runs until the run
 * stops, on its own pair of users (a new pair once its pair is frozen).
 */
import { Abandon, type Body, CrashModel, type Ms, type Pair } from './crash-model.ts'
import { CLIENT_FEE, key, NET, rand, sleep } from './support.ts'

const amountK = (lo: number, hi: number) => BigInt(rand(lo, hi) * 1_000)

/** The commands a client sends and what their 2xx means for the model, and the flows clients run under load. */
export class CrashCommands extends CrashModel {
  // -------------------------------------------------------------------------------------------------------------
  // Commands and what their 2xx means for the model

  async contract(p: Pair, lines: { amount: bigint; deposit?: boolean }[]): Promise<Ms[]> {
    const body = {
      role: 'client',
      counterparty_email: p.f.email,
      title: 'Crash job',
      description: 'Work that survives crashes',
      currency: 'USD',
      payment_mode: 'by_milestone',
      review_days: 30,
      milestones: lines.map((l, i) => ({ title: `Stage ${i + 1}`, amount: Number(l.amount), deposit: !!l.deposit })),
    }
    const offer = await this.step(
      p,
      { method: 'POST', path: '/v1/offers', token: p.c.token, body, idem: key('offer') },
      201,
      (b) => {
        this.same('new offer status', b.status, 'open')
        this.offers.set(b.id, { pair: p, contractId: null })
      },
    )
    const accepted = await this.step(
      p,
      {
        method: 'POST',
        path: `/v1/offers/${offer.id}/accept`,
        token: p.f.token,
        body: { revision: offer.revision },
        idem: key('accept'),
      },
      200,
      (b) => this.registerContract(p, b, lines),
    )
    return this.contracts.get(accepted.contract_id)!.milestones.map((id) => this.milestones.get(id)!)
  }

  async registerContract(p: Pair, offer: Body, lines: { amount: bigint; deposit?: boolean }[]) {
    this.same(`offer ${offer.id} status after accept`, offer.status, 'accepted')
    const o = this.offers.get(offer.id)
    if (!o) this.problem(`accepted offer ${offer.id} was never acknowledged as created`)
    else o.contractId = offer.contract_id
    const c = await this.send({ method: 'GET', path: `/v1/contracts/${offer.contract_id}`, token: p.c.token })
    if (c.status !== 200) {
      this.problem(`contract ${offer.contract_id} of an acknowledged accept → ${c.status} ${c.text}`)
      throw new Abandon()
    }
    const ids: string[] = []
    c.body.milestones.forEach((m: Body, i: number) => {
      ids.push(m.id)
      this.same(`milestone ${m.id} state of a new contract`, m.state, 'pending')
      this.milestones.set(m.id, {
        id: m.id,
        contractId: c.body.id,
        pair: p,
        amount: lines[i]!.amount,
        deposit: !!lines[i]!.deposit,
        state: 'pending',
        escrow: 0n,
        released: 0n,
        refunded: 0n,
        funded: false,
        submitted: false,
        refundRequestId: null,
      })
    })
    this.contracts.set(c.body.id, { pair: p, milestones: ids })
  }

  /** Funding: principal + client fee, paid from the client's credit first (SPEC §5); a deposit is released at once. */
  applyFund(p: Pair, list: Ms[]) {
    for (const m of list) {
      const charge = m.amount + CLIENT_FEE(m.amount)
      p.credit = p.credit > charge ? p.credit - charge : 0n
      m.funded = true
      if (m.deposit) {
        m.state = 'released'
        m.released = m.amount
        p.earned += NET(m.amount)
      } else {
        m.state = 'funded'
        m.escrow = m.amount
      }
    }
  }

  applyRelease(m: Ms) {
    m.pair.earned += NET(m.escrow)
    m.released += m.escrow
    m.escrow = 0n
    m.state = 'released'
  }

  applyRefund(m: Ms) {
    m.pair.credit += m.escrow + CLIENT_FEE(m.escrow)
    m.refunded += m.escrow
    m.escrow = 0n
    m.state = 'refunded'
  }

  milestoneCmd(p: Pair, m: Ms, verb: string, token: string, body: unknown, change: (b: Body) => void) {
    return this.step(
      p,
      { method: 'POST', path: `/v1/milestones/${m.id}/${verb}`, token, body, idem: key(verb) },
      200,
      (b) => {
        change(b)
        this.same(`${verb} ${m.id}: state answered`, b.state, m.state)
      },
    )
  }

  fund = (p: Pair, m: Ms) => this.milestoneCmd(p, m, 'fund', p.c.token, {}, () => this.applyFund(p, [m]))
  submit = (p: Pair, m: Ms) =>
    this.milestoneCmd(
      p,
      m,
      'submit',
      p.f.token,
      { message: 'Done, see the link', links: ['https://example.com/w'] },
      () => {
        m.state = 'submitted'
        m.submitted = true
      },
    )
  approve = (p: Pair, m: Ms) => this.milestoneCmd(p, m, 'approve', p.c.token, {}, () => this.applyRelease(m))
  freelancerRefund = (p: Pair, m: Ms) =>
    this.milestoneCmd(p, m, 'refund', p.f.token, { reason: 'Cannot do it' }, () => this.applyRefund(m))
  requestRefund = (p: Pair, m: Ms) =>
    this.milestoneCmd(p, m, 'request_refund', p.c.token, { reason: 'Changed plans' }, (b) => {
      m.state = 'refund_requested'
      m.refundRequestId = b.refund_request_id
      if (!b.refund_request_id) this.problem(`request_refund ${m.id}: no refund_request_id in the answer`)
    })

  async acceptRefund(p: Pair, m: Ms) {
    await this.step(
      p,
      {
        method: 'POST',
        path: `/v1/refund_requests/${m.refundRequestId}/accept`,
        token: p.f.token,
        body: {},
        idem: key('accept-refund'),
      },
      200,
      (b) => {
        this.same(`refund request ${m.refundRequestId} status`, b.status, 'accepted')
        this.applyRefund(m)
      },
    )
  }

  async fundAll(p: Pair, list: Ms[]) {
    const cid = list[0]!.contractId
    await this.step(
      p,
      {
        method: 'POST',
        path: `/v1/contracts/${cid}/fund`,
        token: p.c.token,
        body: { milestone_ids: list.map((m) => m.id) },
        idem: key('fund-all'),
      },
      200,
      (b) => {
        this.applyFund(p, list)
        for (const m of list)
          this.same(`fund-all ${m.id}: state answered`, b.milestones.find((x: Body) => x.id === m.id)?.state, m.state)
      },
    )
  }

  async payout(p: Pair) {
    const amount = Math.random() < 0.5 ? p.credit : p.credit / 2n
    if (amount <= 0n) return
    await this.step(
      p,
      {
        method: 'POST',
        path: '/v1/payouts',
        token: p.c.token,
        body: { amount: Number(amount), currency: 'USD' },
        idem: key('payout'),
      },
      201,
      (b) => {
        this.same('payout amount answered', b.amount, amount)
        this.same('payout status', b.status, 'paid')
        p.credit -= amount
        this.payouts.set(b.id, { userId: p.c.id, amount })
      },
    )
  }

  // -------------------------------------------------------------------------------------------------------------
  // Flows

  async flow(p: Pair) {
    const r = Math.random()
    if (r < 0.3) {
      const [m] = await this.contract(p, [{ amount: amountK(20, 200) }])
      await this.fund(p, m!)
      await this.submit(p, m!)
      await this.approve(p, m!)
    } else if (r < 0.5) {
      const [m] = await this.contract(p, [{ amount: amountK(20, 200) }])
      await this.fund(p, m!)
      await this.requestRefund(p, m!)
      await this.acceptRefund(p, m!)
    } else if (r < 0.65) {
      const [a, b] = await this.contract(p, [{ amount: amountK(20, 100) }, { amount: amountK(20, 100) }])
      await this.fundAll(p, [a!, b!])
      await this.submit(p, a!)
      await this.approve(p, a!)
      await this.freelancerRefund(p, b!)
    } else if (r < 0.75) {
      const rest = amountK(40, 200)
      const [dep, m] = await this.contract(p, [
        { amount: BigInt(rand(5, Number(rest / 1_000n))) * 1_000n, deposit: true },
        { amount: rest },
      ])
      await this.fundAll(p, [dep!, m!])
      await this.submit(p, m!)
      await this.approve(p, m!)
    } else if (r < 0.93) {
      if (p.credit > 0n) await this.payout(p)
      else {
        const [m] = await this.contract(p, [{ amount: amountK(20, 100) }])
        await this.fund(p, m!)
        await this.freelancerRefund(p, m!)
      }
    } else {
      await this.signup('visitor')
    }
  }

  async client(i: number, first: Pair) {
    let p: Pair | null = first
    while (!this.stopping) {
      try {
        if (!p || p.frozen) p = await this.newPair()
        await this.flow(p)
        this.stats.flows++
      } catch (e) {
        if (e instanceof Abandon) continue
        this.problem(`client ${i}: ${(e as Error).stack ?? e}`)
        if (p) p.frozen = true
        await sleep(500)
      }
    }
  }
}
