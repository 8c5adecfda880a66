import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { silentLogger } from '../logging/logger.js'
import { SqliteStore } from '../store/sqlite/sqlite-store.js'
import type { Store } from '../store/store.js'
import { type AppOptions, createApp, type InferlogApp } from './create-app.js'

/** A request body: text and bytes go as they are, anything else as JSON. */
export type Body = string | Uint8Array | object

/** A reply as tests read it. */
export interface Reply {
  status: number
  headers: Headers
  json: any
  text: string
}

/** Calls the app in-process (no socket), as Hono's `app.request` does. */
export async function callApp(
  app: InferlogApp,
  method: string,
  url: string,
  body?: Body,
  headers: Record<string, string> = {},
): Promise<Reply> {
  const init: RequestInit = { method, headers }
  if (body !== undefined) init.body = typeof body === 'string' || body instanceof Uint8Array ? (body as BodyInit) : JSON.stringify(body)
  const res = await app.app.request(url, init)
  const text = await res.text()
  let json: unknown
  try {
    json = text ? JSON.parse(text) : undefined
  } catch {
    json = undefined
  }
  return { status: res.status, headers: res.headers, json, text }
}

/** A throwaway SQLite store in a temp directory with an app over it. */
export interface AppHarness {
  dir: string
  store: SqliteStore
  app: InferlogApp
  /** Another app over the harness store (or `s`), closed with the harness. */
  make(o?: Partial<AppOptions>, s?: Store): InferlogApp
  req(method: string, url: string, body?: Body, headers?: Record<string, string>, app?: InferlogApp): Promise<Reply>
  post(url: string, body: Body, headers?: Record<string, string>, app?: InferlogApp): Promise<Reply>
  get(url: string, headers?: Record<string, string>, app?: InferlogApp): Promise<Reply>
  close(): Promise<void>
}

/** Opens a harness; `o` configures its main app. */
export async function openAppHarness(o: Partial<AppOptions> = {}): Promise<AppHarness> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inferlog-app-'))
  const store = new SqliteStore({ filename: path.join(dir, 'inferlog.db') })
  await store.migrate()
  const apps: InferlogApp[] = []
  const make = (opts: Partial<AppOptions> = {}, s: Store = store) => {
    const a = createApp({ store: s, logger: silentLogger(), datasets: { dir: path.join(dir, 'datasets') }, ...opts })
    apps.push(a)
    return a
  }
  const app = make(o)
  const h: AppHarness = {
    dir,
    store,
    app,
    make,
    req: (method, url, body, headers = {}, a = app) => callApp(a, method, url, body, headers),
    post: (url, body, headers = {}, a = app) => callApp(a, 'POST', url, body, headers),
    get: (url, headers = {}, a = app) => callApp(a, 'GET', url, undefined, headers),
    close: async () => {
      for (const a of apps) await a.close()
      await store.close()
      fs.rmSync(dir, { recursive: true, force: true })
    },
  }
  return h
}
