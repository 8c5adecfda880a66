import type { Tensor, TensorDtype } from './event.js'

/** Typed arrays that map one-to-one onto a tensor dtype (float16 travels as raw Uint16 bits). */
export type TensorArray = Float32Array | Int8Array | Int32Array | Uint8Array | Uint16Array

type BufferLike = { from(b: ArrayBufferLike, off: number, len: number): { toString(enc: 'base64'): string } } & {
  from(s: string, enc: 'base64'): Uint8Array
}

// Buffer is much faster than btoa/atob; use it where the runtime has it, without importing Node.
const NodeBuffer = (globalThis as { Buffer?: BufferLike }).Buffer

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1

/** Base64 of raw bytes. */
export function bytesToBase64(bytes: Uint8Array): string {
  if (NodeBuffer) return NodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')
  let s = ''
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode.apply(null, Array.from(bytes.subarray(i, i + 0x8000)))
  }
  return btoa(s)
}

/** Raw bytes of a base64 string. */
export function base64ToBytes(s: string): Uint8Array {
  if (NodeBuffer) return new Uint8Array(NodeBuffer.from(s, 'base64'))
  const bin = atob(s)
  const out = new Uint8Array(bin.length)
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i)
  return out
}

function dtypeOf(a: TensorArray): TensorDtype {
  if (a instanceof Float32Array) return 'float32'
  if (a instanceof Int8Array) return 'int8'
  if (a instanceof Int32Array) return 'int32'
  if (a instanceof Uint16Array) return 'float16'
  return 'uint8'
}

/**
 * Encodes a typed array as a tensor with base64 little-endian data.
 * @param shape default `[array.length]`
 */
export function encodeTensor(array: TensorArray, shape: number[] = [array.length]): Tensor {
  if (!LITTLE_ENDIAN && array.BYTES_PER_ELEMENT > 1) {
    throw new Error('big-endian hosts are not supported for tensor encoding')
  }
  const bytes = new Uint8Array(array.buffer, array.byteOffset, array.byteLength)
  return { dtype: dtypeOf(array), shape, data: bytesToBase64(bytes) }
}

/** Converts an IEEE 754 half-precision bit pattern to a number. */
export function float16ToNumber(h: number): number {
  const s = h & 0x8000 ? -1 : 1
  const e = (h >> 10) & 0x1f
  const f = h & 0x3ff
  if (e === 0) return s * 2 ** -14 * (f / 1024)
  if (e === 31) return f ? NaN : s * Infinity
  return s * 2 ** (e - 15) * (1 + f / 1024)
}

/**
 * Decodes a tensor's data to numbers (row-major), whatever form `data` takes.
 * float16 values are widened to float64.
 */
export function decodeTensor(t: Tensor): number[] {
  if (Array.isArray(t.data)) return t.data.slice()
  const bytes = base64ToBytes(t.data)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const out: number[] = []
  switch (t.dtype) {
    case 'float32':
      for (let i = 0; i + 4 <= bytes.length; i += 4) out.push(view.getFloat32(i, true))
      break
    case 'float16':
      for (let i = 0; i + 2 <= bytes.length; i += 2) out.push(float16ToNumber(view.getUint16(i, true)))
      break
    case 'int32':
      for (let i = 0; i + 4 <= bytes.length; i += 4) out.push(view.getInt32(i, true))
      break
    case 'int8':
      for (let i = 0; i < bytes.length; i++) out.push(view.getInt8(i))
      break
    case 'uint8':
      for (let i = 0; i < bytes.length; i++) out.push(bytes[i]!)
      break
  }
  return out
}
