import { closeSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs'
import { Utf8Batch } from './utf8-batch.js'

/**
 * Name of the file, beside a version's manifest, that lists the events it contains: one line
 * `EVENT_ID<TAB>SPLIT` per event that produced rows, in row order. Not a data file (not in the
 * manifest's `files`): it answers "which dataset versions contain this event" (lineage) and
 * "which versions hold an erased event" (erasure) without reading the data files.
 */
export const MEMBERS_FILE = 'members.tsv'

/** Appends member lines to a file, buffered, synced on close. */
export class MembersFile {
  readonly #fd: number
  // Bytes, not a pending string, which would keep each id (often a slice of its stored row) alive.
  readonly #pending: Utf8Batch

  constructor(path: string) {
    const fd = openSync(path, 'wx')
    this.#fd = fd
    this.#pending = new Utf8Batch((bytes) => {
      let off = 0
      while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off)
    })
  }

  add(eventId: string, split: string): void {
    // Ids with a tab or a line break cannot be listed unambiguously; JSON-quote those (they start with `"`).
    const id = /[\t\n\r"]/.test(eventId) ? JSON.stringify(eventId) : eventId
    const p = this.#pending
    p.add(id)
    p.byte(9)
    p.add(split)
    p.byte(10)
  }

  close(): void {
    this.#pending.flush()
    fsyncSync(this.#fd)
    closeSync(this.#fd)
  }
}

/** The member line key of an id (as {@link MembersFile.add} writes it). */
function memberKey(eventId: string): string {
  return /[\t\n\r"]/.test(eventId) ? JSON.stringify(eventId) : eventId
}

/**
 * The splits in which a members file lists these events: id → split. Reads the file once;
 * absent ids are left out.
 */
export function findMembers(path: string, eventIds: Iterable<string>): Map<string, string> {
  const wanted = new Map<string, string>()
  for (const id of eventIds) wanted.set(memberKey(id), id)
  const out = new Map<string, string>()
  if (wanted.size === 0) return out
  const text = readFileSync(path, 'utf8')
  if (wanted.size === 1) {
    // One id (lineage): a substring search, no line splitting.
    const [key, id] = [...wanted][0]!
    const probe = `${key}\t`
    let at = 0
    if (!text.startsWith(probe)) {
      const i = text.indexOf(`\n${probe}`)
      if (i < 0) return out
      at = i + 1
    }
    const end = text.indexOf('\n', at)
    out.set(id, text.slice(at + probe.length, end < 0 ? undefined : end))
    return out
  }
  let start = 0
  while (start < text.length) {
    let end = text.indexOf('\n', start)
    if (end < 0) end = text.length
    const tab = text.indexOf('\t', start)
    if (tab > start && tab < end) {
      const id = wanted.get(text.slice(start, tab))
      if (id !== undefined) out.set(id, text.slice(tab + 1, end))
    }
    start = end + 1
  }
  return out
}
