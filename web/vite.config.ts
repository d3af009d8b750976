/**
 * The web app build: `npm run web:build` (vite build web → web/dist, served by the API server at `/`) and
 * `npm run web:dev` (vite's dev server, proxying the API to TRANCHE_API_URL, default http://localhost:3000).
 */
import { fileURLToPath } from 'node:url'
import react from '@vitejs/plugin-react'
import { defineConfig } from 'vite'

const webRoot = fileURLToPath(new URL('.', import.meta.url))
const repoRoot = fileURLToPath(new URL('..', import.meta.url))
const api = process.env.TRANCHE_API_URL ?? 'http://localhost:3000'

export default defineConfig({
  root: webRoot,
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 800 },
  server: {
    port: 5173,
    // The web app imports the pure domain tables (milestone process, money) from ../src.
    fs: { allow: [repoRoot] },
    proxy: { '/v1': api, '/openapi.json': api, '/docs': api },
  },
})
