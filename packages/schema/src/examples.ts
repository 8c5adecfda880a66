import type { InferenceEvent } from './event.js'
import type { FeedbackItem } from './feedback.js'
import { encodeTensor } from './tensor-codec.js'

/**
 * A fully populated event: every seed component (payloads, model context, request metadata,
 * internals with a float32 and an int8 tensor, feedback attachment id, business context).
 * Used by the docs and the round-trip tests.
 */
export function fullExampleEvent(id = '01935f2e-8a4b-7c3d-9e1f-0a1b2c3d4e5f'): InferenceEvent {
  return {
    id,
    schema: 'inferlog.event/v1',
    ts: '2026-11-26T18:59:15.123456Z',
    model: {
      name: 'support-assistant',
      version: '3.2.0',
      digest: 'sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
      params: { temperature: 0.2, top_p: 0.95, max_tokens: 256, stop: ['\n\n'] },
      endpoint: 'https://serving.internal/v1/chat',
      stage: 'primary',
    },
    input: {
      messages: [
        { role: 'system', content: 'You are a helpful support agent.' },
        { role: 'user', content: 'Où est ma commande n° 1234 ? 📦' },
      ],
    },
    output: { role: 'assistant', content: 'Your order 1234 ships tomorrow.', finish_reason: 'stop' },
    candidates: [
      { output: 'Your order 1234 ships tomorrow.', score: 0.91 },
      { output: 'I cannot find that order.', score: 0.09 },
    ],
    internals: {
      embedding: encodeTensor(new Float32Array([0.25, -1.5, 3.125, 1e-7, -0, 65504])),
      logits_q: { dtype: 'int8', shape: [2, 3], data: [-128, -1, 0, 1, 64, 127] },
      token_logprobs: [
        { token: 'Your', logprob: -0.01, top: [{ token: 'The', logprob: -4.2 }] },
        { token: ' order', logprob: -0.002 },
      ],
      decision_path: ['root', 'intent=order_status', 'leaf:answer'],
    },
    latency_ms: { total: 412.5, pre: 3.1, inference: 401.2, post: 8.2, ttft: 95.4 },
    usage: { input_tokens: 42, output_tokens: 9, cost_usd: 0.000153, compute_ms: 398 },
    trace: {
      trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
      span_id: '00f067aa0ba902b7',
      parent_span_id: 'a3ce929d0e0e4736',
      session_id: 'sess-42',
      user_id: 'u_5f2c1e',
      downstream: ['ticketing', 'email-sender'],
    },
    context: {
      entities: { order_id: '1234', customer_tier: 'gold' },
      raw_input: 'Où est ma commande n° 1234 ? 📦',
      feature_pipeline: 'fp-2026.11.2',
      experiment: { name: 'prompt-v7', arm: 'treatment' },
      tags: { region: 'eu-west', beta: true, shard: 3 },
    },
    status: 'ok',
    sample_rate: 0.5,
  }
}

/** A minimal valid event, handy for tests and examples. */
export function minimalExampleEvent(overrides: Partial<InferenceEvent> = {}): InferenceEvent {
  return { model: { name: 'churn-clf', version: '1.0.0' }, input: { tenure: 12 }, output: { churn: 0.27 }, ...overrides }
}

/** A feedback item for {@link fullExampleEvent}. */
export function exampleFeedback(eventId: string, overrides: Partial<FeedbackItem> = {}): FeedbackItem {
  return { event_id: eventId, name: 'thumbs', value: -1, kind: 'explicit', source: { type: 'user', id: 'u_5f2c1e' }, ...overrides }
}
