import { Hono } from 'hono'
import { exportLog } from '../../audit/export-log.js'
import { buildInclusionProof } from '../../audit/inclusion-proof.js'
import { latestCheckpoint } from '../../audit/sealed-batches.js'
import type { Authenticator } from '../../auth/authenticator.js'
import { InferlogError } from '../../errors.js'
import type { Store } from '../../store/store.js'
import type { AppEnv } from '../app-env.js'
import { requireScope } from '../guard.js'

/**
 * `GET /v1/audit/head` (the latest signed checkpoint) and `GET /v1/audit/proof/{event_id}` (an
 * inclusion proof of one of the caller's project's events), read scope; `GET /v1/export?after=N`
 * (the sealed log after batch N as NDJSON, the operator only).
 */
export function auditRoutes(d: { auth: Authenticator; store: Store }): Hono<AppEnv> {
  const app = new Hono<AppEnv>()
  const read = requireScope(d.auth, 'read')
  app.get('/audit/head', read, async (c) => {
    // Before the chain ran once there is no table yet: the same answer as no checkpoint.
    const head = await latestCheckpoint(d.store.derived).catch(() => undefined)
    if (!head) throw new InferlogError('not_found', 'no signed checkpoint yet: the server signs one when started with --audit-key')
    return c.json(head)
  })
  app.get('/audit/proof/:id', read, async (c) => c.json(await buildInclusionProof(d.store, c.get('principal').project, c.req.param('id'))))
  app.get('/export', requireScope(d.auth, 'admin'), async (c) => {
    // Batches hold every project's rows and verify only whole: the export is the operator's.
    if (c.get('principal').keyId !== null)
      throw new InferlogError(
        'forbidden',
        'an export holds every project: run it as the operator (open mode, or inferlog export --data/--store)',
      )
    const raw = c.req.query('after') ?? '0'
    if (!/^\d+$/.test(raw)) throw new InferlogError('invalid_parameter', `after must be a batch number ≥ 0, got ${JSON.stringify(raw)}`)
    const lines = exportLog(d.store, { after: Number(raw) })
    // The first line is read before answering, so a refused export is an error reply, not a cut stream.
    const first = await lines.next()
    const enc = new TextEncoder()
    let pending: string | undefined = first.done ? undefined : `${JSON.stringify(first.value)}\n`
    const stream = new ReadableStream<Uint8Array>({
      async pull(ctl) {
        try {
          if (pending !== undefined) {
            ctl.enqueue(enc.encode(pending))
            pending = undefined
            return
          }
          // A few hundred lines per chunk: fewer, larger writes.
          let out = ''
          for (let i = 0; i < 500; i++) {
            const r = await lines.next()
            if (r.done) {
              if (out) ctl.enqueue(enc.encode(out))
              ctl.close()
              return
            }
            out += `${JSON.stringify(r.value)}\n`
          }
          ctl.enqueue(enc.encode(out))
        } catch (e) {
          ctl.error(e)
        }
      },
      async cancel() {
        await lines.return(undefined)
      },
    })
    return c.body(stream, 200, { 'content-type': 'application/x-ndjson' })
  })
  return app
}
