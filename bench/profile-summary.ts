/** `npx tsx bench/profile-summary.ts <file.cpuprofile> [top]`: self time per function and per package. */
import { printProfile, summarizeProfile } from './lib/profile.ts'

const [file, top] = process.argv.slice(2)
if (!file) {
  console.error('usage: npx tsx bench/profile-summary.ts <file.cpuprofile> [top]')
  process.exit(2)
}
printProfile(summarizeProfile(file, top ? Number(top) : 25))
