// `npm run screenshots` (after the dashboard's pages): runs the demo (packages/demo) on a throwaway
// store until its drift alert fires and labels have come back, then saves with Debian's Chromium
//   docs/screenshots/demo-overview.png  the overview of weather-clf (the README's first picture)
//   docs/screenshots/demo-event.png     one prediction with its feedback, attributions and shadow
// Usage: node packages/demo/scripts/screenshots.js   (INFERLOG_CHROMIUM overrides /usr/bin/chromium)
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..')
const out = path.join(repo, 'docs', 'screenshots')
const CHROMIUM = process.env.INFERLOG_CHROMIUM ?? '/usr/bin/chromium'

const demo = spawn(process.execPath, [path.join(repo, 'packages/demo/bin/inferlog-demo.js'), '--port', '0', '--seed', '1'], {
  stdio: ['ignore', 'pipe', 'inherit'],
})
const exited = new Promise((resolve) => demo.once('exit', (code) => resolve(code)))
const url = await new Promise((resolve, reject) => {
  let buf = ''
  demo.stdout.on('data', (d) => {
    buf += d
    if (buf.includes('\n')) resolve(buf.split('\n')[0].trim().replace(/\/$/, ''))
  })
  demo.once('exit', (code) => reject(new Error(`the demo exited with ${code} before printing its URL`)))
})

async function get(p) {
  const res = await fetch(`${url}${p}`)
  if (!res.ok) throw new Error(`GET ${p}: HTTP ${res.status}`)
  return res.json()
}

/** Waits until the drift rule fires and a minute of live traffic has had time to get labels. */
async function waitForStory() {
  const started = Date.now()
  for (;;) {
    const { rules } = await get('/v1/alerts')
    const drift = rules.find((r) => r.rule.id === 'weather-input-drift')
    if (drift?.state === 'firing' && Date.now() - started > 60_000) return
    if (Date.now() - started > 240_000) throw new Error('the drift alert did not fire within 4 minutes')
    await new Promise((r) => setTimeout(r, 2000))
  }
}

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
})
try {
  await waitForStory()
  fs.mkdirSync(out, { recursive: true })
  const context = await browser.newContext({ baseURL: url, viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1, colorScheme: 'light' })
  const page = await context.newPage()
  const shoot = async (name, p, ready, fullPage = false) => {
    await page.goto(p)
    await page.locator(ready).first().waitFor({ timeout: 30_000 })
    await page.waitForFunction(() => !document.querySelector('.loading'), undefined, { timeout: 30_000 }).catch(() => undefined)
    await page.waitForTimeout(500)
    await page.screenshot({ path: path.join(out, `${name}.png`), fullPage })
    console.log(`docs/screenshots/${name}.png`)
  }
  await shoot('demo-overview', '/?window=1h&model=weather-clf', '.chart .uplot')
  // A live prediction old enough to have both its label and a thumbs, with its shadow.
  const { items } = await get(`/v1/events?model=weather-clf&stage=primary&status=ok&feedback=thumbs&to=${Date.now() - 30_000}&limit=50`)
  for (const e of items) {
    const { feedback } = await get(`/v1/events/${e.id}`)
    if (!feedback.some((f) => f.name === 'label')) continue
    await shoot('demo-event', `/events/${e.id}`, '[data-testid=shadows]', true)
    break
  }
} finally {
  await browser.close()
  demo.kill('SIGINT')
  await exited
}
