/** Sign up and log in. The session lives in an HttpOnly cookie set by POST /v1/sessions. */
import { useQuery, useQueryClient } from '@tanstack/react-query'
import { type FormEvent, useState } from 'react'
import { Link, Navigate, useNavigate, useSearchParams } from 'react-router'
import { api } from '../api/sdk'
import { Button, ErrorNote, type Errors, errorFor, SelectField, TextField } from '../components/ui'
import { useAction } from '../lib/action'
import { browserTimeZone, timeZones } from '../lib/format'
import { useMe } from '../session'

function AuthFrame({ title, children }: { title: string; children: React.ReactNode }) {
  return (
    <main className="auth" id="main">
      <div className="auth-card">
        <div className="brand big">
          <span className="logo" aria-hidden="true" /> Tranche
        </div>
        <p className="tagline">
          Escrow and milestone payments for fixed-price work. Funded before it starts, paid when it's done.
        </p>
        <h1>{title}</h1>
        {children}
      </div>
    </main>
  )
}

const safeNext = (next: string | null) => (next?.startsWith('/') && !next.startsWith('//') ? next : '/')

export function LoginPage() {
  const [params] = useSearchParams()
  const me = useMe()
  const qc = useQueryClient()
  const navigate = useNavigate()
  const [email, setEmail] = useState('')
  const [password, setPassword] = useState('')
  const [errors, setErrors] = useState<Errors>({})
  const demo = useQuery({ queryKey: ['demo'], queryFn: api.demo, staleTime: Number.POSITIVE_INFINITY })
  const login = useAction((b: { email: string; password: string }) => api.logIn(b), {
    invalidate: [],
    onSuccess: (s) => {
      qc.setQueryData(['me'], s.user)
      navigate(safeNext(params.get('next')), { replace: true })
    },
  })
  if (me.data) return <Navigate to={safeNext(params.get('next'))} replace />
  const submit = (e: FormEvent) => {
    e.preventDefault()
    const errs: Errors = {}
    if (!email.trim()) errs.email = 'Enter your email.'
    if (!password) errs.password = 'Enter your password.'
    setErrors(errs)
    if (Object.keys(errs).length === 0) void login.run({ email: email.trim(), password })
  }
  return (
    <AuthFrame title="Log in">
      <form onSubmit={submit} noValidate>
        <TextField
          label="Email"
          type="email"
          autoComplete="email"
          value={email}
          onChange={setEmail}
          error={errorFor('email', errors, login.error)}
        />
        <TextField
          label="Password"
          type="password"
          autoComplete="current-password"
          value={password}
          onChange={setPassword}
          error={errorFor('password', errors, login.error)}
        />
        <ErrorNote error={login.error} fields={['email', 'password']} />
        <Button type="submit" busy={login.pending} className="wide">
          Log in
        </Button>
      </form>
      <p className="muted">
        New to Tranche? <Link to="/signup">Create an account</Link>
      </p>
      {demo.data && demo.data.length > 0 && (
        <div className="demo-box">
          <h2>Demo accounts</h2>
          <ul>
            {demo.data.map((a) => (
              <li key={a.email}>
                <span>
                  <strong>{a.role}</strong> {a.email}
                </span>
                <button
                  type="button"
                  className="btn btn-ghost small"
                  onClick={() => {
                    setEmail(a.email)
                    setPassword(a.password)
                  }}
                >
                  Use
                </button>
              </li>
            ))}
          </ul>
        </div>
      )}
    </AuthFrame>
  )
}

export function SignupPage() {
  const qc = useQueryClient()
  const navigate = useNavigate()
  const me = useMe()
  const [name, setName] = useState('')
  const [email, setEmail] = useState('')
  const [password, setPassword] = useState('')
  const [tz, setTz] = useState(browserTimeZone())
  const [errors, setErrors] = useState<Errors>({})
  const signup = useAction(
    async (b: { name: string; email: string; password: string; time_zone: string }) => {
      await api.signUp(b)
      return api.logIn({ email: b.email, password: b.password })
    },
    {
      invalidate: [],
      onSuccess: (s) => {
        qc.setQueryData(['me'], s.user)
        navigate('/', { replace: true })
      },
    },
  )
  if (me.data) return <Navigate to="/" replace />
  const submit = (e: FormEvent) => {
    e.preventDefault()
    const errs: Errors = {}
    if (!name.trim()) errs.name = 'Enter your name.'
    else if (name.length > 200) errs.name = 'A name has at most 200 characters.'
    if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email.trim())) errs.email = 'That is not an email address.'
    if (password.length < 10) errs.password = 'A password has at least 10 characters.'
    setErrors(errs)
    if (Object.keys(errs).length === 0)
      void signup.run({ name: name.trim(), email: email.trim(), password, time_zone: tz })
  }
  const zones = timeZones()
  return (
    <AuthFrame title="Create your account">
      <form onSubmit={submit} noValidate>
        <TextField
          label="Name"
          autoComplete="name"
          value={name}
          onChange={setName}
          error={errorFor('name', errors, signup.error)}
        />
        <TextField
          label="Email"
          type="email"
          autoComplete="email"
          value={email}
          onChange={setEmail}
          error={errorFor('email', errors, signup.error)}
        />
        <TextField
          label="Password"
          type="password"
          autoComplete="new-password"
          value={password}
          onChange={setPassword}
          hint="At least 10 characters."
          error={errorFor('password', errors, signup.error)}
        />
        <SelectField
          label="Time zone"
          value={tz}
          onChange={setTz}
          options={zones.includes(tz) ? zones : [tz, ...zones]}
          hint="Deadlines and countdowns are shown in this time zone."
          error={errorFor('time_zone', errors, signup.error)}
        />
        <ErrorNote error={signup.error} fields={['name', 'email', 'password', 'time_zone']} />
        <Button type="submit" busy={signup.pending} className="wide">
          Sign up
        </Button>
      </form>
      <p className="muted">
        Have an account? <Link to="/login">Log in</Link>
      </p>
    </AuthFrame>
  )
}
