/**
 * Replays the nine attacks of issue 21 against the example gateway started as
 * `npm start` would (its defaults; free ports; a private Redis for 3, 8 and
 * 9), from 127.0.0.1, with a bystander on 127.0.0.2, and prints the figures
 * the "Done when" asks for. By hand, not in CI: each attack takes up
 * to about 20 s, on a machine others share.
 *
 *     npm run replay:abuse                # all nine
 *     npm run replay:abuse -- 3 7         # attacks 3 and 7
 */
import { attacks } from './attacks.js'
import { startGateway } from './gateway.js'

const chosen = process.argv.slice(2).map(Number)
for (const n of chosen) if (!Number.isInteger(n) || n < 1 || n > attacks.length) throw new Error(`no attack "${n}" (1 to ${attacks.length})`)
for (const [i, attack] of attacks.entries()) {
  if (chosen.length > 0 && !chosen.includes(i + 1)) continue
  console.log(`\n${attack.title}`)
  const g = await startGateway({ redis: attack.redis })
  try {
    for (const line of await attack.run(g)) console.log(`  ${line}`)
  } catch (err) {
    console.log(`  failed: ${(err as Error).stack ?? String(err)}`)
    console.log(`  gateway's last lines:\n    ${g.log.last.join('\n    ')}`)
  } finally {
    await g.stop()
  }
}
process.exit(0)
