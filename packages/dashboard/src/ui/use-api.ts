import { useCallback, useEffect, useRef, useState } from 'preact/hooks'
import { ApiError } from '../api/api-client.js'

/** State of a read: data once loaded, the error when it failed, and whether a load is running. */
export interface Loaded<T> {
  data: T | undefined
  error: ApiError | undefined
  loading: boolean
  /** Loads again (keeping the old data on screen until the new arrives). */
  reload: () => void
}

/**
 * Runs `load` when `deps` change, aborting the previous run; errors become {@link ApiError}s for
 * the page to show. A server that is down is retried every `retryMs` (default 5 000) while the
 * page is open, so it recovers by itself when the server comes back.
 */
export function useApi<T>(load: (signal: AbortSignal) => Promise<T>, deps: unknown[], retryMs = 5_000): Loaded<T> {
  const [state, setState] = useState<{ data: T | undefined; error: ApiError | undefined; loading: boolean }>({
    data: undefined,
    error: undefined,
    loading: true,
  })
  const [tick, setTick] = useState(0)
  const loadRef = useRef(load)
  loadRef.current = load
  useEffect(() => {
    const ctl = new AbortController()
    let timer: ReturnType<typeof setTimeout> | undefined
    setState((s) => ({ ...s, loading: true }))
    loadRef.current(ctl.signal).then(
      (data) => {
        if (!ctl.signal.aborted) setState({ data, error: undefined, loading: false })
      },
      (e: unknown) => {
        if (ctl.signal.aborted) return
        const error = e instanceof ApiError ? e : new ApiError(0, 'client', (e as Error)?.message ?? String(e))
        setState((s) => ({ data: s.data, error, loading: false }))
        if (error.code === 'network' || error.code === 'timeout' || error.status === 503)
          timer = setTimeout(() => setTick((t) => t + 1), Math.max(retryMs, (error.retryAfter ?? 0) * 1000))
      },
    )
    return () => {
      ctl.abort()
      if (timer) clearTimeout(timer)
    }
  }, [...deps, tick])
  const reload = useCallback(() => setTick((t) => t + 1), [])
  return { ...state, reload }
}
