import { DTYPE_BYTES, TENSOR_DTYPES, type TensorDtype } from './event.js'

/** A problem found in a tensor, relative to the tensor itself. */
export interface TensorIssue {
  /** JSON Pointer suffix under the tensor, e.g. `/data`. */
  path: string
  message: string
}

const INT_RANGES: Partial<Record<TensorDtype, readonly [number, number]>> = {
  int8: [-128, 127],
  uint8: [0, 255],
  int32: [-2147483648, 2147483647],
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/

/** True when a value is meant to be a tensor: an object with a `dtype` key. */
export function looksLikeTensor(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && 'dtype' in value
}

/** Number of bytes a base64 string decodes to, or -1 when it is not canonical padded base64. */
export function base64ByteLength(s: string): number {
  if (s.length % 4 !== 0 || !BASE64.test(s)) return -1
  let pad = 0
  if (s.endsWith('==')) pad = 2
  else if (s.endsWith('=')) pad = 1
  return (s.length / 4) * 3 - pad
}

/**
 * Checks a tensor `{dtype, shape, data}`: known dtype, non-negative integer shape, and data whose
 * length matches the shape (element count for number arrays, byte count for base64). Integer
 * dtypes given as number arrays must hold integers in range.
 * @returns the first issue, or `undefined` when the tensor is well formed.
 */
export function checkTensor(t: Record<string, unknown>): TensorIssue | undefined {
  const dtype = t.dtype
  if (typeof dtype !== 'string' || !(TENSOR_DTYPES as readonly string[]).includes(dtype)) {
    return { path: '/dtype', message: `unknown dtype ${JSON.stringify(dtype)}; expected one of ${TENSOR_DTYPES.join(', ')}` }
  }
  const shape = t.shape
  if (!Array.isArray(shape)) return { path: '/shape', message: 'shape must be an array of non-negative integers' }
  let count = 1
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i]
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 0) {
      return { path: `/shape/${i}`, message: 'shape must be an array of non-negative integers' }
    }
    count *= d
  }
  if (!Number.isSafeInteger(count)) return { path: '/shape', message: 'shape is too large' }
  for (const key of Object.keys(t)) {
    if (key !== 'dtype' && key !== 'shape' && key !== 'data') {
      return { path: `/${key}`, message: `unexpected tensor field ${JSON.stringify(key)}` }
    }
  }
  const data = t.data
  const dt = dtype as TensorDtype
  if (typeof data === 'string') {
    const bytes = base64ByteLength(data)
    if (bytes < 0) return { path: '/data', message: 'data string is not valid padded base64' }
    const want = count * DTYPE_BYTES[dt]
    if (bytes !== want) {
      return { path: '/data', message: `data has ${bytes} bytes; shape [${shape.join(',')}] of ${dt} needs ${want}` }
    }
    return undefined
  }
  if (!Array.isArray(data)) return { path: '/data', message: 'data must be a number array or a base64 string' }
  if (data.length !== count) {
    return { path: '/data', message: `data has ${data.length} elements; shape [${shape.join(',')}] needs ${count}` }
  }
  const range = INT_RANGES[dt]
  for (let i = 0; i < data.length; i++) {
    const v = data[i]
    if (typeof v !== 'number') return { path: `/data/${i}`, message: 'data elements must be numbers' }
    if (range && (!Number.isInteger(v) || v < range[0] || v > range[1])) {
      return { path: `/data/${i}`, message: `${v} is not a valid ${dt}` }
    }
  }
  return undefined
}

/** Size in bytes of a tensor's payload (elements × dtype size). Unknown dtypes count as 4 bytes. */
export function tensorByteSize(t: { dtype: string; shape: number[] }): number {
  const per = DTYPE_BYTES[t.dtype as TensorDtype] ?? 4
  return t.shape.reduce((a, b) => a * b, 1) * per
}
