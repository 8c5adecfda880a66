import { randomBytes } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { DatasetError } from '../errors.js'
import { parseDatasetSpec } from '../spec/parse-spec.js'
import type { DatasetSource } from '../source/dataset-source.js'
import { type BuildDatasetOptions, buildDataset, writeManifest } from './build-dataset.js'
import type { DatasetManifest } from './manifest.js'
import { MEMBERS_FILE } from './members-file.js'

/** Options of {@link createDatasetCatalog}. */
export interface DatasetCatalogOptions {
  /** Root directory: `<dir>/<name>/<version>/` holds a version's files and `manifest.json`. */
  dir: string
}

/** Options of {@link DatasetCatalog.build}. */
export interface CatalogBuildOptions
  extends Pick<
    BuildDatasetOptions,
    'chunkSize' | 'rowGroupSize' | 'clock' | 'signal' | 'validator' | 'watermark' | 'ranges' | 'rangeCount'
  > {
  source: DatasetSource
  project: string
  /** Dataset name; wins over the spec's own `name`. Default: the spec's `name`. */
  name?: string
  spec: unknown
  /** Build only events after the latest version's watermark (that version becomes the parent); default false. */
  sinceLast?: boolean
  /**
   * Publish a version only when it has something new; default false. With it, a build whose log
   * position equals the latest version's (nothing committed since) or that writes no row throws
   * {@link DatasetError} `nothing_new` and leaves no version behind.
   */
  skipEmpty?: boolean
}

/** A version as listed. */
export interface CatalogVersion {
  id: string
  version: number
  watermark: number
  rows: number
  built_at: string
}

/** Versioned datasets on disk: what `POST /v1/datasets` and `inferlog dataset ...` sit on. */
export interface DatasetCatalog {
  /** Builds the next version of the name (1, 2, ...) → `{id: "name@N", name, version, manifest}`. */
  build(options: CatalogBuildOptions): Promise<{ id: string; name: string; version: number; manifest: DatasetManifest }>
  /** Every name with its versions, oldest first. */
  list(): { name: string; versions: CatalogVersion[] }[]
  /** A version's manifest; `not_found` when unknown. */
  get(id: string): DatasetManifest
  /**
   * Path of a file of a version (only files its manifest lists, or `manifest.json`); `not_found`
   * otherwise, `erased` for a data file of a purged version.
   */
  file(id: string, file: string): string
  /** Path of a version's members file ({@link MEMBERS_FILE}); undefined for versions built before it existed. */
  members(id: string): string | undefined
  /**
   * Deletes a version's data files and records why in its manifest (`purged`); the manifest and
   * members file stay. Idempotent: a purged version is purged again only to add to its count.
   */
  purge(id: string, note: { events: number; record: string | null; at: string }): void
}

