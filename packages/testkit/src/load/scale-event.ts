/** Epoch ms of event 0's `ts`; event n is n ms later. */
const T0 = Date.UTC(2026, 10, 26, 12)
const FILLER = 'lorem ipsum '.repeat(8)

/** Event `n` of a load run as a model server would log it (~400 bytes of JSON). */
export function makeEvent(id: string, n: number): Record<string, unknown> {
  return {
    id,
    ts: new Date(T0 + n).toISOString(),
    model: { name: 'scale-clf', version: '2.1.0', params: { threshold: 0.5 } },
    input: { features: [n % 97, (n * 7) % 13, Math.round(Math.sin(n) * 1000) / 1000], text: `request ${n} ${FILLER}` },
    output: { label: n % 3 ? 'keep' : 'churn', score: (n % 1000) / 1000 },
    latency_ms: { total: 3 + (n % 7) },
    trace: { session_id: `s${n % 5000}`, user_id: `u${n % 20000}` },
    context: { experiment: { name: 'exp1', arm: n % 2 ? 'control' : 'treatment' } },
  }
}

/**
 * `JSON.stringify(makeEvent(id, n))`, byte for byte, written out: a benchmark's load generator
 * spends its CPU here, and the CPU it uses is measured beside the server's. `id` must need no JSON
 * escaping.
 */
export function makeEventLine(id: string, n: number): string {
  return (
    `{"id":"${id}","ts":"${new Date(T0 + n).toISOString()}","model":{"name":"scale-clf","version":"2.1.0","params":{"threshold":0.5}},` +
    `"input":{"features":[${n % 97},${(n * 7) % 13},${Math.round(Math.sin(n) * 1000) / 1000}],"text":"request ${n} ${FILLER}"},` +
    `"output":{"label":"${n % 3 ? 'keep' : 'churn'}","score":${(n % 1000) / 1000}},"latency_ms":{"total":${3 + (n % 7)}},` +
    `"trace":{"session_id":"s${n % 5000}","user_id":"u${n % 20000}"},"context":{"experiment":{"name":"exp1","arm":"${n % 2 ? 'control' : 'treatment'}"}}}`
  )
}
