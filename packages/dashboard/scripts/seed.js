// A deterministic store for the dashboard's browser tests, screenshots and benchmarks: two models
// (a tabular classifier with an A/B split and a shadow, a chat model with internals), feedback
// late, early and missing, an alert rule, and two oversized events. Everything through the HTTP API.

/** A small seeded PRNG (mulberry32): the same store every run. */
export function rng(seed) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** One API call; a 5xx (e.g. SQLite busy while a consumer migrates) is retried a few times (re-sending is safe). */
async function call(url, method, path, body, headers = {}) {
  for (let attempt = 1; ; attempt++) {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
    const text = await res.text()
    if ((res.status >= 500 || res.status === 408) && attempt < 6) {
      await new Promise((r) => setTimeout(r, 200 * attempt))
      continue
    }
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 300)}`)
    return text ? JSON.parse(text) : undefined
  }
}

function f32base64(values) {
  return Buffer.from(new Float32Array(values).buffer).toString('base64')
}

/** Events of the tabular classifier `churn-clf` (3.2.0 on arm a, 3.3.0 on arm b) and its shadow 4.0.0-rc. */
export function churnEvents(n, now, rand = rng(7)) {
  const events = []
  const feedback = []
  for (let i = 0; i < n; i++) {
    const ts = new Date(now - 23 * 3600_000 + Math.floor((i / n) * 22.5 * 3600_000)).toISOString()
    const arm = i % 2 === 0 ? 'a' : 'b'
    const version = arm === 'a' ? '3.2.0' : '3.3.0'
    const tenure = Math.floor(rand() * 60) + (i > n / 2 ? 12 : 0)
    const spend = Math.round((20 + rand() * 80) * 100) / 100
    const plan = ['basic', 'pro', 'team'][Math.floor(rand() * 3)]
    const z = 1.5 - tenure / 20 + (plan === 'basic' ? 0.6 : 0) + spend / 200
    const score = Math.round((1 / (1 + Math.exp(-z))) * 1000) / 1000
    const id = `churn-${String(i).padStart(4, '0')}`
    const error = i % 37 === 5
    const inference = 4 + rand() * 10
    const e = {
      id,
      ts,
      model: { name: 'churn-clf', version, digest: `sha256:${version.replace(/\./g, '')}aa11bb22cc33`, params: { threshold: 0.5 }, endpoint: 'predict' },
      input: { tenure_months: tenure, plan, monthly_spend: spend, region: i % 3 === 0 ? 'eu' : 'us' },
      latency_ms: { pre: 1.2 + rand(), inference, post: 0.4 + rand() * 0.5, total: inference + 2.5 },
      usage: { cost_usd: 0.0004 },
      trace: { session_id: `s-${Math.floor(i / 4)}`, user_id: `u-${i % 17}` },
      context: { experiment: { name: 'churn-ab', arm }, entities: { customer_tier: plan }, tags: { region: i % 3 === 0 ? 'eu' : 'us' } },
      internals: {
        attributions: { tenure_months: -tenure / 20, monthly_spend: spend / 200, plan: plan === 'basic' ? 0.6 : -0.1 },
        decision_path: [
          { node: 0, feature: 'tenure_months', threshold: 12, value: tenure, went: tenure <= 12 ? 'left' : 'right' },
          { node: tenure <= 12 ? 1 : 2, feature: 'monthly_spend', threshold: 55, value: spend, went: spend <= 55 ? 'left' : 'right' },
          { node: 5, value: score },
        ],
      },
    }
    if (error) {
      e.status = 'error'
      e.error = { type: 'TimeoutError', message: 'feature store did not answer in 50 ms' }
    } else e.output = { churn: score >= 0.5, score }
    events.push(e)
    if (!error && i % 5 !== 0) {
      const truth = rand() < score * 0.9 + 0.05
      feedback.push({
        id: `fb-${id}`,
        event_id: id,
        name: 'label',
        value: truth,
        source: { type: 'system', id: 'billing' },
        ts: new Date(Date.parse(ts) + 3600_000).toISOString(),
      })
    }
    if (!error && i % 6 === 0) {
      const s2 = Math.min(1, Math.max(0, score + (rand() - 0.5) * 0.4))
      events.push({
        id: `${id}-shadow`,
        ts,
        shadow_of: id,
        model: { name: 'churn-clf', version: '4.0.0-rc', stage: 'shadow' },
        input: e.input,
        output: { churn: s2 >= 0.5, score: Math.round(s2 * 1000) / 1000 },
        latency_ms: { total: inference * 1.4 },
      })
    }
  }
  return { events, feedback }
}

/** Events of the chat model `support-bot` with token log-probabilities, an embedding and attention. */
export function chatEvents(n, now, rand = rng(11)) {
  const events = []
  const feedback = []
  const words = ['Your', ' order', ' ships', ' tomorrow', '.', ' You', ' can', ' track', ' it', ' from', ' the', ' account', ' page', '.']
  for (let i = 0; i < n; i++) {
    const ts = new Date(now - 20 * 3600_000 + i * 600_000).toISOString()
    const id = `chat-${String(i).padStart(3, '0')}`
    const tokens = words.slice(0, 6 + (i % 8))
    const lps = tokens.map((_, k) => -Math.abs(rand() * (k === 3 ? 3 : 0.6)))
    events.push({
      id,
      ts,
      model: { name: 'support-bot', version: 'gpt-x-2026-01', params: { temperature: 0.2, max_tokens: 256 } },
      input: [
        { role: 'system', content: 'You are a helpful support agent. Answer briefly.' },
        { role: 'user', content: i % 2 ? 'Where is my order #1234?' : 'When will my parcel arrive?' },
      ],
      output: { role: 'assistant', content: tokens.join('') },
      latency_ms: (() => {
        const inference = 380 + rand() * 200
        return { pre: 12 + rand() * 5, inference, ttft: 120 + rand() * 50, total: inference + 30 }
      })(),
      usage: { input_tokens: 42, output_tokens: tokens.length, cost_usd: 0.0021 },
      trace: { session_id: `chat-session-${Math.floor(i / 3)}`, trace_id: `4bf92f3577b34da6a3ce929d0e0e${String(4736 + i).padStart(4, '0')}` },
      internals: {
        token_logprobs: {
          tokens,
          logprobs: { dtype: 'float32', shape: [tokens.length], data: f32base64(lps) },
          top: tokens.map((t, k) => [
            { token: t, logprob: lps[k] },
            { token: ' soon', logprob: lps[k] - 1.1 },
            { token: ' today', logprob: lps[k] - 2.3 },
          ]),
        },
        embedding: { dtype: 'float32', shape: [64], data: f32base64(Array.from({ length: 64 }, () => rand() * 2 - 1)) },
        attention: {
          dtype: 'float32',
          shape: [2, tokens.length, tokens.length],
          data: Array.from({ length: 2 * tokens.length * tokens.length }, (_, k) => {
            const q = Math.floor(k / tokens.length) % tokens.length
            const kk = k % tokens.length
            return kk <= q ? Math.round((1 / (1 + q - kk)) * 1000) / 1000 : 0
          }),
        },
      },
    })
    if (i % 3 === 0)
      feedback.push({ id: `thumbs-${id}`, event_id: id, name: 'thumbs', value: i % 2 ? -1 : 1, source: { type: 'user', id: `u-${i}` }, ts: new Date(Date.parse(ts) + 90_000).toISOString() })
  }
  // Feedback that arrived before its event (a client clock ahead, or a queue that reordered).
  feedback.push({
    id: 'early-chat-000',
    event_id: 'chat-000',
    name: 'rating',
    value: 4,
    source: { type: 'user' },
    ts: new Date(Date.parse(events[0].ts) - 5_000).toISOString(),
    comment: 'sent before the event was logged',
  })
  return { events, feedback }
}

/** Two oversized events: a 1 MiB input, and a 50 000-token log-probability tensor. */
export function hugeEvents(now) {
  const big = 'x'.repeat(1_000_000)
  const n = 50_000
  const rand = rng(3)
  const tokens = Array.from({ length: n }, (_, i) => ['the', ' cat', ' sat', ' on', ' a', ' mat', '.', '\n'][i % 8])
  const lps = Array.from({ length: n }, () => -Math.abs(rand() * 2.5))
  return [
    {
      id: 'huge-input',
      ts: new Date(now - 3_600_000).toISOString(),
      model: { name: 'support-bot', version: 'gpt-x-2026-01' },
      input: { document: big },
      output: { summary: 'a very long document' },
    },
    {
      id: 'huge-logprobs',
      ts: new Date(now - 3_500_000).toISOString(),
      model: { name: 'support-bot', version: 'gpt-x-2026-01' },
      input: [{ role: 'user', content: 'Write a long story.' }],
      output: { role: 'assistant', content: tokens.join('') },
      internals: {
        token_logprobs: {
          tokens,
          logprobs: { dtype: 'float32', shape: [n], data: f32base64(lps) },
          top: tokens.slice(0, 200).map((t, k) => [
            { token: t, logprob: lps[k] },
            { token: ' dog', logprob: lps[k] - 1 },
          ]),
        },
      },
    },
  ]
}

/**
 * Seeds a running collector at `url` (open mode, or `headers` with a key): the models above, their
 * feedback, a label declaration and an alert rule. Returns the ids it wrote. Default sizes: 240
 * churn events, 24 chat events.
 */
export async function seedDashboard(url, o = {}) {
  const now = o.now ?? Date.now()
  const headers = o.headers ?? {}
  const churn = churnEvents(o.churn ?? 240, now)
  const chat = chatEvents(o.chat ?? 24, now)
  await call(url, 'PUT', '/v1/models/churn-clf', { labels: { label: { output: 'churn', type: 'boolean' } }, dimensions: ['entity.customer_tier'], monitored_fields: ['input.tenure_months', 'input.plan'] }, headers)
  for (const batch of [churn.events, chat.events]) await call(url, 'POST', '/v1/events', batch, headers)
  if (o.huge !== false) for (const e of hugeEvents(now)) await call(url, 'POST', '/v1/events', e, headers)
  await call(url, 'POST', '/v1/feedback', [...churn.feedback, ...chat.feedback], headers)
  await call(
    url,
    'PUT',
    '/v1/alerts/rules',
    {
      rules: [
        { id: 'churn-errors', name: 'churn-clf error rate', condition: { type: 'metric', metric: 'error_rate', filter: { model: 'churn-clf' } }, window: '1d', operator: '>', threshold: 0.01, min_samples: 10 },
        { id: 'churn-p99', name: 'churn-clf p99 latency', condition: { type: 'metric', metric: 'latency_ms.total.p99', filter: { model: 'churn-clf' } }, window: '1d', operator: '>', threshold: 1000, min_samples: 10 },
      ],
    },
    headers,
  )
  return { churn: churn.events.map((e) => e.id), chat: chat.events.map((e) => e.id) }
}

/** Waits until the metrics consumer has aggregated at least `count` events of `model`. */
export async function waitAggregated(url, model, count, headers = {}, timeoutMs = 60_000) {
  const until = Date.now() + timeoutMs
  for (;;) {
    const r = await call(url, 'GET', `/v1/metrics?model=${encodeURIComponent(model)}&bucket=all&from=${Date.now() - 30 * 86_400_000}&to=${Date.now() + 86_400_000}`, undefined, headers)
    const n = (r.series ?? []).reduce((a, s) => a + s.points.reduce((b, p) => b + p.n, 0), 0)
    if (n >= count) return n
    if (Date.now() > until) throw new Error(`only ${n} of ${count} ${model} events aggregated after ${timeoutMs} ms`)
    await new Promise((res) => setTimeout(res, 200))
  }
}
