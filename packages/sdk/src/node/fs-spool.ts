import fs from 'node:fs/promises'
import path from 'node:path'
import type { Payload, Spool, SpoolEntry } from '../core/platform.js'

/** Options of {@link FsSpool}. */
export interface FsSpoolOptions {
  dir: string
  /** Size cap of the directory's batch files. */
  maxBytes: number
  /** fsync each file before it counts as spooled. */
  fsync: boolean
}

// <ms:15>-<seq:8>-<pid>-<e|f><count>.ndjson[.gz]: names sort oldest first, across processes too.
const NAME = /^(\d{15})-(\d{8})-(\d+)-([ef])(\d+)\.ndjson(\.gz)?$/

function parse(name: string, bytes: number): SpoolEntry | undefined {
  const m = NAME.exec(name)
  if (!m) return undefined
  return { name, kind: m[4] === 'e' ? 'event' : 'feedback', count: Number(m[5]), bytes, encoding: m[6] ? 'gzip' : 'identity' }
}

/**
 * The disk spool: one file per batch (the encoded request body, exactly as it would be sent),
 * written to a temporary name, fsynced and renamed, so a crash leaves either the whole batch or
 * nothing. Bounded by `maxBytes`: the oldest batches are evicted first. Loaded again on start, so
 * batches spooled by a process that died are replayed by the next one.
 *
 * Several processes may share a directory (a re-send is a no-op at the collector), but each
 * counts only what it spooled or evicted itself.
 */
export class FsSpool implements Spool {
  private entries: SpoolEntry[] = []
  private bytes = 0
  private items = 0
  private seq = 0
  private readonly pinned = new Set<string>()
  private opened: Promise<void> | undefined

  constructor(private readonly o: FsSpoolOptions) {}

  open(): Promise<void> {
    return (this.opened ??= this.load())
  }

  private async load(): Promise<void> {
    await fs.mkdir(this.o.dir, { recursive: true })
    const names = (await fs.readdir(this.o.dir)).sort()
    for (const name of names) {
      const file = path.join(this.o.dir, name)
      if (name.endsWith('.tmp')) {
        // A write interrupted by a crash: never acknowledged as spooled, so nothing is lost by removing it.
        await fs.rm(file, { force: true })
        continue
      }
      let size: number
      try {
        size = (await fs.stat(file)).size
      } catch {
        continue
      }
      const e = parse(name, size)
      if (!e) continue
      this.entries.push(e)
      this.bytes += e.bytes
      this.items += e.count
    }
  }

  head(): SpoolEntry | undefined {
    return this.entries[0]
  }

  size(): { entries: number; items: number; bytes: number } {
    return { entries: this.entries.length, items: this.items, bytes: this.bytes }
  }

  pin(entry: SpoolEntry, pinned: boolean): void {
    if (pinned) this.pinned.add(entry.name)
    else this.pinned.delete(entry.name)
  }

  async write(p: Payload): Promise<{ evicted: number; stored: boolean }> {
    await this.open()
    const size = p.body.byteLength
    if (size > this.o.maxBytes) return { evicted: p.count, stored: false }
    let evicted = 0
    while (this.bytes + size > this.o.maxBytes) {
      const victim = this.entries.find((e) => !this.pinned.has(e.name))
      if (!victim) break
      await this.forget(victim)
      evicted += victim.count
    }
    const name =
      `${String(Date.now()).padStart(15, '0')}-${String(this.seq++ % 1e8).padStart(8, '0')}-${process.pid}-` +
      `${p.kind === 'event' ? 'e' : 'f'}${p.count}.ndjson${p.encoding === 'gzip' ? '.gz' : ''}`
    const file = path.join(this.o.dir, name)
    const tmp = `${file}.tmp`
    const fh = await fs.open(tmp, 'w')
    try {
      await fh.writeFile(p.body)
      if (this.o.fsync) await fh.sync()
    } finally {
      await fh.close()
    }
    await fs.rename(tmp, file)
    this.entries.push({ name, kind: p.kind, count: p.count, bytes: size, encoding: p.encoding })
    this.bytes += size
    this.items += p.count
    return { evicted, stored: true }
  }

  async read(entry: SpoolEntry): Promise<Payload> {
    const body = await fs.readFile(path.join(this.o.dir, entry.name))
    return { kind: entry.kind, body, encoding: entry.encoding, count: entry.count }
  }

  async remove(entry: SpoolEntry): Promise<void> {
    await this.forget(entry)
  }

  private async forget(entry: SpoolEntry): Promise<void> {
    const i = this.entries.indexOf(entry)
    if (i === -1) return
    this.entries.splice(i, 1)
    this.bytes -= entry.bytes
    this.items -= entry.count
    await fs.rm(path.join(this.o.dir, entry.name), { force: true })
  }
}