/** True when two versions hold the same files, byte for byte (by name and SHA-256). */
function sameFiles(a: DatasetManifest, b: DatasetManifest): boolean {
  const key = (m: DatasetManifest) => m.files.map((f) => `${f.name}:${f.sha256}`).join('\n')
  return key(a) === key(b)
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/

/** Splits `name@version`; undefined when malformed. */
export function parseDatasetId(id: string): { name: string; version: number } | undefined {
  const at = id.lastIndexOf('@')
  const name = id.slice(0, at)
  const version = Number(id.slice(at + 1))
  return at > 0 && NAME.test(name) && Number.isSafeInteger(version) && version > 0 ? { name, version } : undefined
}

/**
 * Creates a catalog over a directory. Versions are numbered per name; a build runs in a hidden
 * temporary directory and is renamed into place, so concurrent builds of one name never share a
 * version (the loser takes the next number) and a failed build leaves no version behind.
 */
export function createDatasetCatalog(options: DatasetCatalogOptions): DatasetCatalog {
  const root = options.dir
  const versionsOf = (name: string): number[] => {
    const d = join(root, name)
    if (!existsSync(d)) return []
    return readdirSync(d)
      .filter((f) => /^[1-9][0-9]*$/.test(f) && existsSync(join(d, f, 'manifest.json')))
      .map(Number)
      .sort((a, b) => a - b)
  }
  const read = (name: string, version: number): DatasetManifest =>
    JSON.parse(readFileSync(join(root, name, String(version), 'manifest.json'), 'utf8')) as DatasetManifest
  const get = (id: string): DatasetManifest => {
    const p = parseDatasetId(id)
    if (!p || !existsSync(join(root, p.name, String(p.version), 'manifest.json'))) throw new DatasetError('not_found', `no dataset ${id}`)
    return read(p.name, p.version)
  }
  return {
    async build(o) {
      const spec = parseDatasetSpec(o.spec, o.validator ? { validator: o.validator } : {})
      const name = o.name ?? spec.name
      if (name === undefined || !NAME.test(name)) {
        throw new DatasetError('invalid_spec', 'a dataset needs a name', { issues: [{ path: '/name', message: 'is required' }] })
      }
      const versions = versionsOf(name)
      const latest = versions.at(-1)
      const parent = latest === undefined ? undefined : read(name, latest)
      if (o.sinceLast && !parent) throw new DatasetError('no_parent', `sinceLast: ${name} has no version yet`)
      let version = (latest ?? 0) + 1
      const { source, project, sinceLast, skipEmpty, name: _, spec: __, ...rest } = o
      if (skipEmpty && parent) {
        const head = o.watermark ?? (await source.watermark(project))
        if (head <= parent.watermark) throw new DatasetError('nothing_new', `nothing committed since ${parent.id} (log position ${head})`)
        rest.watermark = head
      }
      const staging = join(root, name, `.build-${randomBytes(6).toString('hex')}`)
      const manifest = await buildDataset({
        ...rest,
        source,
        project,
        spec,
        outDir: staging,
        name,
        id: `${name}@${version}`,
        version,
        ...(parent ? { parent } : {}),
        ...(sinceLast ? { sinceLast } : {}),
      })
      if (skipEmpty) {
        const c = manifest.counts
        const same = parent !== undefined && sameFiles(parent, manifest)
        if (c.written === 0 || same) {
          rmSync(staging, { recursive: true, force: true })
          throw new DatasetError(
            'nothing_new',
            same
              ? `the files are byte-identical to ${parent!.id}'s (log position ${manifest.watermark})`
              : `no new rows: ${c.scanned} events scanned, ${c.selected} selected, none written (log position ${manifest.watermark})`,
          )
        }
      }
      try {
        for (let attempt = 0; ; attempt++) {
          try {
            renameSync(staging, join(root, name, String(version)))
            break
          } catch (e) {
            const code = (e as NodeJS.ErrnoException).code
            if ((code !== 'ENOTEMPTY' && code !== 'EEXIST') || attempt > 100) throw e
            version++
            manifest.id = `${name}@${version}`
            manifest.version = version
            writeManifest(staging, manifest)
          }
        }
      } catch (e) {
        rmSync(staging, { recursive: true, force: true })
        throw e
      }
      return { id: `${name}@${version}`, name, version, manifest }
    },
    list() {
      if (!existsSync(root)) return []
      return readdirSync(root)
        .filter((n) => NAME.test(n))
        .sort()
        .map((name) => ({
          name,
          versions: versionsOf(name).map((version) => {
            const m = read(name, version)
            return { id: `${name}@${version}`, version, watermark: m.watermark, rows: m.counts.written, built_at: m.built_at }
          }),
        }))
        .filter((d) => d.versions.length > 0)
    },
    get,
    file(id, file) {
      const m = get(id)
      if (file !== 'manifest.json' && !m.files.some((f) => f.name === file))
        throw new DatasetError('not_found', `${id} has no file ${file}`)
      if (file !== 'manifest.json' && m.purged)
        throw new DatasetError('erased', `${id}'s data files were deleted on ${m.purged.at}: it held erased events; rebuild it`)
      const p = parseDatasetId(id)!
      return join(root, p.name, String(p.version), file)
    },
    members(id) {
      const p = parseDatasetId(id)
      if (!p) return undefined
      const path = join(root, p.name, String(p.version), MEMBERS_FILE)
      return existsSync(path) ? path : undefined
    },
    purge(id, note) {
      const m = get(id)
      const p = parseDatasetId(id)!
      const dir = join(root, p.name, String(p.version))
      for (const f of m.files) rmSync(join(dir, f.name), { force: true })
      m.purged = { at: note.at, events: (m.purged?.events ?? 0) + note.events, record: note.record ?? m.purged?.record ?? null }
      writeManifest(dir, m)
    },
  }
}
