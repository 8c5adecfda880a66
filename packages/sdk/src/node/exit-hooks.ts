const SIGNALS = ['SIGTERM', 'SIGINT'] as const

/**
 * Flushes on `beforeExit` (when the event loop runs dry with items still queued) and on SIGTERM
 * and SIGINT. Listening to a signal replaces Node's default "exit now", so after the flush (or
 * `timeoutMs`) the signal is raised again once no other listener is left: the process still dies
 * of the signal it was sent, and an app with its own handler keeps control of its shutdown.
 * @returns a function that removes the hooks (idempotent).
 */
export function installExitHooks(flush: (timeoutMs: number) => Promise<void>, hasPending: () => boolean, timeoutMs: number): () => void {
  let installed = true
  const onBeforeExit = () => {
    // Each flush schedules I/O, so beforeExit fires again after it; it ends once nothing is pending.
    if (hasPending()) void flush(timeoutMs)
  }
  const handlers = new Map<string, () => void>()
  for (const sig of SIGNALS) {
    const h = () => {
      void flush(timeoutMs).finally(() => {
        process.removeListener(sig, h)
        handlers.delete(sig)
        if (process.listenerCount(sig) === 0) process.kill(process.pid, sig)
      })
    }
    handlers.set(sig, h)
    process.once(sig, h)
  }
  process.on('beforeExit', onBeforeExit)
  return () => {
    if (!installed) return
    installed = false
    process.removeListener('beforeExit', onBeforeExit)
    for (const [sig, h] of handlers) process.removeListener(sig, h)
    handlers.clear()
  }
}
