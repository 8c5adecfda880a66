import { runDemo } from './demo.js'
import { DemoError } from './demo-error.js'
import { DEMO_USAGE, parseDemoArgs } from './demo-options.js'

/** `inferlog-demo [options]` (what `npm run demo` runs): returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  let options: ReturnType<typeof parseDemoArgs>
  try {
    options = parseDemoArgs(argv)
  } catch (e) {
    if (e instanceof DemoError) {
      process.stderr.write(`inferlog-demo: ${e.code}: ${e.message}\n${DEMO_USAGE}\n`)
      return 2
    }
    throw e
  }
  if (options.help) {
    process.stdout.write(`${DEMO_USAGE}\n`)
    return 0
  }
  const stop = new AbortController()
  let signals = 0
  const onSignal = (sig: NodeJS.Signals) => {
    signals++
    if (signals > 1) process.exit(130) // a second Ctrl-C: leave now (the collector child is killed on exit)
    process.stderr.write(`\ninferlog-demo: ${sig}: draining the logger and stopping the collector (Ctrl-C again to quit at once)\n`)
    stop.abort()
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  try {
    return await runDemo(options, { out: (l) => process.stdout.write(`${l}\n`), err: (l) => process.stderr.write(`${l}\n`) }, stop.signal)
  } catch (e) {
    if (e instanceof DemoError) {
      process.stderr.write(`inferlog-demo: ${e.code}: ${e.message}\n`)
      return 1
    }
    throw e
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
}
