import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli } from '@inferlog/testkit'
import { browserAvailable, launchBrowser, startCollector, watchedPage } from './browser-support.js'

type Collector = Awaited<ReturnType<typeof startCollector>>
let server: Collector
let browser: Browser
let shopKey: string
let otherKey: string

const ev = (id: string, model: string) => ({ id, model: { name: model, version: '1' }, input: { q: id }, output: { a: 1 } })

async function createKey(project: string, scopes: string): Promise<string> {
  const r = await runCli(['keys', 'create', '--project', project, '--scopes', scopes, '--url', server.url, '--json'])
  if (r.code !== 0) throw new Error(r.stderr)
  return (JSON.parse(r.stdout) as { key: string }).key
}

describe.skipIf(!browserAvailable)('dashboard sign-in with an API key', { timeout: 300_000 }, () => {
  beforeAll(async () => {
    server = await startCollector()
    shopKey = await createKey('shop', 'read,ingest')
    otherKey = await createKey('other', 'ingest')
    await fetch(`${server.url}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${shopKey}` },
      body: JSON.stringify([ev('shop-1', 'shop-model'), ev('shop-2', 'shop-model')]),
    })
    await fetch(`${server.url}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${otherKey}` },
      body: JSON.stringify([ev('other-1', 'other-model')]),
    })
    await fetch(`${server.url}/v1/events`, { method: 'POST', body: JSON.stringify([ev('default-1', 'default-model')]) })
    browser = await launchBrowser()
  }, 300_000)
  afterAll(async () => {
    await browser?.close()
    await server?.shutdown()
  })

  it('signs in, sees only that project, keeps no key, signs out', async () => {
    const ctx = await browser.newContext({ baseURL: server.url })
    const { page, errors } = await watchedPage(ctx)
    // Open mode: the operator sees the default project without signing in.
    await page.goto('/events')
    await page.getByTestId('events-table').waitFor()
    expect(await page.getByTestId('project').textContent()).toBe('default')
    expect(await page.getByTestId('events-table').textContent()).toContain('default-model')

    await page.getByRole('link', { name: /sign in/ }).click()
    await page.fill('#key', 'il_not_a_key')
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page
      .getByRole('alert')
      .getByText(/Sign-in needed|unknown API key/)
      .waitFor()
    expect(await page.inputValue('#key')).toBe('')
    await page.fill('#key', shopKey)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.locator('[data-testid=project]', { hasText: 'shop' }).waitFor()
    await page.goto('/events')
    await page.getByTestId('events-table').waitFor()
    const text = await page.getByTestId('events-table').textContent()
    expect(text).toContain('shop-model')
    expect(text).not.toContain('other-model')
    expect(text).not.toContain('default-model')
    await page.goto('/events/other-1')
    await page.locator('.error-box[data-status="404"]').waitFor()

    // The cookie is HttpOnly and SameSite=Strict; nothing the page can read holds the key.
    const cookies = await ctx.cookies()
    const session = cookies.find((c) => c.name === 'inferlog_session')!
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Strict' })
    expect(session.value).not.toContain(shopKey)
    const stored = await page.evaluate(() => document.cookie + JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }))
    expect(stored).not.toContain(shopKey)
    expect(stored).not.toContain('il_')

    // Feedback from the page goes to the session's project, with the CSRF token.
    await page.goto('/events/shop-1')
    await page.fill('#fb-name', 'thumbs')
    await page.fill('#fb-value', '1')
    await page.getByRole('button', { name: 'Add feedback' }).click()
    await page.locator('[data-testid=feedback-timeline]').getByText('thumbs').waitFor()

    await page.getByRole('button', { name: 'Sign out' }).click()
    await page.getByRole('button', { name: 'Sign in' }).waitFor()
    const replay = await fetch(`${server.url}/v1/events`, { headers: { cookie: `inferlog_session=${session.value}` } })
    expect(replay.status).toBe(401)
    expect(errors).toEqual([])
    await ctx.close()
  })

  it('requires sign-in when keys are required, and refuses a key without read', async () => {
    let key = ''
    const locked = await startCollector(['--require-keys'], async (data) => {
      const r = await runCli(['keys', 'create', '--project', 'p', '--scopes', 'ingest', '--data', data, '--json'])
      if (r.code !== 0) throw new Error(r.stderr)
      key = (JSON.parse(r.stdout) as { key: string }).key
    })
    try {
      const ctx = await browser.newContext({ baseURL: locked.url })
      const { page, errors } = await watchedPage(ctx)
      await page.goto('/events')
      await page.getByRole('button', { name: 'Sign in' }).waitFor()
      await page.fill('#key', key)
      await page.getByRole('button', { name: 'Sign in' }).click()
      await page
        .getByRole('alert')
        .getByText(/Not allowed/)
        .waitFor()
      expect(errors).toEqual([])
      await ctx.close()
    } finally {
      await locked.shutdown()
    }
  })
})
