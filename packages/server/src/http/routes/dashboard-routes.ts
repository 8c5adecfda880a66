import fs from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { Hono } from 'hono'
import type { AppEnv } from '../app-env.js'

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.map': 'application/json',
}

/**
 * The page's policy: everything from this origin only (scripts, styles, data), nothing framed.
 * Inline styles are allowed because chart libraries write `<style>` into their SVG.
 */
export const DASHBOARD_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; " +
  "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

/** Where the built dashboard is, when the `@inferlog/dashboard` package is installed and built. */
export function defaultDashboardDir(): string | undefined {
  try {
    const pkg = createRequire(import.meta.url).resolve('@inferlog/dashboard/package.json')
    return path.join(path.dirname(pkg), 'dist')
  } catch {
    return undefined
  }
}

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>inferlog</title>
<p>The dashboard is not built. Run <code>npm run build</code> in the repository, then reload.
The HTTP API is under <code>/v1</code>.</p>`

/**
 * Serves the dashboard (`packages/dashboard`, a static build) at `/`: `GET /assets/NAME` (hashed
 * names, cached for a year, gzip when the browser takes it) and, for any other page path a browser
 * navigates to (a GET outside `/v1` that accepts HTML), `index.html`, whose script routes on the
 * client. Requests that do not ask for HTML fall through to the JSON 404.
 */
export function dashboardRoutes(d: { dir: string | undefined }): Hono<AppEnv> {
  const app = new Hono<AppEnv>()
  const file = (name: string) => (d.dir ? path.join(d.dir, name) : undefined)
  const security = {
    'Content-Security-Policy': DASHBOARD_CSP,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'X-Frame-Options': 'DENY',
  }
  app.get('/assets/:name', async (c) => {
    const name = c.req.param('name')
    const p = /^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$/.test(name) ? file(path.join('assets', name)) : undefined
    if (!p || !fs.existsSync(p)) return c.notFound()
    const type = TYPES[path.extname(name)] ?? 'application/octet-stream'
    const gz = `${p}.gz`
    const headers: Record<string, string> = {
      'Content-Type': type,
      'Cache-Control': 'public, max-age=31536000, immutable',
      'X-Content-Type-Options': 'nosniff',
      Vary: 'Accept-Encoding',
    }
    if (/\bgzip\b/.test(c.req.header('accept-encoding') ?? '') && fs.existsSync(gz)) {
      return c.body(fs.readFileSync(gz), 200, { ...headers, 'Content-Encoding': 'gzip' })
    }
    return c.body(fs.readFileSync(p), 200, headers)
  })
  app.get('*', async (c, next) => {
    const p = c.req.path
    if (p !== '/' && (p.startsWith('/v1/') || p === '/v1' || !(c.req.header('accept') ?? '').includes('text/html'))) return next()
    const index = file('index.html')
    if (!index || !fs.existsSync(index)) return c.html(NOT_BUILT, 503, { ...security, 'Cache-Control': 'no-store' })
    return c.body(fs.readFileSync(index), 200, { ...security, 'Content-Type': TYPES['.html']!, 'Cache-Control': 'no-cache' })
  })
  return app
}
