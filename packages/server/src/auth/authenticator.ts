import { InferlogError } from '../errors.js'
import type { ApiKeyRecord, Scope, Store } from '../store/store.js'
import { checkProjectName, hashApiKey } from './api-keys.js'
import { type BrowserSession, sameToken } from './browser-sessions.js'

/** Who is calling, once authenticated. */
export interface Principal {
  project: string
  scopes: Scope[]
  /** Key id, or `null` for a keyless request in open mode (the local operator). */
  keyId: string | null
  /** How the request was let in: a presented key, a browser session cookie, or open mode. */
  via?: 'key' | 'session' | 'open'
}

/** Options of {@link Authenticator}. */
export interface AuthenticatorOptions {
  /**
   * Open mode: a request without a key is the local operator (every scope, the project it names
   * or `default`). A request that presents a key is checked either way. Default false.
   */
  open?: boolean
  /** How long a key look-up is cached, ms. Default 2 000. */
  cacheMs?: number
  /**
   * How long a cached answer may still be used while the store cannot be asked, ms. Default
   * 60 000: a key revoked on another collector stops working here within this bound even during
   * a store outage (without an outage, within `cacheMs`).
   */
  staleMs?: number
  /** Project used in open mode when the request names none. Default `default`. */
  defaultProject?: string
  /** Most cached keys; the cache is emptied when it would grow past this. Default 10 000. */
  maxCachedKeys?: number
  /** Browser sessions (`POST /v1/session`), looked up by cookie value. Default none: cookies are ignored. */
  sessions?: { find(id: string): Promise<BrowserSession | undefined> }
  now?: () => number
}

/** The request headers auth reads. */
export interface AuthHeaders {
  authorization?: string | null | undefined
  apiKey?: string | null | undefined
  project?: string | null | undefined
  /** The session cookie's value, when the request carries one and no key. */
  session?: string | null | undefined
  /** The `X-Inferlog-CSRF` header (required with a session cookie on writes). */
  csrf?: string | null | undefined
  /** Whether the method changes state (anything but GET, HEAD, OPTIONS). */
  unsafe?: boolean
  /** `Origin`, `Sec-Fetch-Site` and `Host`: a browser's word on where a write comes from. */
  origin?: string | null | undefined
  fetchSite?: string | null | undefined
  host?: string | null | undefined
}

/**
 * True when a browser says the request comes from another site: `Sec-Fetch-Site: cross-site` or
 * `same-site`, or an `Origin` whose host is not the `Host`. Clients that are not browsers send
 * neither, and pass.
 */
export function crossSite(h: AuthHeaders): boolean {
  const site = h.fetchSite?.trim().toLowerCase()
  if (site === 'cross-site' || site === 'same-site') return true
  const origin = h.origin?.trim()
  if (!origin || origin === 'null') return origin === 'null'
  try {
    return new URL(origin).host !== (h.host ?? '').trim().toLowerCase()
  } catch {
    return true
  }
}

/** The key a request presents, from `X-API-Key` or `Authorization: Bearer`. */
export function presentedKey(h: AuthHeaders): string | undefined {
  const direct = h.apiKey?.trim()
  if (direct) return direct
  if (!h.authorization) return undefined
  const m = /^Bearer\s+(.+)$/i.exec(h.authorization.trim())
  if (!m) throw new InferlogError('unauthorized', 'the Authorization header must be "Bearer <key>"')
  return m[1]?.trim() || undefined
}

/**
 * Resolves a request to a project and scopes. A presented key is always checked: unknown,
 * revoked or expired is a 401, in open mode too. Without a key, open mode lets the local operator
 * in with every scope; otherwise it is a 401. A key only ever reaches its own project.
 */
export class Authenticator {
  private readonly open: boolean
  private readonly cacheMs: number
  private readonly staleMs: number
  private readonly defaultProject: string
  private readonly maxCached: number
  private readonly now: () => number
  private readonly sessions: AuthenticatorOptions['sessions']
  private readonly keys = new Map<string, { at: number; key: ApiKeyRecord | undefined }>()

