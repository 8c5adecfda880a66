import type { Browser, BrowserContext } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { seedDashboard, waitAggregated } from '../../packages/dashboard/scripts/seed.js'
import { browserAvailable, launchBrowser, settled, startCollector, watchedPage } from './browser-support.js'

type Collector = Awaited<ReturnType<typeof startCollector>>
let server: Collector
let browser: Browser
let context: BrowserContext

describe.skipIf(!browserAvailable)('dashboard: overview, explorer and event pages', { timeout: 300_000 }, () => {
  beforeAll(async () => {
    server = await startCollector()
    const seeded = await seedDashboard(server.url)
    await waitAggregated(server.url, 'churn-clf', seeded.churn.length)
    browser = await launchBrowser()
    context = await browser.newContext({ baseURL: server.url, viewport: { width: 1280, height: 900 } })
  }, 300_000)
  afterAll(async () => {
    await browser?.close()
    await server?.shutdown()
  })

  it('renders the overview: models in the window, tiles, charts, firing alerts', async () => {
    const { page, errors } = await watchedPage(context)
    // The charts read their buckets with only the figures they draw (fields=).
    const buckets = page.waitForResponse((r) => /\/v1\/metrics\?model=churn-clf&.*fields=/.test(r.url()))
    await page.goto('/')
    await page.getByTestId('models-table').waitFor()
    await settled(page)
    await expect(page.getByTestId('models-table').textContent()).resolves.toContain('churn-clf')
    await expect(page.getByTestId('models-table').textContent()).resolves.toContain('support-bot')
    await page.locator('.chart .uplot').first().waitFor()
    expect(await page.locator('.chart').count()).toBeGreaterThanOrEqual(4)
    const titles = await page.locator('figure.chart figcaption').allTextContents()
    expect(titles.join('|')).toMatch(/label: accuracy \(95% band\)/)
    expect(titles.join('|')).toMatch(/label coverage/)
    const reply = (await (await buckets).json()) as { series: { points: { quality?: Record<string, Record<string, unknown>> }[] }[] }
    const labelled = reply.series.flatMap((s) => s.points).find((p) => p.quality?.label)
    expect(labelled?.quality?.label).toMatchObject({ coverage: expect.any(Number), accuracy: { value: expect.any(Number) } })
    expect(labelled?.quality?.label?.per_class).toBeUndefined()
    expect(await page.locator('.tile').first().textContent()).toContain('Requests')
    // The label-free estimate beside the realized accuracy, on request.
    await page.goto('/?model=churn-clf')
    await page.getByLabel(/estimated vs realized/).check()
    await page.waitForURL(/estimate=1/)
    await page.locator('figure.chart figcaption', { hasText: 'estimated (dashed, CBPE) vs realized accuracy' }).waitFor()
    expect(errors).toEqual([])
    await page.close()
  })

  it('filters the explorer from the URL and the form, pages with a cursor, opens an event, adds feedback', async () => {
    const { page, errors } = await watchedPage(context)
    await page.goto('/events?model=churn-clf&version=3.3.0&limit=20')
    await page.getByTestId('events-table').waitFor()
    const rows = page.locator('[data-testid=events-table] tbody tr')
    expect(await rows.count()).toBe(20)
    for (const t of await rows.locator('td:nth-child(2)').allTextContents()) expect(t).toContain('churn-clf@3.3.0')
    // Filters are in the form, and applying it writes every one into the URL.
    await page.selectOption('#f-status', 'error')
    await page.getByRole('button', { name: 'Apply' }).click()
    await page.waitForURL(/status=error/)
    expect(page.url()).toMatch(/model=churn-clf/)
    expect(page.url()).toMatch(/version=3.3.0/)
    expect(page.url()).toMatch(/limit=20/)
    await page.waitForFunction(() => {
      const cells = [...document.querySelectorAll('[data-testid=events-table] tbody td:nth-child(3)')]
      return cells.length > 0 && cells.every((c) => c.textContent === 'error')
    })
    // Keyset pages: the next page holds other events, and the cursor is in the URL.
    await page.goto('/events?model=churn-clf&limit=50')
    await page.getByTestId('events-table').waitFor()
    const first = await rows.locator('td:first-child a').evaluateAll((as) => as.map((a) => a.getAttribute('href')))
    await page.getByRole('link', { name: 'Next page' }).click()
    await page.waitForURL(/cursor=/)
    await page.waitForFunction((f) => document.querySelector('[data-testid=events-table] tbody tr a')?.getAttribute('href') !== f, first[0])
    const second = await rows.locator('td:first-child a').evaluateAll((as) => as.map((a) => a.getAttribute('href')))
    expect(second.filter((h) => first.includes(h))).toEqual([])
    await page.goBack()
    await page.waitForURL((u) => !u.search.includes('cursor'))

    // Open an event and add feedback from its page.
    await page.goto('/events?model=churn-clf&version=3.2.0&status=ok&limit=5')
    await page.getByTestId('events-table').waitFor()
    await rows.first().locator('td:first-child a').click()
    await page.waitForURL(/\/events\/churn-/)
    const id = decodeURIComponent(page.url().split('/events/')[1]!)
    await page.getByTestId('event-id').waitFor()
    expect(await page.getByTestId('event-id').textContent()).toBe(id)
    await page.fill('#fb-name', 'review')
    await page.fill('#fb-value', '"wrong-label"')
    await page.fill('#fb-comment', 'checked by hand')
    await page.getByRole('button', { name: 'Add feedback' }).click()
    await page.locator('[data-testid=feedback-timeline] li', { hasText: 'wrong-label' }).waitFor()
    const stored = (await (await fetch(`${server.url}/v1/feedback?event_id=${encodeURIComponent(id)}&name=review`)).json()) as {
      items: { value: unknown; comment?: string; source?: { type: string } }[]
    }
    expect(stored.items).toHaveLength(1)
    expect(stored.items[0]).toMatchObject({ value: 'wrong-label', comment: 'checked by hand', source: { type: 'user' } })
    expect(errors).toEqual([])
    await page.close()
  })

  it('renders an event by kind: features table, latency bar, shadows, attributions, decision path', async () => {
    const { page, errors } = await watchedPage(context)
    await page.goto('/events/churn-0006')
    await page.getByTestId('event-id').waitFor()
    await settled(page)
    expect(await page.locator('[data-testid=input] .value-view[data-kind=record]').textContent()).toContain('tenure_months')
    await page.getByTestId('latency').waitFor()
    expect(await page.getByTestId('shadows').textContent()).toContain('4.0.0-rc')
    expect(await page.getByTestId('attributions').textContent()).toContain('monthly_spend')
    expect(await page.getByTestId('decision-path').textContent()).toContain('tenure_months')
    expect(await page.getByTestId('feedback-timeline').textContent()).toContain('label')
    expect(await page.locator('.session-list li').count()).toBeGreaterThan(0)
    expect(errors).toEqual([])
    await page.close()
  })

  it('renders a chat event: conversation, token heatmap with top-k on hover, embedding, attention, feedback before the event', async () => {
    const { page, errors } = await watchedPage(context)
    await page.goto('/events/chat-000')
    await page.getByTestId('event-id').waitFor()
    expect(await page.locator('[data-testid=input] ol.chat li').count()).toBe(2)
    expect(await page.locator('ol.chat li.role-assistant').count()).toBe(1)
    await page.locator('.heatmap .tok').nth(1).hover()
    await page.getByTestId('token-info').getByText('today').waitFor()
    await page.locator('canvas.strip').waitFor()
    await page.locator('canvas.matrix').waitFor()
    const early = page.locator('[data-testid=feedback-timeline] li.before')
    expect(await early.textContent()).toMatch(/before the event/)
    expect(errors).toEqual([])
    await page.close()
  })

  it('keeps the tab responsive on a 1 MiB input and a 50 000-token log-prob tensor', async () => {
    const { page, errors } = await watchedPage(context)
    for (const id of ['huge-input', 'huge-logprobs']) {
      await page.goto(`/events/${id}`)
      await page.getByTestId('event-id').waitFor()
      // The main thread answers within a frame or so once the page has drawn.
      const lag = await page.evaluate(
        () =>
          new Promise<number>((res) => {
            const t = performance.now()
            setTimeout(() => res(performance.now() - t), 0)
          }),
      )
      expect(lag).toBeLessThan(1000)
    }
    expect(await page.locator('.heatmap .tok').count()).toBeLessThanOrEqual(2000)
    await page.getByRole('button', { name: /more tokens/ }).click()
    // The click re-renders on the page's next frame: wait for it (a count taken at once raced it).
    await page.waitForFunction((n) => document.querySelectorAll('.heatmap .tok').length >= n, 12_000, { timeout: 15_000 })
    expect(await page.locator('.heatmap .tok').count()).toBe(12_000)
    await page.goto('/events/huge-input')
    await page.getByText(/show all 1,000,000 chars/).waitFor()
    expect(errors).toEqual([])
    await page.close()
  })

  it('says what happened for an unknown event, an erased one, an empty filter, an unknown page', async () => {
    const { page, errors } = await watchedPage(context)
    await page.goto('/events/no-such-event')
    await page.locator('.error-box[data-status="404"]').waitFor()
    const erased = await fetch(`${server.url}/v1/erasure`, {
      method: 'POST',
      body: JSON.stringify({ ids: ['chat-023'], reason: 'dashboard test', confirm: true }),
    })
    expect(erased.status).toBe(200)
    await page.goto('/events/chat-023')
    await page.locator('.error-box[data-status="410"]').waitFor()
    expect(await page.locator('.error-box').textContent()).toContain('Erased')
    await page.goto('/events?model=nothing-here')
    await page.getByText('No event matches these filters.').waitFor()
    await page.goto('/nowhere')
    await page.getByText('No page at').waitFor()
    expect(errors).toEqual([])
    await page.close()
  })

  it('works at phone width with the keyboard', async () => {
    const phone = await browser.newContext({ baseURL: server.url, viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true })
    const { page, errors } = await watchedPage(phone)
    await page.goto('/events?model=support-bot')
    await page.getByTestId('events-table').waitFor()
    const menu = page.getByRole('button', { name: 'Menu' })
    await menu.focus()
    await page.keyboard.press('Enter')
    await page.getByRole('link', { name: 'Overview' }).waitFor()
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
    expect(overflow).toBeLessThanOrEqual(1)
    await page.goto('/')
    await page.getByTestId('models-table').waitFor()
    expect(errors).toEqual([])
    await phone.close()
  })
})

describe.skipIf(!browserAvailable)('dashboard: empty store, and a server that goes away', { timeout: 300_000 }, () => {
  it('shows an empty overview and explorer, then a clear message when the server is down', async () => {
    const s = await startCollector()
    const b = await launchBrowser()
    try {
      const ctx = await b.newContext({ baseURL: s.url })
      const { page, errors } = await watchedPage(ctx)
      await page.goto('/')
      await page.getByText(/No model has traffic/).waitFor()
      await page.goto('/events')
      await page.getByText(/No events yet/).waitFor()
      await s.stop('SIGTERM', 10_000)
      await page.getByRole('link', { name: 'Overview' }).click()
      await page.locator('.error-box[data-code=network]').waitFor()
      expect(await page.locator('.error-box').textContent()).toContain('cannot be reached')
      expect(errors).toEqual([])
    } finally {
      await b.close()
      await s.shutdown()
    }
  })
})
