// A local stand-in for the OpenAI API, for tests and benchmarks of the OpenAI integrations and the
// proxy. Behaviour is chosen by the request's `model`:
//   fail-400 / fail-429 / fail-500 / fail-503  reply with that status and OpenAI's error body
//   hang                                        never answers (timeouts)
//   slow-stream                                 streams with `chunkDelayMs` (default 50 ms) between chunks
//   tools                                       answers with a tool call
//   gated-stream                                streams two chunks, then waits for `release()`
// anything else answers normally. Plain JavaScript so the benchmark can run it without a build.
import http from 'node:http'

const WORDS = ['Hello', ' from', ' the', ' fake', ' model', '.']
const TEXT = WORDS.join('')

function errorBody(status) {
  const type = status === 429 ? 'rate_limit_exceeded' : status >= 500 ? 'server_error' : 'invalid_request_error'
  return { error: { message: `fake upstream answered ${status}`, type, param: null, code: status === 429 ? 'rate_limit_exceeded' : null } }
}

function logprobsFor(words) {
  return words.map((w, i) => ({
    token: w,
    logprob: -0.1 * (i + 1),
    bytes: null,
    top_logprobs: [
      { token: w, logprob: -0.1 * (i + 1), bytes: null },
      { token: '?', logprob: -3, bytes: null },
    ],
  }))
}

function usage(req) {
  return { prompt_tokens: 11, completion_tokens: WORDS.length, total_tokens: 11 + WORDS.length }
}

function chatCompletion(req) {
  const n = req.n ?? 1
  const tools = req.model === 'tools' || (Array.isArray(req.tools) && req.tools.length > 0)
  const choices = []
  for (let i = 0; i < n; i++) {
    const message = tools
      ? {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }],
        }
      : { role: 'assistant', content: i === 0 ? TEXT : `${TEXT} (${i})`, refusal: null }
    choices.push({
      index: i,
      message,
      finish_reason: tools ? 'tool_calls' : 'stop',
      logprobs: req.logprobs ? { content: logprobsFor(WORDS), refusal: null } : null,
    })
  }
  return { id: 'chatcmpl-fake', object: 'chat.completion', created: 1700000000, model: `${req.model}-2024-08-06`, choices, usage: usage(req) }
}

function* chatChunks(req) {
  const base = { id: 'chatcmpl-fake', object: 'chat.completion.chunk', created: 1700000000, model: `${req.model}-2024-08-06` }
  const tools = req.model === 'tools' || (Array.isArray(req.tools) && req.tools.length > 0)
  yield { ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] }
  if (tools) {
    yield {
      ...base,
      choices: [
        { index: 0, delta: { tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '' } }] } },
      ],
    }
    yield { ...base, choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] } }] }
    yield { ...base, choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] } }] }
    yield { ...base, choices: [{ index: 0, delta: {}, finish_reason: 'tool_calls' }] }
  } else {
    const lps = logprobsFor(WORDS)
    for (let i = 0; i < WORDS.length; i++) {
      yield {
        ...base,
        choices: [{ index: 0, delta: { content: WORDS[i] }, finish_reason: null, logprobs: req.logprobs ? { content: [lps[i]] } : null }],
      }
    }
    yield { ...base, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }
  }
  if (req.stream_options?.include_usage) yield { ...base, choices: [], usage: usage(req) }
}

function completion(req) {
  return {
    id: 'cmpl-fake',
    object: 'text_completion',
    created: 1700000000,
    model: req.model,
    choices: [{ index: 0, text: TEXT, finish_reason: 'stop', logprobs: null }],
    usage: usage(req),
  }
}

function* completionChunks(req) {
  for (const w of WORDS) {
    yield { id: 'cmpl-fake', object: 'text_completion', created: 1700000000, model: req.model, choices: [{ index: 0, text: w, finish_reason: null }] }
  }
  yield { id: 'cmpl-fake', object: 'text_completion', created: 1700000000, model: req.model, choices: [{ index: 0, text: '', finish_reason: 'stop' }] }
}

