import { InferlogError } from '../errors.js'
import type { ApiKeyRecord, Scope, Store } from '../store/store.js'
import { checkProjectName, hashApiKey } from './api-keys.js'

/** Who is calling, once authenticated. */
export interface Principal {
  project: string
  scopes: Scope[]
  /** Key id, or `null` in open mode. */
  keyId: string | null
}

/** Options of {@link Authenticator}. */
export interface AuthenticatorOptions {
  /** How long key look-ups and the open/closed decision are cached, ms. Default 2000. */
  cacheMs?: number
  /**
   * How long a cached answer may still be used while the store cannot be asked, ms. Default
   * 300 000 (5 min). A key revoked during a store outage keeps working until then.
   */
  staleMs?: number
  /** Project used in open mode when the request names none. Default `default`. */
  defaultProject?: string
  now?: () => number
}

/** The request headers auth reads. */
export interface AuthHeaders {
  authorization?: string | null
  apiKey?: string | null
  project?: string | null
}

/**
 * Resolves a request to a project and scopes. With no active keys in the store the server is
 * open: every request gets all scopes on the project it names (`X-Inferlog-Project`) or
 * `default`; the server then only listens on loopback. Once a key exists, every request needs one,
 * and a key only ever reaches its own project.
 */
export class Authenticator {
  private readonly cacheMs: number
  private readonly defaultProject: string
  private readonly now: () => number
  private openUntil = 0
  private open = false
  private openDecidedAt: number | undefined
  private readonly staleMs: number
  private readonly keys = new Map<string, { at: number; key: ApiKeyRecord | undefined }>()

  constructor(
    private readonly store: Store,
    o: AuthenticatorOptions = {},
  ) {
    this.cacheMs = o.cacheMs ?? 2000
    this.staleMs = o.staleMs ?? 300_000
    this.defaultProject = o.defaultProject ?? 'default'
    this.now = o.now ?? Date.now
  }

  /** True when no key is configured (cached). */
  async isOpen(): Promise<boolean> {
    const t = this.now()
    if (t >= this.openUntil) {
      try {
        this.open = (await this.store.countActiveApiKeys()) === 0
        this.openDecidedAt = t
      } catch (e) {
        // Store briefly unreachable (e.g. PostgreSQL restarting under queue-mode collectors):
        // keep the last answer for a while rather than refusing all traffic.
        if (this.openDecidedAt === undefined || t - this.openDecidedAt > this.staleMs) throw this.unavailable(e)
      }
      this.openUntil = t + this.cacheMs
    }
    return this.open
  }

  /** A store fault with no recent answer to fall back on means "try again", never "you are let in". */
  private unavailable(e: unknown): InferlogError {
    return new InferlogError('unavailable', `cannot check API keys: ${(e as Error).message}`, { retryAfter: 1, cause: e })
  }

  /** Forgets cached decisions, e.g. right after a key was created or revoked here. */
  invalidate(): void {
    this.openUntil = 0
    this.keys.clear()
  }

  async authenticate(h: AuthHeaders, scope: Scope): Promise<Principal> {
    const named = h.project?.trim() || undefined
    if (await this.isOpen()) {
      return {
        project: named === undefined ? this.defaultProject : checkProjectName(named),
        scopes: ['ingest', 'read', 'admin'],
        keyId: null,
      }
    }
    let token = h.apiKey?.trim()
    if (!token && h.authorization) {
      const m = /^Bearer\s+(.+)$/i.exec(h.authorization.trim())
      token = m?.[1]?.trim()
    }
    if (!token) throw new InferlogError('unauthorized', 'an API key is required: send Authorization: Bearer <key>')
    const hash = hashApiKey(token)
    const t = this.now()
    let hit = this.keys.get(hash)
    if (!hit || t - hit.at > this.cacheMs) {
      try {
        hit = { at: t, key: await this.store.findApiKeyByHash(hash) }
        if (this.keys.size > 10_000) this.keys.clear()
        this.keys.set(hash, hit)
      } catch (e) {
        if (!hit || t - hit.at > this.staleMs) throw this.unavailable(e)
      }
    }
    const key = hit.key
    if (!key || key.revokedMs !== null) throw new InferlogError('unauthorized', 'unknown or revoked API key')
    if (named !== undefined && named !== key.project) {
      throw new InferlogError('forbidden', `this key belongs to project ${JSON.stringify(key.project)}, not ${JSON.stringify(named)}`)
    }
    if (!key.scopes.includes(scope) && !key.scopes.includes('admin')) {
      throw new InferlogError('forbidden', `this key lacks the "${scope}" scope`)
    }
    return { project: key.project, scopes: key.scopes, keyId: key.id }
  }
}
