import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type AppHarness, openAppHarness } from '../http/app-harness.test-suite.js'

let h: AppHarness
beforeEach(async () => {
  h = await openAppHarness()
})
afterEach(async () => {
  await h.close()
})

describe('review queues', () => {
  it('picks the least confident events, exports Label Studio tasks, imports annotations as feedback once', async () => {
    const events = Array.from({ length: 20 }, (_, i) => ({
      id: `r${i}`,
      model: { name: 'm', version: '1' },
      input: { text: `t${i}` },
      output: { score: i / 19 },
    }))
    await h.post('/v1/events', events)
    const q = await h.post('/v1/review', { queue: 'q1', label: 'label', strategy: 'least-confidence', filter: { model: 'm' }, limit: 4 })
    expect(q.status).toBe(201)
    // Scores nearest 0.5 are the least confident: 9/19 and 10/19, then 8/19 and 11/19.
    expect(q.json.items.map((x: { event_id: string }) => x.event_id).sort()).toEqual(['r10', 'r11', 'r8', 'r9'])
    expect(q.json).toMatchObject({ total: 4, labelled: 0 })
    const tasks = (await h.get('/v1/review/q1/tasks')).json
    expect(tasks).toHaveLength(4)
    expect(tasks[0].data).toMatchObject({ queue: 'q1', event_id: expect.stringMatching(/^r/) })
    const exported = [
      ...tasks.slice(0, 2).map((t: { data: { event_id: string } }, i: number) => ({
        id: i + 1,
        data: t.data,
        annotations: [{ id: 10 + i, completed_by: 7, result: [{ value: { choices: ['spam'] } }] }],
      })),
      { id: 99, data: { event_id: 'r0' }, annotations: [{ id: 1, result: [{ value: { choices: ['ham'] } }] }] },
    ]
    const imp = await h.post('/v1/review/q1/import', { tasks: exported })
    expect(imp.json).toMatchObject({ imported: 2, duplicates: 0, unknown: [{ task: 99 }] })
    expect((await h.post('/v1/review/q1/import', { tasks: exported })).json).toMatchObject({ imported: 0, duplicates: 2 })
    const progress = (await h.get('/v1/review/q1')).json
    expect(progress).toMatchObject({ total: 4, labelled: 2 })
    const fb = (await h.get(`/v1/events/${tasks[0].data.event_id}`)).json.feedback
    expect(fb).toEqual([expect.objectContaining({ name: 'label', value: 'spam', source: { type: 'annotator', id: '7' } })])
    expect((await h.get('/v1/review/nope')).status).toBe(404)
    expect((await h.post('/v1/review', { queue: 'q 2', label: 'l', strategy: 'least-confidence' })).status).toBe(400)
    expect((await h.post('/v1/review/q1/import', { tasks: { not: 'a list' } })).status).toBe(400)
  })
})
