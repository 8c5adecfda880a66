import type { Tensor } from './api/types.js'

const DTYPES = ['float32', 'float16', 'int8', 'int32', 'uint8'] as const

/** True when `v` looks like a DESIGN.md tensor: `{dtype, shape, data}`. */
export function isTensor(v: unknown): v is Tensor {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return false
  const t = v as Record<string, unknown>
  return (
    typeof t.dtype === 'string' &&
    (DTYPES as readonly string[]).includes(t.dtype) &&
    Array.isArray(t.shape) &&
    t.shape.every((n) => Number.isInteger(n) && (n as number) >= 0) &&
    (Array.isArray(t.data) || typeof t.data === 'string')
  )
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1
  const e = (h >> 10) & 0x1f
  const f = h & 0x3ff
  if (e === 0) return s * 2 ** -14 * (f / 1024)
  if (e === 31) return f ? Number.NaN : s * Number.POSITIVE_INFINITY
  return s * 2 ** (e - 15) * (1 + f / 1024)
}

function base64Bytes(b64: string): Uint8Array {
  const bin = atob(b64)
  const out = new Uint8Array(bin.length)
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i)
  return out
}

/**
 * A tensor's values as a Float64Array (row-major), from a number array or little-endian base64.
 * Throws when the data does not match the shape.
 */
export function tensorValues(t: Tensor): Float64Array {
  const size = t.shape.reduce((a, b) => a * b, 1)
  let out: Float64Array
  if (Array.isArray(t.data)) out = Float64Array.from(t.data, (x) => (typeof x === 'number' ? x : Number.NaN))
  else {
    const bytes = base64Bytes(t.data)
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    const width = t.dtype === 'float32' || t.dtype === 'int32' ? 4 : t.dtype === 'float16' ? 2 : 1
    if (bytes.byteLength !== size * width) throw new Error(`tensor data holds ${bytes.byteLength} bytes, shape needs ${size * width}`)
    out = new Float64Array(size)
    for (let i = 0; i < size; i++) {
      const o = i * width
      out[i] =
        t.dtype === 'float32'
          ? view.getFloat32(o, true)
          : t.dtype === 'int32'
            ? view.getInt32(o, true)
            : t.dtype === 'float16'
              ? halfToFloat(view.getUint16(o, true))
              : t.dtype === 'int8'
                ? view.getInt8(o)
                : view.getUint8(o)
    }
  }
  if (out.length !== size) throw new Error(`tensor has ${out.length} values, shape [${t.shape.join(', ')}] needs ${size}`)
  return out
}

/** Minimum and maximum of the finite values (0, 0 when there are none). */
export function extent(v: ArrayLike<number>): [number, number] {
  let lo = Number.POSITIVE_INFINITY
  let hi = Number.NEGATIVE_INFINITY
  for (let i = 0; i < v.length; i++) {
    const x = v[i]!
    if (!Number.isFinite(x)) continue
    if (x < lo) lo = x
    if (x > hi) hi = x
  }
  return lo <= hi ? [lo, hi] : [0, 0]
}
