import { Hono } from 'hono'
import { deleteCookie, getCookie, setCookie } from 'hono/cookie'
import { hashApiKey } from '../../auth/api-keys.js'
import { type Authenticator, crossSite } from '../../auth/authenticator.js'
import { type BrowserSessions, sameToken } from '../../auth/browser-sessions.js'
import { InferlogError } from '../../errors.js'
import type { AppEnv } from '../app-env.js'
import { authHeaders, SESSION_COOKIE } from '../guard.js'
import { readJsonObject } from '../json-body.js'
import type { MemoryBudget } from '../memory-budget.js'

const iso = (ms: number) => new Date(ms).toISOString()

/** Whether the browser reached us over HTTPS (directly or through a proxy that says so). */
function secure(url: string, forwardedProto: string | undefined): boolean {
  return url.startsWith('https:') || forwardedProto?.split(',')[0]?.trim().toLowerCase() === 'https'
}

/**
 * Browser sign-in for the dashboard. `POST /v1/session` `{"key"}` checks the key and answers 201
 * with an HttpOnly, SameSite=Strict cookie naming a server-side session that carries the key's
 * project and scopes (the page never keeps the key), plus the CSRF token the page sends back in
 * `X-Inferlog-CSRF` on writes. `GET /v1/session` says who the caller is (`via`: `session`, `key`
 * or `open`) and whether open mode is on; `DELETE /v1/session` signs out (the session is deleted
 * server-side, the cookie cleared).
 */
export function sessionRoutes(d: { auth: Authenticator; sessions: BrowserSessions; budget: MemoryBudget }): Hono<AppEnv> {
  const app = new Hono<AppEnv>()
  app.post('/session', async (c) => {
    const h = authHeaders(c)
    // Login CSRF: another site must not sign the operator's browser in to its own project.
    if (crossSite(h)) throw new InferlogError('forbidden', 'sign-in must come from the dashboard itself')
    const body = await readJsonObject(c, d.budget, '{"key"}', 64 * 1024)
    for (const k of Object.keys(body))
      if (k !== 'key') throw new InferlogError('invalid_parameter', `unknown key ${JSON.stringify(k)}; the body is {"key"}`)
    if (typeof body.key !== 'string' || body.key.trim().length === 0 || body.key.length > 1024)
      throw new InferlogError('invalid_parameter', 'key must be an API key (il_…)')
    const hash = hashApiKey(body.key.trim())
    // The same checks as a request presenting the key: unknown, revoked, expired → 401; no read scope → 403.
    const p = await d.auth.checkKey(hash, 'read')
    const record = await d.auth.keyByHash(hash)
    const { id, session } = await d.sessions.create({
      project: p.project,
      keyId: p.keyId!,
      keyHash: hash,
      scopes: p.scopes,
      keyExpiresMs: record?.expiresMs ?? null,
    })
    setCookie(c, SESSION_COOKIE, id, {
      httpOnly: true,
      sameSite: 'Strict',
      path: '/',
      secure: secure(c.req.url, c.req.header('x-forwarded-proto')),
      expires: new Date(session.expiresMs),
    })
    c.header('Cache-Control', 'no-store')
    return c.json(
      {
        via: 'session',
        project: session.project,
        scopes: session.scopes,
        key_id: session.keyId,
        expires_at: iso(session.expiresMs),
        csrf: session.csrf,
        open: d.auth.isOpen,
      },
      201,
    )
  })
  app.get('/session', async (c) => {
    c.header('Cache-Control', 'no-store')
    const h = authHeaders(c)
    const p = await d.auth.authenticate(h, 'read')
    if (p.via === 'session') {
      const s = (await d.sessions.find(h.session!))!
      return c.json({
        via: 'session',
        project: p.project,
        scopes: p.scopes,
        key_id: p.keyId,
        expires_at: iso(s.expiresMs),
        csrf: s.csrf,
        open: d.auth.isOpen,
      })
    }
    return c.json({ via: p.via ?? 'key', project: p.project, scopes: p.scopes, key_id: p.keyId, open: d.auth.isOpen })
  })
  app.delete('/session', async (c) => {
    const cookie = getCookie(c, SESSION_COOKIE)
    if (cookie) {
      const h = authHeaders(c)
      const s = await d.sessions.find(cookie)
      // Signing out is a write: the page sends its CSRF token, so another site cannot end a session.
      if (s && (crossSite(h) || !h.csrf || !sameToken(h.csrf, s.csrf)))
        throw new InferlogError('forbidden', 'sign-out must come from the page, with its X-Inferlog-CSRF token')
      await d.sessions.revoke(cookie)
    }
    deleteCookie(c, SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'Strict' })
    return c.body(null, 204)
  })
  return app
}
