/** Demo data (`npm start -- --demo`): placeholder until the web app issue seeds contracts in every state. */
import type { App } from './app.ts'

export async function seedDemo(app: App) {
  app.log.info({}, 'demo seeding is not available yet')
}
