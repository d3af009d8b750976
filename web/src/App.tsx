import type { ReactNode } from 'react'
import { Route, Routes } from 'react-router'
import { Layout } from './components/Layout'
import { AdminPage } from './pages/Admin'
import { LoginPage, SignupPage } from './pages/Auth'
import { ContractPage } from './pages/Contract'
import { DashboardPage } from './pages/Dashboard'
import { MoneyPage } from './pages/Money'
import { NotificationsPage } from './pages/Notifications'
import { OfferPage } from './pages/Offer'
import { NewOfferPage, OffersPage } from './pages/Offers'
import { SettingsPage } from './pages/Settings'
import { RequireAuth } from './session'

const authed = (page: ReactNode, admin = false) => (
  <RequireAuth admin={admin}>
    <Layout>{page}</Layout>
  </RequireAuth>
)

export function App() {
  return (
    <Routes>
      <Route path="/login" element={<LoginPage />} />
      <Route path="/signup" element={<SignupPage />} />
      <Route path="/" element={authed(<DashboardPage />)} />
      <Route path="/offers" element={authed(<OffersPage />)} />
      <Route path="/offers/new" element={authed(<NewOfferPage />)} />
      <Route path="/offers/:id" element={authed(<OfferPage />)} />
      <Route path="/contracts/:id" element={authed(<ContractPage />)} />
      <Route path="/money" element={authed(<MoneyPage />)} />
      <Route path="/notifications" element={authed(<NotificationsPage />)} />
      <Route path="/settings" element={authed(<SettingsPage />)} />
      <Route path="/admin" element={authed(<AdminPage />, true)} />
      <Route path="*" element={authed(<NotFound />)} />
    </Routes>
  )
}

function NotFound() {
  return (
    <section className="page">
      <h1>Not found</h1>
      <p>There is nothing at this address, or you are not a party to it.</p>
    </section>
  )
}
