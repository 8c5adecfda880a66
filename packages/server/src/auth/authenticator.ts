import { InferlogError } from '../errors.js'
import type { ApiKeyRecord, Scope, Store } from '../store/store.js'
import { checkProjectName, hashApiKey } from './api-keys.js'

/** Who is calling, once authenticated. */
export interface Principal {
  project: string
  scopes: Scope[]
  /** Key id, or `null` for a keyless request in open mode (the local operator). */
  keyId: string | null
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
  now?: () => number
}

/** The request headers auth reads. */
export interface AuthHeaders {
  authorization?: string | null | undefined
  apiKey?: string | null | undefined
  project?: string | null | undefined
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
      if (!this.open) throw new InferlogError('unauthorized', 'an API key is required: send Authorization: Bearer <key>')
      return {
        project: named === undefined ? this.defaultProject : checkProjectName(named),
        scopes: ['ingest', 'read', 'admin'],
        keyId: null,
      }
    }
    const key = await this.lookup(hashApiKey(token))
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
