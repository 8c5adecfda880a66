import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core'
import { type ServerProcess, spawnServer } from '@inferlog/testkit'

/** Debian's Chromium (`apt-get install chromium`); never a downloaded browser. */
export const CHROMIUM = process.env.INFERLOG_CHROMIUM ?? '/usr/bin/chromium'

/** Whether browser tests can run here; with CI=true a missing browser is a failure, not a skip. */
export const browserAvailable = fs.existsSync(CHROMIUM)
if (!browserAvailable && process.env.CI === 'true') throw new Error(`${CHROMIUM} is missing: .ci/run installs the chromium package`)

/** Starts Chromium headless with the flags that keep it quiet and self-contained. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-dev-shm-usage'],
  })
}

/** A collector on a fresh data directory, with the directory removed when it stops. */
export async function startCollector(
  args: string[] = [],
  before?: (dataDir: string) => Promise<void>,
): Promise<ServerProcess & { dir: string; shutdown(): Promise<void> }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inferlog-dash-'))
  await before?.(path.join(dir, 'data'))
  const s = await spawnServer(['--data', path.join(dir, 'data'), ...args], { env: { INFERLOG_LOG_LEVEL: 'warn' }, startTimeoutMs: 120_000 })
  return Object.assign(s, {
    dir,
    shutdown: async () => {
      await s.stop('SIGTERM', 10_000)
      fs.rmSync(dir, { recursive: true, force: true })
    },
  })
}

/** A page that records console errors, page errors and failed requests (other than expected 4xx/5xx replies). */
export interface WatchedPage {
  page: Page
  errors: string[]
}

/** How long one browser step may wait: generous, the test box is shared and often loaded. */
export const STEP_TIMEOUT_MS = 90_000

export async function watchedPage(context: BrowserContext): Promise<WatchedPage> {
  context.setDefaultTimeout(STEP_TIMEOUT_MS)
  const page = await context.newPage()
  const errors: string[] = []
  page.on('console', (m) => {
    // A failed fetch the page handles (401, 404, 410, server down) is logged by the browser itself.
    if (m.type() === 'error' && !/Failed to load resource|net::ERR_/.test(m.text())) errors.push(`console: ${m.text()}`)
  })
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`))
  return { page, errors }
}

/** Waits until no `.loading` line is on the page. */
export async function settled(page: Page, timeout = STEP_TIMEOUT_MS): Promise<void> {
  await page.waitForFunction(
    () => document.querySelector('.loading') === null && document.querySelector('#app .boot') === null,
    undefined,
    {
      timeout,
    },
  )
}
