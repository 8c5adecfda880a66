import fs from 'node:fs'
import http from 'node:http'
import zlib from 'node:zlib'

/** A gzip body and what it inflates to: see {@link gzipBomb}. */
export interface GzipBomb {
  body: Buffer
  inflatedBytes: number
}

/**
 * The hardening test's attack body: NDJSON of one repeated invalid event (`status: "bogus"`, so
 * nothing is ever written) inflating to about 5 MB, gzipped at level 9 to under 30 KB.
 */
export function gzipBomb(): GzipBomb {
  const line = JSON.stringify({
    model: { name: 'm', version: '1' },
    status: 'bogus',
    input: { a: [1, 2, 3], b: { c: 'x' }, features: Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`f${i}`, i / 7])) },
  })
  const inflated = Buffer.from(`${Array.from({ length: Math.ceil(5e6 / (line.length + 1)) }, () => line).join('\n')}\n`)
  return { body: zlib.gzipSync(inflated, { level: 9 }), inflatedBytes: inflated.length }
}

/**
 * `POST /v1/events` of a gzip NDJSON body on a connection of its own; resolves with the status
 * once the reply has been read to the end.
 */
export function postGzipNdjson(url: string, body: Buffer): Promise<number> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: hostname,
        port,
        method: 'POST',
        path: '/v1/events',
        agent: false,
        headers: { 'content-type': 'application/x-ndjson', 'content-encoding': 'gzip', 'content-length': body.length },
      },
      (res) => {
        res.resume()
        res.on('end', () => resolve(res.statusCode ?? 0))
      },
    )
    req.on('error', reject)
    req.end(body)
  })
}

/** A byte figure of `/proc/PID/status` (`VmRSS`, `VmHWM`, …), in bytes. */
export function procStatusBytes(pid: number, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))
  if (!m) throw new Error(`no ${field} in /proc/${pid}/status`)
  return Number(m[1]) * 1024
}
