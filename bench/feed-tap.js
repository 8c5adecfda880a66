// What the commit tap costs the writer per event (plain, tap) against reading the same batches back
// (`readBatches`), in-process on an inline SQLite store
// (1000 events of ~1.2 KB per batch, 40 batches, synchronous OFF so fsync does not blur it), two rounds.
//   npm run build && node bench/feed-tap.js
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
const s = await import(new URL('../packages/server/dist/index.js', import.meta.url).href)
const body = (id) =>
  JSON.stringify({
    id,
    ts: new Date().toISOString(),
    model: { name: 'm', version: '1' },
    input: { text: 'x'.repeat(1000), n: 5 },
    output: { score: 0.5 },
  })
let n = 0
const batch = () => ({
  events: Array.from({ length: 1000 }, () => {
    const id = `e${n++}`
    return {
      project: 'p',
      id,
      tsMs: 1e12 + n,
      receivedMs: 1e12 + n,
      model: 'm',
      version: '1',
      stage: 'primary',
      status: 'ok',
      sessionId: null,
      userId: null,
      arm: null,
      shadowOf: null,
      body: body(id),
    }
  }),
  feedback: [],
})
const cpu = () => {
  const u = process.cpuUsage()
  return u.user + u.system
}
for (const round of [1, 2])
  for (const mode of ['plain', 'tap']) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tapbench-'))
    const store = new s.SqliteStore({ filename: path.join(dir, 't.db'), lookupIndexIntervalMs: 0, synchronous: 'OFF' })
    await store.migrate()
    let got = 0
    if (mode !== 'plain')
      store.tapCommits((b) => {
        got += b.events.length
      })
    const batches = Array.from({ length: 40 }, batch)
    const c0 = cpu()
    for (const b of batches) await store.writeBatch(b)
    const w = cpu() - c0
    const r0 = cpu()
    let at = 0,
      rows = 0
    for (;;) {
      const bs = await store.readBatches(at, { maxBatches: 20 })
      if (!bs.length) break
      for (const b of bs) rows += b.events.length
      at = bs[bs.length - 1].position
    }
    const rd = cpu() - r0
    console.log(
      `round ${round} ${mode.padEnd(10)} write ${(w / 40000).toFixed(1)} µs/ev, read-back ${(rd / rows).toFixed(1)} µs/ev (handed ${got})`,
    )
    await store.close()
    fs.rmSync(dir, { recursive: true, force: true })
  }