function responseObject(req, status = 'completed') {
  const tools = req.model === 'tools' || (Array.isArray(req.tools) && req.tools.length > 0)
  const output = tools
    ? [{ type: 'function_call', id: 'fc_1', call_id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}', status: 'completed' }]
    : [
        {
          type: 'message',
          id: 'msg_1',
          status: 'completed',
          role: 'assistant',
          content: [{ type: 'output_text', text: TEXT, annotations: [], logprobs: [] }],
        },
      ]
  return {
    id: 'resp_fake',
    object: 'response',
    created_at: 1700000000,
    status,
    model: `${req.model}-2024-08-06`,
    output: status === 'completed' ? output : [],
    usage: { input_tokens: 11, output_tokens: WORDS.length, total_tokens: 11 + WORDS.length },
  }
}

function* responseEvents(req) {
  let seq = 0
  yield { type: 'response.created', sequence_number: seq++, response: responseObject(req, 'in_progress') }
  for (const w of WORDS) {
    yield { type: 'response.output_text.delta', sequence_number: seq++, item_id: 'msg_1', output_index: 0, content_index: 0, delta: w }
  }
  yield { type: 'response.completed', sequence_number: seq++, response: responseObject(req) }
}

function embeddings(req) {
  const inputs = Array.isArray(req.input) ? req.input : [req.input]
  const data = inputs.map((_, i) => {
    const v = [0.1 * (i + 1), 0.2, 0.3, 0.4]
    const embedding = req.encoding_format === 'base64' ? Buffer.from(new Float32Array(v).buffer).toString('base64') : v
    return { object: 'embedding', index: i, embedding }
  })
  return { object: 'list', data, model: req.model, usage: { prompt_tokens: 4 * inputs.length, total_tokens: 4 * inputs.length } }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

/**
 * Starts the fake upstream on a free loopback port.
 * @param {{chunkDelayMs?: number}} [options]
 * @returns {Promise<{url: string, baseURL: string, requests: {method: string, path: string, headers: Record<string, string | string[] | undefined>, body: any}[], aborted: () => number, release: () => void, close: () => Promise<void>}>}
 */
export async function startFakeOpenAI(options = {}) {
  const chunkDelayMs = options.chunkDelayMs ?? 50
  const requests = []
  let aborted = 0
  let gate
  let opened = new Promise((r) => (gate = r))
  const server = http.createServer((req, res) => {
    const chunks = []
    req.on('data', (c) => chunks.push(c))
    req.on('end', async () => {
      let body = null
      const text = Buffer.concat(chunks).toString('utf8')
      try {
        body = text ? JSON.parse(text) : null
      } catch {
        body = text
      }
      requests.push({ method: req.method, path: req.url, headers: req.headers, body })
      const path = (req.url ?? '').split('?')[0]
      if (req.method === 'GET' && path === '/v1/models') {
        res.writeHead(200, { 'content-type': 'application/json', 'x-fake': 'models' })
        res.end(JSON.stringify({ object: 'list', data: [{ id: 'fake', object: 'model', created: 0, owned_by: 'fake' }] }))
        return
      }
      const model = String(body?.model ?? '')
      const fail = /^fail-(\d{3})$/.exec(model)
      if (fail) {
        const status = Number(fail[1])
        res.writeHead(status, { 'content-type': 'application/json', 'x-request-id': 'req_fake', ...(status === 429 ? { 'retry-after': '0' } : {}) })
        res.end(JSON.stringify(errorBody(status)))
        return
      }
      if (model === 'hang') return
      let stream
      let json
      if (path === '/v1/chat/completions') body.stream ? (stream = chatChunks(body)) : (json = chatCompletion(body))
      else if (path === '/v1/completions') body.stream ? (stream = completionChunks(body)) : (json = completion(body))
      else if (path === '/v1/responses') body.stream ? (stream = responseEvents(body)) : (json = responseObject(body))
      else if (path === '/v1/embeddings') json = embeddings(body)
      else {
        res.writeHead(404, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ error: { message: `no route ${path}`, type: 'invalid_request_error', param: null, code: null } }))
        return
      }
      if (json) {
        res.writeHead(200, { 'content-type': 'application/json', 'x-request-id': 'req_fake' })
        res.end(JSON.stringify(json))
        return
      }
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'x-request-id': 'req_fake' })
      let closed = false
      res.on('close', () => {
        if (!res.writableFinished) {
          closed = true
          aborted++
        }
      })
      const events = path === '/v1/responses'
      let n = 0
      for (const chunk of stream) {
        if (closed) return
        if (model === 'gated-stream' && n++ === 2) await opened
        res.write(events ? `event: ${chunk.type}\ndata: ${JSON.stringify(chunk)}\n\n` : `data: ${JSON.stringify(chunk)}\n\n`)
        if (model === 'slow-stream') await sleep(chunkDelayMs)
      }
      if (!events) res.write('data: [DONE]\n\n')
      res.end()
    })
  })
  server.keepAliveTimeout = 30_000
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address()
  const url = `http://127.0.0.1:${port}`
  return {
    url,
    baseURL: `${url}/v1`,
    requests,
    aborted: () => aborted,
    release: () => {
      gate()
      opened = new Promise((r) => (gate = r))
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
