import { bytesToBase64, quantizeInt8, toFloat16Bits, type TensorDtype } from '@inferlog/schema'
import type { Quantization } from '../options.js'

type Typed =
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Uint8ClampedArray
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array

/** Encoding settings of internals. */
export interface InternalsEncoding {
  maxBytes: number
  quantize: Quantization
}

const DTYPES: ReadonlySet<string> = new Set(['float32', 'float16', 'int8', 'int32', 'uint8'])

/** True for typed arrays (not DataView). */
export function isTypedArray(v: unknown): v is Typed {
  return ArrayBuffer.isView(v) && !(v instanceof DataView)
}

function isFloatSource(a: Typed | number[]): boolean {
  if (a instanceof Float32Array || a instanceof Float64Array) return true
  if (!Array.isArray(a)) return false
  for (let i = 0; i < a.length; i++) if (!Number.isInteger(a[i])) return true
  return false
}

function naturalDtype(a: Typed): TensorDtype {
  if (a instanceof Float32Array || a instanceof Float64Array) return 'float32'
  if (a instanceof Int8Array) return 'int8'
  if (a instanceof Uint8Array || a instanceof Uint8ClampedArray) return 'uint8'
  // Same convention as the schema's tensor codec: a Uint16Array holds float16 bit patterns.
  if (a instanceof Uint16Array) return 'float16'
  return 'int32'
}

function numbers(a: Typed | number[]): ArrayLike<number> {
  if (a instanceof BigInt64Array || a instanceof BigUint64Array) return Array.from(a, Number)
  return a as ArrayLike<number>
}

function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength)
}

/** JSON text of one tensor: `{"dtype","shape","data": base64}`, plus an int8 scale when quantized to int8. */
interface EncodedTensor {
  json: string
  scale?: number
}

function tensorJson(dtype: TensorDtype, shape: readonly number[], bytes: Uint8Array): string {
  return `{"dtype":"${dtype}","shape":[${shape.join(',')}],"data":"${bytesToBase64(bytes)}"}`
}

/**
 * Encodes data as a tensor of dtype `want` (or the data's natural dtype, compacted by `quantize`
 * for float data). Typed arrays that already match are sent as their own bytes, without a copy.
 */
export function encodeTensorData(
  data: Typed | number[],
  shape: number[] | undefined,
  want: string | undefined,
  quantize: Quantization,
): EncodedTensor {
  const n = data.length
  let sh = shape
  if (sh) {
    let count = 1
    for (const d of sh) count *= d
    if (count !== n) sh = undefined
  }
  const s = sh ?? [n]
  let dtype: TensorDtype
  if (want !== undefined && DTYPES.has(want)) dtype = want as TensorDtype
  else if (Array.isArray(data)) dtype = isFloatSource(data) ? 'float32' : 'int32'
  else dtype = naturalDtype(data)
  if (want === undefined && dtype === 'float32' && quantize !== 'none') dtype = quantize
  switch (dtype) {
    case 'float32':
      return { json: tensorJson('float32', s, bytesOf(data instanceof Float32Array ? data : Float32Array.from(numbers(data)))) }
    case 'float16':
      return { json: tensorJson('float16', s, bytesOf(data instanceof Uint16Array ? data : toFloat16Bits(numbers(data)))) }
    case 'int8': {
      if (data instanceof Int8Array) return { json: tensorJson('int8', s, bytesOf(data)) }
      if (isFloatSource(data)) {
        const q = quantizeInt8(numbers(data))
        return { json: tensorJson('int8', s, bytesOf(q.data)), scale: q.scale }
      }
      return { json: tensorJson('int8', s, bytesOf(Int8Array.from(numbers(data)))) }
    }
    case 'int32':
      return { json: tensorJson('int32', s, bytesOf(data instanceof Int32Array ? data : Int32Array.from(numbers(data)))) }
    case 'uint8':
      return { json: tensorJson('uint8', s, bytesOf(data instanceof Uint8Array ? data : Uint8Array.from(numbers(data)))) }
  }
}

function tensorSource(v: unknown): { data: Typed | number[]; shape?: number[]; dtype?: string } | undefined {
  if (isTypedArray(v)) return { data: v }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined
  const o = v as { dtype?: unknown; shape?: unknown; data?: unknown }
  const shape = Array.isArray(o.shape) ? (o.shape as number[]) : undefined
  const dtype = typeof o.dtype === 'string' ? o.dtype : undefined
  if (isTypedArray(o.data)) return { data: o.data, ...(shape ? { shape } : {}), ...(dtype ? { dtype } : {}) }
  // A JSON tensor with a number array: sent as bytes too (never as a JSON number array).
  if (dtype !== undefined && DTYPES.has(dtype) && Array.isArray(o.data) && o.data.every((x) => typeof x === 'number')) {
    return { data: o.data as number[], ...(shape ? { shape } : {}), dtype }
  }
  return undefined
}

/**
 * JSON text of an event's `internals`: tensors as base64 bytes, other values as JSON, within the
 * byte budget. Entries are taken in insertion order; those that do not fit are named in
 * `_omitted`. Returns undefined when nothing is left.
 */
export function internalsJson(internals: Record<string, unknown>, enc: InternalsEncoding): string | undefined {
  const parts: string[] = []
  let omitted: string[] | undefined
  let used = 0
  for (const name of Object.keys(internals)) {
    const v = internals[name]
    if (v === undefined) continue
    const src = tensorSource(v)
    let text: string
    let extra = ''
    if (src) {
      const t = encodeTensorData(src.data, src.shape, src.dtype, enc.quantize)
      text = t.json
      if (t.scale !== undefined) extra = `,${JSON.stringify(`${name}_scale`)}:${t.scale}`
    } else {
      const j = JSON.stringify(v)
      if (j === undefined) continue
      text = j
    }
    const key = JSON.stringify(name)
    const size = key.length + 1 + text.length + extra.length + 1
    if (used + size > enc.maxBytes) {
      ;(omitted ??= []).push(name)
      continue
    }
    used += size
    parts.push(`${key}:${text}${extra}`)
  }
  if (omitted) parts.push(`"_omitted":${JSON.stringify(omitted)}`)
  return parts.length === 0 ? undefined : `{${parts.join(',')}}`
}
