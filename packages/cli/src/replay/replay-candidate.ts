import path from 'node:path'
import { pathToFileURL } from 'node:url'

/** A candidate model: the logged (possibly overridden) input and the original event in, an output out. */
export type Predict = (input: unknown, event: Record<string, unknown>) => Promise<unknown>

/** A candidate that failed on one event; recorded on that event's shadow, the run goes on. */
export class CandidateError extends Error {
  constructor(
    /** `timeout`, `http_<status>`, `unreachable`, `bad_reply`, or the thrown error's name. */
    readonly type: string,
    message: string,
  ) {
    super(message)
    this.name = 'CandidateError'
  }
}

/** Runs `work` with a deadline; a late answer is a `timeout`. */
export function withTimeout<T>(work: (signal: AbortSignal) => Promise<T>, ms: number): Promise<T> {
  const ac = new AbortController()
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      ac.abort()
      reject(new CandidateError('timeout', `no answer within ${ms} ms`))
    }, ms)
  })
  return Promise.race([work(ac.signal), deadline]).finally(() => clearTimeout(timer))
}

/**
 * A candidate behind an HTTP endpoint: each input is POSTed as JSON; a JSON reply is the output
 * (any other reply its text). A non-2xx reply, a network error or no reply within `timeoutMs`
 * fails that event.
 */
export function httpCandidate(url: string, timeoutMs: number): Predict {
  return (input) =>
    withTimeout(async (signal) => {
      let res: Response
      try {
        res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(input ?? null),
          signal,
        })
      } catch (e) {
        if (signal.aborted) throw new CandidateError('timeout', `no answer within ${timeoutMs} ms`)
        const cause = (e as { cause?: { code?: string } }).cause
        throw new CandidateError('unreachable', `cannot reach ${url}: ${cause?.code ?? (e as Error).message}`)
      }
      const text = await res.text()
      if (!res.ok) throw new CandidateError(`http_${res.status}`, `${url} answered ${res.status}: ${text.slice(0, 200)}`)
      if ((res.headers.get('content-type') ?? '').includes('json')) {
        try {
          return JSON.parse(text) as unknown
        } catch {
          throw new CandidateError('bad_reply', `${url} answered invalid JSON`)
        }
      }
      return text
    }, timeoutMs)
}

/**
 * A candidate in a JavaScript module exporting `predict(input, event)` (or a default function),
 * sync or async. A throw or no answer within `timeoutMs` fails that event.
 */
export async function moduleCandidate(file: string, timeoutMs: number): Promise<Predict> {
  const mod = (await import(pathToFileURL(path.resolve(file)).href)) as { predict?: unknown; default?: unknown }
  const fn = typeof mod.predict === 'function' ? mod.predict : typeof mod.default === 'function' ? mod.default : undefined
  if (!fn) throw Object.assign(new Error(`${file} exports no predict(input, event) function`), { code: 'invalid_parameter' })
  return (input, event) =>
    withTimeout(async () => {
      try {
        return await (fn as Predict)(input, event)
      } catch (e) {
        throw new CandidateError(e instanceof Error ? e.name : 'Error', e instanceof Error ? e.message : String(e))
      }
    }, timeoutMs)
}
