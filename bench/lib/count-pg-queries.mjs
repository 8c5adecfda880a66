// Diagnostic preload (node --import): counts pg queries by their first words, dumped every 10 s to /tmp/pgq-PID.log.
import fs from 'node:fs'
import pg from 'pg'
const counts = new Map()
const orig = pg.Client.prototype.query
pg.Client.prototype.query = function (config, values, cb) {
  const text = typeof config === 'string' ? config : config?.text
  if (text) {
    const k = text.replace(/\s+/g, ' ').slice(0, 70)
    counts.set(k, (counts.get(k) ?? 0) + 1)
  }
  return orig.call(this, config, values, cb)
}
setInterval(() => {
  const top = [...counts].sort((a, b) => b[1] - a[1]).slice(0, 25)
  fs.writeFileSync(`/tmp/pgq-${process.pid}.log`, top.map(([k, n]) => `${n}\t${k}`).join('\n') + '\n')
}, 10_000).unref()
