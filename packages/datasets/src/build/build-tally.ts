import { IdDigest, Tally } from './manifest.js'
import { MembersFile } from './members-file.js'

/** What a build counts of the rows it writes: per split (rows, labels, event ids), labels, models, the members file. */
export class BuildTally {
  readonly splits: Map<string, { rows: number; labels: Tally; ids: IdDigest }>
  readonly labels = new Tally()
  readonly models = new Tally()
  readonly #members: MembersFile
  written = 0

  constructor(splitNames: readonly string[], membersPath: string) {
    this.splits = new Map(splitNames.map((s) => [s, { rows: 0, labels: new Tally(), ids: new IdDigest() }]))
    this.#members = new MembersFile(membersPath)
  }

  /** One event that produced `n` (> 0) output rows. */
  add(id: string, batch: number, split: string, labelKey: string | undefined, modelKey: string, n: number): void {
    this.written += n
    const s = this.splits.get(split)!
    s.rows += n
    s.ids.add(id, batch)
    this.#members.add(id, split)
    if (labelKey !== undefined) {
      s.labels.add(labelKey, n)
      this.labels.add(labelKey, n)
    }
    this.models.add(modelKey, n)
  }

  /** Syncs and closes the members file. */
  close(): void {
    this.#members.close()
  }
}
