import { base64ToBytes, float16ToNumber, type Tensor, type TensorDtype } from '@inferlog/schema'

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1
const BYTES: Record<TensorDtype, number> = { float32: 4, float16: 2, int8: 1, int32: 4, uint8: 1 }

/**
 * Element count of a tensor's data, or −1 when it is not a well-formed tensor
 * (unknown dtype, data that is neither a number array nor base64 of the right byte length).
 */
function elementCount(t: Tensor): number {
  const per = BYTES[t.dtype]
  if (per === undefined || !Array.isArray(t.shape)) return -1
  let count = 1
  for (const d of t.shape) {
    if (!Number.isInteger(d) || d < 0) return -1
    count *= d
  }
  if (Array.isArray(t.data)) return t.data.length === count ? count : -1
  if (typeof t.data !== 'string') return -1
  return count
}

/**
 * Decodes a tensor's data into a `Float32Array` (allocated, or written into `out` at `offset`):
 * base64 data is viewed in place as its typed array (no per-element `DataView` calls), float16 is
 * widened. Returns the number of elements, or −1 when the tensor is malformed.
 */
export function decodeTensorInto(t: Tensor, out: Float32Array, offset = 0): number {
  const count = elementCount(t)
  if (count < 0 || offset + count > out.length) return -1
  if (Array.isArray(t.data)) {
    for (let i = 0; i < count; i++) {
      const v = t.data[i]
      if (typeof v !== 'number') return -1
      out[offset + i] = v
    }
    return count
  }
  const bytes = base64ToBytes(t.data as string)
  if (bytes.length !== count * BYTES[t.dtype]) return -1
  // base64ToBytes returns a fresh buffer, so offsets are aligned; copy otherwise to be safe.
  const aligned = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice()
  const buf = aligned.buffer
  const off = aligned.byteOffset
  switch (t.dtype) {
    case 'float32':
      if (LITTLE_ENDIAN) out.set(new Float32Array(buf, off, count), offset)
      else for (let i = 0; i < count; i++) out[offset + i] = new DataView(buf, off).getFloat32(i * 4, true)
      break
    case 'float16': {
      const view = new DataView(buf, off, count * 2)
      for (let i = 0; i < count; i++) out[offset + i] = float16ToNumber(view.getUint16(i * 2, true))
      break
    }
    case 'int32':
      if (LITTLE_ENDIAN) out.set(new Int32Array(buf, off, count), offset)
      else for (let i = 0; i < count; i++) out[offset + i] = new DataView(buf, off).getInt32(i * 4, true)
      break
    case 'int8':
      out.set(new Int8Array(buf, off, count), offset)
      break
    case 'uint8':
      out.set(aligned.subarray(0, count), offset)
      break
  }
  return count
}

/** Decodes a tensor to a new `Float32Array`, or `undefined` when it is malformed. */
export function decodeTensorFloat32(t: Tensor): Float32Array | undefined {
  const count = elementCount(t)
  if (count < 0) return undefined
  const out = new Float32Array(count)
  return decodeTensorInto(t, out) < 0 ? undefined : out
}

/**
 * The embedding dimension of a tensor: the last axis; a `[n, d]` tensor counts as `d` (its rows are
 * mean-pooled by the column builder). Scalars (`[]`) have dimension 1.
 */
export function tensorEmbeddingDim(t: Tensor): number {
  const shape = t.shape
  return shape.length === 0 ? 1 : shape[shape.length - 1]!
}
