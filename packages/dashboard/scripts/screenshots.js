// `npm run screenshots`: starts a collector on a throwaway store, seeds it (scripts/seed.js),
// and saves docs/screenshots/<page>.png of every page with Debian's Chromium.
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'
import { seedDashboard, waitAggregated } from './seed.js'

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..')
const out = path.join(repo, 'docs', 'screenshots')
const CHROMIUM = process.env.INFERLOG_CHROMIUM ?? '/usr/bin/chromium'

/** Pages to shoot: file name, path, and what to wait for. */
export const SHOTS = [
  ['overview', '/?window=24h', '.chart .uplot'],
  ['explorer', '/events?model=churn-clf', '[data-testid=events-table]'],
  ['event', '/events/churn-0006', '[data-testid=shadows]'],
  ['event-chat', '/events/chat-000', '.heatmap .tok'],
  ['drift', '/drift?model=churn-clf&fields=input.tenure_months,input.plan,input.monthly_spend', '.plot-figure svg'],
  ['compare', '/compare?model=churn-clf&a=3.2.0&b=3.3.0', '[data-testid=ab-table]'],
  ['compare-shadow', '/compare?model=churn-clf&mode=shadow', '[data-testid=shadow-results]'],
  ['slices', '/slices?model=churn-clf&metric=quality.label.accuracy&segment=entity.customer_tier', '[data-testid=slices-table]'],
  ['datasets', '/datasets', '[data-testid=datasets-table]'],
  ['dataset', '/datasets/churn-train%401', '[data-testid=dataset-files]'],
  ['review', '/review/uncertain', '[data-testid=review-item]'],
  ['alerts', '/alerts', '[data-testid=alerts-table]'],
  ['keys', '/keys', '[data-testid=keys-table]'],
]

async function startServer(dir) {
  const child = spawn(process.execPath, [path.join(repo, 'packages/cli/bin/inferlog.js'), 'serve', '--port', '0', '--data', dir], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, INFERLOG_LOG_LEVEL: 'warn' },
  })
  const url = await new Promise((resolve, reject) => {
    let buf = ''
    child.stdout.on('data', (d) => {
      buf += d
      const line = buf.split('\n')[0]
      if (buf.includes('\n')) resolve(line.trim())
    })
    child.once('exit', (code) => reject(new Error(`inferlog serve exited with ${code}`)))
  })
  return { child, url }
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inferlog-shots-'))
const { child, url } = await startServer(path.join(dir, 'data'))
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
})
try {
  const seeded = await seedDashboard(url)
  await waitAggregated(url, 'churn-clf', seeded.churn.length)
  await fetch(`${url}/v1/alerts/evaluate`, { method: 'POST' })
  const post = (p, body) => fetch(`${url}${p}`, { method: 'POST', body: JSON.stringify(body) })
  await post('/v1/datasets', {
    name: 'churn-train',
    spec: {
      select: { model: 'churn-clf' },
      feedback: { label: { name: 'label', missing: 'drop' } },
      label: { from: 'label' },
      split: { ratios: { train: 0.8, validation: 0.1, test: 0.1 }, seed: 'v1' },
    },
  })
  await post('/v1/review', { queue: 'uncertain', label: 'label', strategy: 'least-confidence', filter: { model: 'churn-clf' }, limit: 25 })
  await post('/v1/keys', { project: 'shop', scopes: ['ingest', 'read'], name: 'web-app' })
  fs.mkdirSync(out, { recursive: true })
  const context = await browser.newContext({ baseURL: url, viewport: { width: 1280, height: 860 }, deviceScaleFactor: 1, colorScheme: 'light' })
  const page = await context.newPage()
  for (const [name, p, ready] of SHOTS) {
    await page.goto(p)
    await page.locator(ready).first().waitFor({ timeout: 30_000 })
    await page.waitForFunction(() => !document.querySelector('.loading'), undefined, { timeout: 30_000 }).catch(() => undefined)
    await page.waitForTimeout(300)
    await page.screenshot({ path: path.join(out, `${name}.png`), fullPage: true })
    console.log(`docs/screenshots/${name}.png`)
  }
  const phone = await browser.newContext({ baseURL: url, viewport: { width: 390, height: 844 }, deviceScaleFactor: 1, isMobile: true })
  const pp = await phone.newPage()
  await pp.goto('/events/chat-000')
  await pp.locator('.heatmap .tok').first().waitFor()
  await pp.screenshot({ path: path.join(out, 'event-phone.png') })
  console.log('docs/screenshots/event-phone.png')
} finally {
  await browser.close()
  child.kill('SIGTERM')
  await new Promise((r) => child.once('exit', r))
  fs.rmSync(dir, { recursive: true, force: true })
}
