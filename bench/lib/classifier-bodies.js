// The classifier events of the consumer benchmarks (bench/feed-consumers.js, bench/feed-ab.js):
// 10 numerical and 10 categorical input fields (all monitored, so the profiles consumer works), an
// A/B arm, latency phases, tokens, ~1 KB each, and label feedback for a share of them.
import { prng } from './bench-util.js'

export const MODEL = 'bench-clf'
const NUM = Array.from({ length: 10 }, (_, i) => `n${i}`)
const CAT = Array.from({ length: 10 }, (_, i) => `c${i}`)
/** The monitored fields: every input field. */
export const FIELDS = [...NUM, ...CAT].map((f) => `input.${f}`)

/** The model config the benches put before they ingest: the fields monitored, `label` a class label of `output.label`. */
export const MODEL_CONFIG = { monitored_fields: FIELDS, labels: { label: { output: 'label', type: 'class' } } }

/**
 * Request bodies (NDJSON buffers) of `batches` batches of 1000 events with ids `${tag}-…`: per batch
 * its events (in requests under 4 MiB, the collector's limit being 5) and its labels (`labels`,
 * undefined when none), `feedback` the share of events labelled, `internals` floats of an
 * `internals.embedding` per event (0: none).
 */
export function classifierBodies(tag, batches, { feedback = 0.3, internals = 0, seed = 11 } = {}) {
  const rng = prng(seed)
  const t0 = Date.now() - batches * 1000 - 120_000
  const out = []
  for (let b = 0; b < batches; b++) {
    const events = []
    const labels = []
    for (let j = 0; j < 1000; j++) {
      const n = b * 1000 + j
      const id = `${tag}-${n.toString(36)}`
      const input = {}
      NUM.forEach((f, i) => {
        input[f] = Math.round((rng() * 2 - 1) * 1000 + i * 100) / 100
      })
      CAT.forEach((c, i) => {
        input[c] = `v${i}_${Math.floor(rng() * [3, 5, 8, 12, 20, 30, 50, 4, 6, 100][i])}`
      })
      const score = Math.round(rng() * 1e4) / 1e4
      const pre = Math.round(rng() * 2e3) / 1e3
      const inference = Math.round((5 + rng() * 20) * 1e3) / 1e3
      events.push(
        JSON.stringify({
          id,
          ts: new Date(t0 + n).toISOString(),
          model: { name: MODEL, version: `1.${n % 3}.0`, stage: 'primary' },
          input,
          output: { label: score > 0.5 ? 'yes' : 'no', score },
          latency_ms: { total: pre + inference + 0.3, pre, inference, post: 0.3 },
          usage: { input_tokens: 40 + (n % 17), output_tokens: 3 },
          trace: { session_id: `s${n % 5000}`, user_id: `u${n % 2000}` },
          context: { experiment: { name: 'x', arm: rng() < 0.5 ? 'A' : 'B' }, tags: { region: rng() < 0.5 ? 'eu' : 'us' } },
          ...(internals > 0
            ? { internals: { embedding: Array.from({ length: internals }, () => Math.round((rng() * 2 - 1) * 1e6) / 1e6) } }
            : {}),
        }),
      )
      if (rng() < feedback) labels.push(JSON.stringify({ event_id: id, name: 'label', value: rng() < 0.5 ? 'yes' : 'no' }))
    }
    const parts = Math.ceil(events.reduce((n, e) => n + e.length + 1, 0) / (4 * 1024 * 1024))
    const per = Math.ceil(events.length / parts)
    const chunks = Array.from({ length: parts }, (_, p) => Buffer.from(`${events.slice(p * per, (p + 1) * per).join('\n')}\n`))
    out.push({ events: chunks, labels: labels.length ? Buffer.from(`${labels.join('\n')}\n`) : undefined })
  }
  return out
}

const NDJSON = { 'content-type': 'application/x-ndjson' }

/** POSTs an NDJSON body to `/v1/${kind}` of an embedded app (`createApp`'s `app.fetch`), retrying while it answers 503. */
export async function postNdjson(core, kind, body) {
  for (;;) {
    const res = await core.app.fetch(new Request(`http://bench/v1/${kind}`, { method: 'POST', headers: NDJSON, body }))
    await res.arrayBuffer()
    if (res.status === 200) return
    if (res.status !== 503) throw new Error(`${kind}: HTTP ${res.status}`)
    await new Promise((r) => setTimeout(r, 5))
  }
}
