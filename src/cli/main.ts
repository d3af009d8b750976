/**
 * `tranche`: serve, worker, migrate, verify, admin create, export, demo (SPEC §11).
 * A bad configuration is one line on stderr and exit code 2, never a stack trace.
 */
import { once } from 'node:events'
import { parseArgs } from 'node:util'
import { createUser } from '../app/accounts.ts'
import { ConfigError, loadConfig } from '../app/config.ts'
import { statement, statementCsv, timeParam } from '../app/money.ts'
import { verify } from '../app/verify.ts'
import { DomainError } from '../domain/errors.ts'
import { isSupportedCurrency } from '../domain/money.ts'
import { createRuntime, listeningUrl, serve } from '../main.ts'
import { openStore } from '../store/open-store.ts'

const USAGE = `usage: tranche <command>
  serve [--demo]           run the API and web app (and the inline worker)
  worker                   run timers and webhook deliveries only
  migrate                  bring the database schema up to date
  verify                   check every ledger invariant (exit 1 naming what is wrong)
  admin create --email E --password P
  export --user USER_ID --currency USD [--from DATE] [--to DATE]   statement CSV on stdout
  demo                     same as serve --demo`

async function main(argv: string[]) {
  const [command, ...rest] = argv
  if (command === 'help' || command === '--help' || command === '-h') {
    console.log(USAGE)
    return
  }
  const config = loadConfig()
  switch (command) {
    case 'serve':
    case 'demo': {
      const { values } = parseArgs({ args: rest, options: { demo: { type: 'boolean' } } })
      const { server, runtime } = await serve(config)
      if (values.demo || command === 'demo') {
        const { seedDemo } = await import('../app/demo.ts')
        await seedDemo(runtime.app)
      }
      server.log.info(`Tranche listening on ${listeningUrl(server.server.address())}`)
      return
    }
    case 'worker': {
      const rt = await createRuntime(config)
      rt.worker.start()
      const stop = async () => {
        await rt.close()
        process.exit(0)
      }
      process.on('SIGTERM', () => void stop())
      process.on('SIGINT', () => void stop())
      rt.app.log.info({ owner: rt.worker.owner }, 'worker started')
      return
    }
    case 'migrate': {
      const store = await openStore({ databaseUrl: config.databaseUrl, sqlitePath: config.sqlitePath })
      await store.close()
      console.log('migrated')
      return
    }
    case 'verify': {
      const store = await openStore({ databaseUrl: config.databaseUrl, sqlitePath: config.sqlitePath })
      const report = await verify(store)
      await store.close()
      console.log(JSON.stringify(report, null, 2))
      process.exitCode = report.ok ? 0 : 1
      return
    }
    case 'admin': {
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: { email: { type: 'string' }, password: { type: 'string' }, name: { type: 'string' } },
      })
      if (positionals[0] !== 'create' || !values.email || !values.password)
        throw new UsageError('admin create --email E --password P')
      const rt = await createRuntime({ ...config, adminEmail: null, adminPassword: null })
      try {
        const u = await createUser(rt.app, {
          email: values.email,
          password: values.password,
          name: values.name ?? 'Admin',
          admin: true,
        })
        console.log(`admin ${u.id} created`)
      } finally {
        await rt.close()
      }
      return
    }
    case 'export': {
      const { values } = parseArgs({
        args: rest,
        options: {
          user: { type: 'string' },
          currency: { type: 'string' },
          from: { type: 'string' },
          to: { type: 'string' },
        },
      })
      if (!values.user || !values.currency) throw new UsageError('export --user USER_ID --currency USD')
      if (!isSupportedCurrency(values.currency)) throw new Refusal(`unsupported currency "${values.currency}"`)
      // the bounds as the API takes them: a day of the calendar, `--to` counting the whole day
      const bound = (v: string | undefined, name: string, endOfDay = false) => {
        try {
          return timeParam(v, name, endOfDay)
        } catch (e) {
          throw e instanceof DomainError ? new Refusal(`--${e.message}`) : e
        }
      }
      const from = bound(values.from, 'from')
      const to = bound(values.to, 'to', true)
      if (from !== null && to !== null && to <= from) throw new Refusal('--to must be after --from')
      const rt = await createRuntime({ ...config, adminEmail: null, adminPassword: null })
      try {
        const user = await rt.app.store.db
          .selectFrom('users')
          .select('id')
          .where('id', '=', values.user)
          .executeTakeFirst()
        if (!user) throw new Refusal(`no user ${values.user}`)
        const q = { currency: values.currency, from, to, account: 'available' as const }
        const first = await statement(rt.app, values.user, q)
        for await (const chunk of statementCsv(rt.app, values.user, q, first))
          if (!process.stdout.write(chunk)) await once(process.stdout, 'drain')
      } finally {
        await rt.close()
      }
      return
    }
    default:
      throw new UsageError(command ? `unknown command "${command}"` : 'a command is needed')
  }
}

/** The command line is wrong: the message and the usage, exit 2. */
class UsageError extends Error {}
/** A well-formed command that cannot be answered (an unknown user, a bad date): the reason alone, exit 2. */
class Refusal extends Error {}

main(process.argv.slice(2)).catch((e) => {
  if (e instanceof ConfigError) console.error(`tranche: bad configuration: ${e.message}`)
  else if (e instanceof UsageError || isParseArgsError(e)) console.error(`tranche: ${(e as Error).message}\n${USAGE}`)
  else if (e instanceof Refusal) console.error(`tranche: ${e.message}`)
  else if (e instanceof DomainError) console.error(`tranche: ${e.message}`)
  else if ((e as { code?: string }).code === 'EADDRINUSE')
    console.error(`tranche: port ${process.env.PORT ?? 3000} is in use`)
  else if ((e as { code?: string }).code === 'ECONNREFUSED')
    console.error('tranche: cannot reach the database at DATABASE_URL')
  else {
    console.error(`tranche: ${(e as Error).message ?? e}`)
    if (process.env.TRANCHE_DEBUG) console.error(e)
  }
  process.exit(
    e instanceof ConfigError || e instanceof UsageError || e instanceof Refusal || isParseArgsError(e) ? 2 : 1,
  )
})

/** `util.parseArgs` refusing an option it does not know, or one without its value. */
function isParseArgsError(e: unknown): boolean {
  return (
    typeof (e as { code?: unknown })?.code === 'string' && (e as { code: string }).code.startsWith('ERR_PARSE_ARGS')
  )
}