  constructor(
    private readonly store: Pick<Store, 'findApiKeyByHash'>,
    o: AuthenticatorOptions = {},
  ) {
    this.open = o.open ?? false
    this.cacheMs = o.cacheMs ?? 2000
    this.staleMs = o.staleMs ?? 60_000
    this.defaultProject = o.defaultProject ?? 'default'
    this.maxCached = o.maxCachedKeys ?? 10_000
    this.now = o.now ?? Date.now
    this.sessions = o.sessions
  }

  /** Whether keyless requests are served (as the local operator). */
  get isOpen(): boolean {
    return this.open
  }

  /** A store fault with no recent answer to fall back on means "try again", never "you are let in". */
  private unavailable(e: unknown): InferlogError {
    return new InferlogError('unavailable', `cannot check API keys: ${(e as Error).message}`, { retryAfter: 1, cause: e })
  }

  /** Forgets cached look-ups, e.g. right after a key was created or revoked here. */
  invalidate(): void {
    this.keys.clear()
  }

  async authenticate(h: AuthHeaders, scope: Scope): Promise<Principal> {
    const named = h.project?.trim() || undefined
    const token = presentedKey(h)
    if (token === undefined) {
      const cookie = h.session?.trim()
      if (cookie && this.sessions) return this.fromSession(h, cookie, scope, named)
      if (!this.open) throw new InferlogError('unauthorized', 'an API key is required: send Authorization: Bearer <key>')
      // Open mode trusts whoever reaches loopback, but not a web page elsewhere that makes the
      // operator's browser post here (a form can send text/plain JSON without a preflight).
      if (h.unsafe && crossSite(h)) throw new InferlogError('forbidden', 'a cross-site request without an API key is refused')
      return {
        project: named === undefined ? this.defaultProject : checkProjectName(named),
        scopes: ['ingest', 'read', 'admin'],
        keyId: null,
        via: 'open',
      }
    }
    return { ...(await this.checkKey(hashApiKey(token), scope, named)), via: 'key' }
  }

  /** A session cookie: the session must be live, its key still valid, and writes must carry its CSRF token. */
  private async fromSession(h: AuthHeaders, cookie: string, scope: Scope, named: string | undefined): Promise<Principal> {
    const s = await this.sessions!.find(cookie)
    if (!s) throw new InferlogError('unauthorized', 'the session has ended (signed out or expired); sign in again')
    if (h.unsafe && (crossSite(h) || !h.csrf || !sameToken(h.csrf, s.csrf))) {
      throw new InferlogError('forbidden', 'a write with a session cookie must come from the page, with its X-Inferlog-CSRF token')
    }
    const p = await this.checkKey(s.keyHash, scope, named)
    return { ...p, via: 'session' }
  }

  /** Checks a key by its hash: known, not revoked, not expired, of the named project, with the scope. */
  async checkKey(hash: string, scope: Scope, named?: string): Promise<Principal> {
    const key = await this.lookup(hash)
    const t = this.now()
    if (!key) throw new InferlogError('unauthorized', 'unknown API key')
    if (key.revokedMs !== null) throw new InferlogError('unauthorized', `API key ${key.id} was revoked`)
    if (key.expiresMs !== null && t >= key.expiresMs) throw new InferlogError('unauthorized', `API key ${key.id} has expired`)
    if (named !== undefined && named !== key.project) {
      throw new InferlogError('forbidden', `this key belongs to project ${JSON.stringify(key.project)}, not ${JSON.stringify(named)}`)
    }
    if (!key.scopes.includes(scope) && !key.scopes.includes('admin')) {
      throw new InferlogError('forbidden', `this key lacks the "${scope}" scope`)
    }
    return { project: key.project, scopes: key.scopes, keyId: key.id }
  }

  /** The key record behind a hash (cached like any check), for opening a session. */
  async keyByHash(hash: string): Promise<ApiKeyRecord | undefined> {
    return this.lookup(hash)
  }

  private async lookup(hash: string): Promise<ApiKeyRecord | undefined> {
    const t = this.now()
    const hit = this.keys.get(hash)
    if (hit && t - hit.at <= this.cacheMs) return hit.key
    try {
      const key = await this.store.findApiKeyByHash(hash)
      if (this.keys.size >= this.maxCached) this.keys.clear()
      this.keys.set(hash, { at: t, key })
      return key
    } catch (e) {
      if (!hit || t - hit.at > this.staleMs) throw this.unavailable(e)
      return hit.key
    }
  }
}
