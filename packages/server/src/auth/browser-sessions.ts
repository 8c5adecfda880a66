import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { type DerivedMigration, migrateDerived } from '../feed/derived-schema.js'
import type { DerivedStore, Scope } from '../store/store.js'

const SCHEMA: readonly DerivedMigration[] = [
  async (db) => {
    await db.schema
      .createTable('browser_sessions')
      .addColumn('id_hash', 'text', (c) => c.primaryKey())
      .addColumn('project', 'text', (c) => c.notNull())
      .addColumn('key_id', 'text', (c) => c.notNull())
      .addColumn('key_hash', 'text', (c) => c.notNull())
      .addColumn('scopes', 'text', (c) => c.notNull())
      .addColumn('csrf', 'text', (c) => c.notNull())
      .addColumn('created_ms', 'bigint', (c) => c.notNull())
      .addColumn('expires_ms', 'bigint', (c) => c.notNull())
      .execute()
  },
]

/** A browser's signed-in session: what the key it signed in with grants, never the key itself. */
export interface BrowserSession {
  project: string
  keyId: string
  /** SHA-256 of the key, as the key table keeps it: every request re-checks the key (revoked, expired). */
  keyHash: string
  scopes: Scope[]
  /** The token the page must echo in `X-Inferlog-CSRF` on writes. */
  csrf: string
  createdMs: number
  expiresMs: number
}

/** Options of {@link BrowserSessions}. */
export interface BrowserSessionsOptions {
  /** How long a session lives (capped at the key's expiry), ms. Default 43 200 000 (12 h). */
  ttlMs?: number
  /** How long a looked-up session is reused before the store is asked again, ms. Default 2 000. */
  cacheMs?: number
  now?: () => number
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex')

/** Constant-time string comparison (CSRF tokens). */
export function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}

/**
 * Server-side store of browser sessions (`POST /v1/session`), in the derived tables so every
 * collector of a deployment sees them and they survive a restart. Only a hash of the session id
 * is stored; sign-out deletes the row, at once here and within `cacheMs` on other collectors.
 */
export class BrowserSessions {
  private ready: Promise<void> | undefined
  private readonly ttlMs: number
  private readonly cacheMs: number
  private readonly now: () => number
  private readonly cache = new Map<string, { at: number; session: BrowserSession | undefined }>()

  constructor(
    private readonly derived: DerivedStore,
    o: BrowserSessionsOptions = {},
  ) {
    this.ttlMs = o.ttlMs ?? 43_200_000
    this.cacheMs = o.cacheMs ?? 2_000
    this.now = o.now ?? Date.now
  }

  private ensure(): Promise<void> {
    this.ready ??= migrateDerived(this.derived, 'browser-sessions', SCHEMA).catch((e) => {
      this.ready = undefined
      throw e
    })
    return this.ready
  }

  /** Opens a session for a checked key; returns the id to put in the cookie (shown only here). */
  async create(k: { project: string; keyId: string; keyHash: string; scopes: Scope[]; keyExpiresMs: number | null }) {
    await this.ensure()
    const t = this.now()
    const id = randomBytes(32).toString('base64url')
    const session: BrowserSession = {
      project: k.project,
      keyId: k.keyId,
      keyHash: k.keyHash,
      scopes: k.scopes,
      csrf: randomBytes(24).toString('base64url'),
      createdMs: t,
      expiresMs: Math.min(t + this.ttlMs, k.keyExpiresMs ?? Number.POSITIVE_INFINITY),
    }
    const db = this.derived.db
    await this.derived.write([
      db.deleteFrom('browser_sessions').where('expires_ms', '<', t).compile(),
      db
        .insertInto('browser_sessions')
        .values({
          id_hash: sha256(id),
          project: session.project,
          key_id: session.keyId,
          key_hash: session.keyHash,
          scopes: JSON.stringify(session.scopes),
          csrf: session.csrf,
          created_ms: session.createdMs,
          expires_ms: session.expiresMs,
        })
        .compile(),
    ])
    return { id, session }
  }

  /** The live session of a cookie value, or undefined (unknown, signed out or expired). */
  async find(id: string): Promise<BrowserSession | undefined> {
    if (id.length === 0 || id.length > 128) return undefined
    const hash = sha256(id)
    const t = this.now()
    const hit = this.cache.get(hash)
    let session = hit && t - hit.at <= this.cacheMs ? hit.session : undefined
    if (!hit || t - hit.at > this.cacheMs) {
      await this.ensure()
      const r = (await this.derived.db.selectFrom('browser_sessions').selectAll().where('id_hash', '=', hash).executeTakeFirst()) as
        | Record<string, unknown>
        | undefined
      session = r && {
        project: r.project as string,
        keyId: r.key_id as string,
        keyHash: r.key_hash as string,
        scopes: JSON.parse(r.scopes as string) as Scope[],
        csrf: r.csrf as string,
        createdMs: Number(r.created_ms),
        expiresMs: Number(r.expires_ms),
      }
      if (this.cache.size >= 10_000) this.cache.clear()
      this.cache.set(hash, { at: t, session })
    }
    return session && t < session.expiresMs ? session : undefined
  }

  /** Signs a session out (idempotent). */
  async revoke(id: string): Promise<void> {
    await this.ensure()
    const hash = sha256(id)
    this.cache.delete(hash)
    await this.derived.write([this.derived.db.deleteFrom('browser_sessions').where('id_hash', '=', hash).compile()])
  }
}
