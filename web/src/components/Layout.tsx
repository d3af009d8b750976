/** The page frame: the navigation (a menu button on narrow screens), the unread badge, the user's menu. */
import { useQueryClient } from '@tanstack/react-query'
import { type ReactNode, useState } from 'react'
import { Link, NavLink, useLocation, useNavigate } from 'react-router'
import { api } from '../api/sdk'
import { useAction } from '../lib/action'
import { useUnread } from '../lib/unread'
import { useUser } from '../session'

export function Layout({ children }: { children: ReactNode }) {
  const me = useUser()
  // The narrow-screen menu is open on the page where it was opened: navigating closes it, with no effect to run.
  const [openOn, setOpenOn] = useState<string | null>(null)
  const location = useLocation()
  const navigate = useNavigate()
  const qc = useQueryClient()
  const { unread, more } = useUnread(me.id)
  const open = openOn === location.pathname
  const logout = useAction(() => api.logOut(), {
    invalidate: [],
    onSuccess: () => {
      qc.clear()
      navigate('/login')
    },
  })
  const links: [string, ReactNode][] = [
    ['/', 'Dashboard'],
    ['/offers', 'Offers'],
    ['/money', 'Money'],
    [
      '/notifications',
      <>
        Notifications
        {unread > 0 && (
          <>
            <span className="count" aria-hidden="true">
              {unread}
              {more ? '+' : ''}
            </span>
            <span className="sr-only">
              , {unread}
              {more ? '+' : ''} unread
            </span>
          </>
        )}
      </>,
    ],
    ['/settings', 'Settings'],
  ]
  if (me.is_admin) links.push(['/admin', 'Admin'])
  return (
    <div className="shell">
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <Link to="/" className="brand" aria-label="Tranche home">
          <span className="logo" aria-hidden="true" />
          Tranche
        </Link>
        <button
          type="button"
          className="menu-toggle"
          aria-expanded={open}
          aria-controls="main-nav"
          onClick={() => setOpenOn(open ? null : location.pathname)}
        >
          Menu
        </button>
        <nav id="main-nav" className={open ? 'nav open' : 'nav'} aria-label="Main">
          {links.map(([to, text]) => (
            <NavLink key={to} to={to} end={to === '/'}>
              {text}
            </NavLink>
          ))}
          <div className="me">
            <span className="me-name" title={me.email}>
              {me.name}
            </span>
            <button
              type="button"
              className="linkish"
              onClick={() => void logout.run(undefined)}
              disabled={logout.pending}
            >
              Log out
            </button>
          </div>
        </nav>
      </header>
      <main id="main" tabIndex={-1}>
        {children}
      </main>
      <footer className="footer">
        Times in {me.time_zone} · Fixed-Price Protection: work is paid from escrow · <a href="/docs">API</a>
      </footer>
    </div>
  )
}
