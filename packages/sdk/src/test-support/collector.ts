import type { ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { spawnServer } from '@inferlog/testkit'
import type { FeedbackItem, InferenceEvent } from '@inferlog/schema'

export { CLI } from '@inferlog/testkit'

/** A collector running as a child process (`inferlog serve`). */
export interface Collector {
  url: string
  port: number
  dataDir: string
  child: ChildProcess
  /** Stops it (SIGTERM by default: it commits what is queued) and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<void>
}

/** Starts `inferlog serve --port <port> --data <dir>` and resolves once it printed its URL. */
export async function startCollector(dataDir: string, port = 0): Promise<Collector> {
  const p = await spawnServer(['--port', String(port), '--data', dataDir])
  return {
    url: p.url,
    port: p.port,
    dataDir,
    child: p.child,
    stop: async (signal: NodeJS.Signals = 'SIGTERM') => {
      await p.stop(signal)
    },
  }
}

/**
 * Every stored event of a project, read through the collector's public API (`GET /v1/events`,
 * page after page), so tests depend on the contract and not on the store's tables.
 */
export async function storedEvents(url: string, project = 'default'): Promise<InferenceEvent[]> {
  const out: InferenceEvent[] = []
  let cursor: string | null = null
  do {
    const q = new URLSearchParams({ limit: '1000' })
    if (cursor !== null) q.set('cursor', cursor)
    const res = await fetch(`${url}/v1/events?${q}`, { headers: { 'x-inferlog-project': project } })
    if (res.status !== 200) throw new Error(`GET /v1/events answered ${res.status}: ${await res.text()}`)
    const page = (await res.json()) as { items: InferenceEvent[]; next_cursor: string | null }
    out.push(...page.items)
    cursor = page.next_cursor
  } while (cursor !== null)
  return out
}

/** Ids of the stored events of a project (see {@link storedEvents}). */
export async function storedEventIds(url: string, project = 'default'): Promise<string[]> {
  return (await storedEvents(url, project)).map((e) => e.id as string)
}

/** `GET /v1/events/{id}`: the event with its feedback, or undefined when the collector has no such event. */
export async function eventDetail(
  url: string,
  id: string,
  project = 'default',
): Promise<{ event: InferenceEvent; feedback: FeedbackItem[]; shadows: InferenceEvent[] } | undefined> {
  const res = await fetch(`${url}/v1/events/${encodeURIComponent(id)}`, { headers: { 'x-inferlog-project': project } })
  if (res.status === 404) return undefined
  if (res.status !== 200) throw new Error(`GET /v1/events/${id} answered ${res.status}: ${await res.text()}`)
  return (await res.json()) as { event: InferenceEvent; feedback: FeedbackItem[]; shadows: InferenceEvent[] }
}

/** A Node child process running an SDK script from the built package. */
export const SDK_DIST = fileURLToPath(new URL('../../dist/index.js', import.meta.url))
