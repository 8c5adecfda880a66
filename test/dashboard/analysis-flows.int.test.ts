import fs from 'node:fs'
import type { Browser, BrowserContext } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { seedDashboard, waitAggregated } from '../../packages/dashboard/scripts/seed.js'
import { browserAvailable, launchBrowser, settled, startCollector, watchedPage } from './browser-support.js'

type Collector = Awaited<ReturnType<typeof startCollector>>
let server: Collector
let browser: Browser
let context: BrowserContext

const api = async (path: string, init?: RequestInit) => {
  const r = await fetch(`${server.url}${path}`, init)
  return { status: r.status, json: (await r.json()) as any }
}

describe.skipIf(!browserAvailable)('dashboard: drift, compare, slices, datasets, review, alerts, keys', { timeout: 300_000 }, () => {
  beforeAll(async () => {
    server = await startCollector()
    const seeded = await seedDashboard(server.url, { huge: false })
    await waitAggregated(server.url, 'churn-clf', seeded.churn.length)
    browser = await launchBrowser()
    context = await browser.newContext({ baseURL: server.url, viewport: { width: 1280, height: 900 }, acceptDownloads: true })
  }, 300_000)
  afterAll(async () => {
    await browser?.close()
    await server?.shutdown()
  })

  it('drift: per-field results with reference and current histograms', async () => {
    const { page, errors } = await watchedPage(context)
    await page.goto('/drift?model=churn-clf&fields=input.tenure_months,input.plan,input.nothing')
    await page.getByTestId('drift-table').waitFor()
    const table = await page.getByTestId('drift-table').textContent()
    expect(table).toContain('input.tenure_months')
    expect(table).toContain('input.nothing')
    await page.locator('[data-field="input.tenure_months"] .plot-figure svg').first().waitFor()
    await page.locator('[data-field="input.plan"] .plot-figure svg').first().waitFor()
    expect(await page.getByTestId('drift-summary').textContent()).toMatch(/of fields drifted/)
    expect(errors).toEqual([])
    await page.close()
  })

  it('compare: A/B of two versions with intervals, and shadows with their most divergent pairs', async () => {
    const { page, errors } = await watchedPage(context)
    await page.goto('/compare?model=churn-clf&a=3.2.0&b=3.3.0')
    await page.getByTestId('ab-table').waitFor()
    expect(await page.getByTestId('ab-table').textContent()).toContain('error_rate')
    expect(await page.getByTestId('ab-summary').textContent()).toMatch(/n = 120 \(A\) · 120 \(B\)/)
    await page.goto('/compare?model=churn-clf&mode=shadow')
    await page.getByTestId('shadow-results').waitFor()
    expect(await page.getByTestId('shadow-results').textContent()).toContain('4.0.0-rc')
    const first = page.locator('ol.divergent a').first()
    const href = await first.getAttribute('href')
    await first.click()
    await page.waitForURL(`**${href}`)
    await page.getByTestId('shadows').waitFor()
    expect(errors).toEqual([])
    await page.close()
  })

  it('slices: a metric per segment with intervals', async () => {
    const { page, errors } = await watchedPage(context)
    await page.goto('/slices?model=churn-clf&metric=quality.label.accuracy&segment=version')
    await page.getByTestId('slices-table').waitFor()
    const t = await page.getByTestId('slices-table').textContent()
    expect(t).toContain('3.2.0')
    expect(t).toContain('3.3.0')
    await page.goto('/slices?model=churn-clf&metric=bogus.metric&segment=version')
    await page.locator('.error-box').waitFor()
    expect(errors).toEqual([])
    await page.close()
  })

  it('datasets: preview a spec, build it from the editor, read the manifest, download a file', async () => {
    const { page, errors } = await watchedPage(context)
    await page.goto('/datasets')
    await page.getByText('No dataset built yet').waitFor()
    await page.selectOption('#ds-template', 'churn-clf')
    // A bad spec lists its problems.
    await page.fill('#ds-spec', '{"split": {"ratios": {"a": 2}}}')
    await page.getByRole('button', { name: 'Preview' }).click()
    await page.locator('.error-box li').first().waitFor()
    await page.selectOption('#ds-template', 'support-bot')
    await page.selectOption('#ds-template', 'churn-clf')
    await page.getByRole('button', { name: 'Preview' }).click()
    await page.getByTestId('preview').waitFor()
    const previewText = await page.getByTestId('split-table').textContent()
    expect(previewText).toContain('train')
    await page.fill('#ds-name', 'churn-train')
    await page.getByRole('button', { name: 'Build' }).click()
    await page.waitForURL(/\/datasets\/churn-train%401$/)
    await page.getByTestId('dataset-files').waitFor()
    const manifest = (await api('/v1/datasets/churn-train@1')).json
    const link = page.getByRole('link', { name: 'train.jsonl' })
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()])
    const path = await download.path()
    const lines = fs.readFileSync(path!, 'utf8').trim().split('\n')
    const train = manifest.files.find((f: { name: string }) => f.name === 'train.jsonl')
    expect(lines).toHaveLength(train.rows)
    expect(JSON.parse(lines[0]!)).toMatchObject({ model: { name: 'churn-clf' }, split: 'train' })
    await page.goto('/datasets')
    await page.getByTestId('datasets-table').getByText('churn-train').waitFor()
    expect(errors).toEqual([])
    await page.close()
  })

  it('review: create a queue, label items with the keyboard, each label is feedback', async () => {
    const { page, errors } = await watchedPage(context)
    await page.goto('/review')
    await page.fill('#q-name', 'uncertain')
    await page.selectOption('#q-model', 'churn-clf')
    await page.fill('#q-limit', '30')
    await page.getByRole('button', { name: 'Create' }).click()
    await page.waitForURL(/\/review\/uncertain$/)
    await page.locator('[data-choice="false"]').waitFor()
    const before = (await api('/v1/review/uncertain')).json as { labelled: number; total: number }
    expect(before.labelled).toBeLessThan(before.total)
    const first = (await page.getByTestId('review-item').getAttribute('data-event-id'))!
    await page.locator('body').press('2')
    const progress = (n: number) =>
      page.waitForFunction(
        (t) => document.querySelector('[data-testid=review-progress]')?.textContent?.startsWith(t),
        `${n} of ${before.total} labelled`,
      )
    await progress(before.labelled + 1)
    const fb = (await api(`/v1/feedback?event_id=${encodeURIComponent(first)}&name=label`)).json.items as {
      value: unknown
      source: { type: string }
    }[]
    expect(fb.some((f) => f.value === false && f.source.type === 'annotator')).toBe(true)
    expect((await api('/v1/review/uncertain')).json.labelled).toBe(before.labelled + 1)
    // The next open item is shown; label it by clicking.
    if (before.labelled + 1 < before.total) {
      await page.waitForFunction((id) => document.querySelector('[data-testid=review-item]')?.getAttribute('data-event-id') !== id, first)
      await page.locator('[data-choice="true"]').click()
      await progress(before.labelled + 2)
    }
    expect(errors).toEqual([])
    await page.close()
  })

  it('alerts: rules with their state, evaluation, and the editor listing every error', async () => {
    const { page, errors } = await watchedPage(context)
    await page.goto('/alerts')
    await page.getByTestId('alerts-table').waitFor()
    await page.getByRole('button', { name: 'Evaluate now' }).click()
    await page.getByText(/Evaluated: \d+ transition/).waitFor()
    await page.getByTestId('alerts-table').getByText('firing').waitFor()
    await page.fill(
      '#rules',
      '[{"id": "x", "condition": {"type": "metric", "metric": "nope"}, "window": "1h", "operator": "!", "threshold": "a"}]',
    )
    await page.getByRole('button', { name: 'Save rules' }).click()
    await page.locator('.error-box li').first().waitFor()
    expect(await page.locator('.error-box li').count()).toBeGreaterThanOrEqual(2)
    expect(errors).toEqual([])
    await page.close()
  })

  it('keys: create one (shown once), then revoke it', async () => {
    const { page, errors } = await watchedPage(context)
    page.on('dialog', (d) => void d.accept())
    await page.goto('/keys')
    await page.getByText('No API key yet').waitFor()
    await page.fill('#k-name', 'web')
    await page.fill('#k-project', 'shop')
    await page.getByRole('button', { name: 'Create key' }).click()
    const key = (await page.getByTestId('new-key').textContent())!
    expect(key).toMatch(/^il_/)
    expect((await fetch(`${server.url}/v1/events`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(200)
    await page.getByRole('button', { name: 'Done (forget it)' }).click()
    expect(await page.content()).not.toContain(key)
    await page.getByRole('button', { name: 'Revoke' }).click()
    await page.getByTestId('keys-table').getByText('revoked').waitFor()
    expect((await fetch(`${server.url}/v1/events`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(401)
    expect(errors).toEqual([])
    await page.close()
  })

  it('every page renders at phone width without sideways scrolling', async () => {
    const phone = await browser.newContext({ baseURL: server.url, viewport: { width: 390, height: 844 }, isMobile: true })
    const { page, errors } = await watchedPage(phone)
    for (const p of [
      '/',
      '/events',
      '/events/churn-0006',
      '/drift?model=churn-clf',
      '/compare?model=churn-clf',
      '/slices?model=churn-clf',
      '/datasets',
      '/review',
      '/alerts',
      '/keys',
    ]) {
      await page.goto(p)
      await page.locator('h1').first().waitFor()
      await settled(page)
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
      expect(overflow, p).toBeLessThanOrEqual(1)
    }
    expect(errors).toEqual([])
    await phone.close()
  })
})
