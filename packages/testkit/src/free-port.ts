import net from 'node:net'

/** A free TCP port on loopback (free when asked: another process may take it before it is used). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port
      s.close(() => resolve(port))
    })
  })
}

/** Whether something accepts TCP connections on `host:port` now. */
export function portOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const c = net.connect(port, host)
    c.once('connect', () => {
      c.destroy()
      resolve(true)
    })
    c.once('error', () => resolve(false))
  })
}

/** Resolves once something accepts TCP connections on the port; rejects after `timeoutMs` (default 20 000). */
export async function waitPort(port: number, timeoutMs = 20_000, host = '127.0.0.1'): Promise<void> {
  const until = Date.now() + timeoutMs
  while (!(await portOpen(port, host))) {
    if (Date.now() > until) throw new Error(`nothing listens on ${host}:${port} after ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 100))
  }
}
