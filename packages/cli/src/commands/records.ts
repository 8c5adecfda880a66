import { clientFrom, printJson, type ClientFlags, type Io } from '../common.js'

/** `inferlog get ID`: the event with its feedback and shadows. */
export async function getCommand(id: string, f: ClientFlags, io: Io): Promise<number> {
  const { json } = await clientFrom(f, process.env, io).request('GET', `/v1/events/${encodeURIComponent(id)}`)
  printJson(io, json, f.json)
  return 0
}

/** Flags of `inferlog query`. */
export interface QueryFlags extends ClientFlags {
  model?: string
  version?: string
  stage?: string
  status?: string
  from?: string
  to?: string
  sessionId?: string
  userId?: string
  arm?: string
  hasFeedback?: string
  feedback?: string
  limit?: string
  cursor?: string
}

/** `inferlog query [filters]`: one page of events, newest first. */
export async function queryCommand(f: QueryFlags, io: Io): Promise<number> {
  const params = new URLSearchParams()
  const map: [keyof QueryFlags, string][] = [
    ['model', 'model'],
    ['version', 'version'],
    ['stage', 'stage'],
    ['status', 'status'],
    ['from', 'from'],
    ['to', 'to'],
    ['sessionId', 'session_id'],
    ['userId', 'user_id'],
    ['arm', 'arm'],
    ['hasFeedback', 'has_feedback'],
    ['feedback', 'feedback'],
    ['limit', 'limit'],
    ['cursor', 'cursor'],
  ]
  for (const [flag, param] of map) {
    const v = f[flag]
    if (typeof v === 'string') params.set(param, v)
  }
  const qs = params.toString()
  const { json } = await clientFrom(f, process.env, io).request<{ items: Record<string, unknown>[]; next_cursor: string | null }>(
    'GET',
    `/v1/events${qs ? `?${qs}` : ''}`,
  )
  if (f.json) {
    printJson(io, json, true)
    return 0
  }
  for (const e of json.items) {
    const m = e.model as { name: string; version: string }
    io.out(`${e.ts}  ${e.id}  ${m.name}@${m.version}  ${(e.status as string | undefined) ?? 'ok'}`)
  }
  io.out(json.next_cursor ? `-- more: --cursor ${json.next_cursor}` : `-- ${json.items.length} event(s)`)
  return 0
}

/** Flags of `inferlog feedback`. */
export interface FeedbackFlags extends ClientFlags {
  kind?: string
  source?: string
  comment?: string
  id?: string
}

/** Reads a CLI value: JSON when it parses (numbers, booleans, objects), else the plain string. */
export function parseValue(v: string): unknown {
  try {
    return JSON.parse(v)
  } catch {
    return v
  }
}

/** `inferlog feedback EVENT_ID NAME VALUE`. */
export async function feedbackCommand(eventId: string, name: string, value: string, f: FeedbackFlags, io: Io): Promise<number> {
  const item: Record<string, unknown> = { event_id: eventId, name, value: parseValue(value) }
  if (f.kind) item.kind = f.kind
  if (f.source) item.source = { type: f.source }
  if (f.comment) item.comment = f.comment
  if (f.id) item.id = f.id
  const { json } = await clientFrom(f, process.env, io).request<{
    accepted: number
    duplicates: number
    ids: (string | null)[]
    rejected: { code: string; message: string }[]
  }>('POST', '/v1/feedback', JSON.stringify(item))
  if (f.json) printJson(io, json, true)
  const r = json.rejected[0]
  if (r) {
    if (!f.json) io.err(`inferlog: feedback rejected: ${r.code}: ${r.message}`)
    return 1
  }
  if (!f.json) io.out(`${json.duplicates ? 'already recorded' : 'recorded'} feedback ${json.ids[0]} on event ${eventId}`)
  return 0
}
