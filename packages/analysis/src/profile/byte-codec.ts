/** True on little-endian hosts, where typed arrays are copied to and from the bytes as they are. */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1
/** Stateless UTF-8 codecs, shared: constructing one per string costs more than the string. */
const UTF8_ENCODER = new TextEncoder()
const UTF8_DECODER = new TextDecoder()

/** Appends little-endian primitives to a growing byte buffer. */
export class ByteWriter {
  private buf = new Uint8Array(256)
  private view = new DataView(this.buf.buffer)
  private pos = 0

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.pos + n))
    next.set(this.buf)
    this.buf = next
    this.view = new DataView(next.buffer)
  }
  u8(v: number): void {
    this.ensure(1)
    this.view.setUint8(this.pos, v)
    this.pos += 1
  }
  u32(v: number): void {
    this.ensure(4)
    this.view.setUint32(this.pos, v, true)
    this.pos += 4
  }
  f64(v: number): void {
    this.ensure(8)
    this.view.setFloat64(this.pos, v, true)
    this.pos += 8
  }
  bytes(b: Uint8Array): void {
    this.u32(b.length)
    this.ensure(b.length)
    this.buf.set(b, this.pos)
    this.pos += b.length
  }
  string(s: string): void {
    this.bytes(UTF8_ENCODER.encode(s))
  }
  u8s(a: Uint8Array): void {
    this.bytes(a)
  }
  f64s(a: ArrayLike<number>): void {
    this.u32(a.length)
    this.ensure(a.length * 8)
    if (LITTLE_ENDIAN) {
      // One copy of the bytes instead of a DataView call per value.
      const f = a instanceof Float64Array ? a : Float64Array.from(a)
      this.buf.set(new Uint8Array(f.buffer, f.byteOffset, f.byteLength), this.pos)
    } else for (let i = 0; i < a.length; i++) this.view.setFloat64(this.pos + i * 8, a[i]!, true)
    this.pos += a.length * 8
  }
  i32s(a: ArrayLike<number>): void {
    this.u32(a.length)
    this.ensure(a.length * 4)
    if (LITTLE_ENDIAN) {
      const f = a instanceof Int32Array ? a : Int32Array.from(a)
      this.buf.set(new Uint8Array(f.buffer, f.byteOffset, f.byteLength), this.pos)
    } else for (let i = 0; i < a.length; i++) this.view.setInt32(this.pos + i * 4, a[i]!, true)
    this.pos += a.length * 4
  }
  finish(): Uint8Array {
    return this.buf.slice(0, this.pos)
  }
}

/** Error raised on bytes that are not a profile this version can read. */
export class ProfileDecodeError extends Error {
  override readonly name = 'ProfileDecodeError'
  readonly code = 'invalid_profile'
}

/** Reads what {@link ByteWriter} wrote, with bounds checks. */
export class ByteReader {
  private readonly view: DataView
  private pos = 0
  constructor(private readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
  }
  private need(n: number): void {
    if (this.pos + n > this.buf.length) throw new ProfileDecodeError('truncated profile bytes')
  }
  u8(): number {
    this.need(1)
    return this.view.getUint8(this.pos++)
  }
  u32(): number {
    this.need(4)
    const v = this.view.getUint32(this.pos, true)
    this.pos += 4
    return v
  }
  f64(): number {
    this.need(8)
    const v = this.view.getFloat64(this.pos, true)
    this.pos += 8
    return v
  }
  bytes(): Uint8Array {
    const n = this.u32()
    this.need(n)
    const out = this.buf.slice(this.pos, this.pos + n)
    this.pos += n
    return out
  }
  string(): string {
    const n = this.u32()
    this.need(n)
    const s = UTF8_DECODER.decode(this.buf.subarray(this.pos, this.pos + n))
    this.pos += n
    return s
  }
  f64s(): Float64Array {
    const n = this.u32()
    this.need(n * 8)
    let out: Float64Array
    if (LITTLE_ENDIAN) out = new Float64Array(this.buf.buffer.slice(this.buf.byteOffset + this.pos, this.buf.byteOffset + this.pos + n * 8))
    else {
      out = new Float64Array(n)
      for (let i = 0; i < n; i++) out[i] = this.view.getFloat64(this.pos + i * 8, true)
    }
    this.pos += n * 8
    return out
  }
  i32s(): Int32Array {
    const n = this.u32()
    this.need(n * 4)
    let out: Int32Array
    if (LITTLE_ENDIAN) out = new Int32Array(this.buf.buffer.slice(this.buf.byteOffset + this.pos, this.buf.byteOffset + this.pos + n * 4))
    else {
      out = new Int32Array(n)
      for (let i = 0; i < n; i++) out[i] = this.view.getInt32(this.pos + i * 4, true)
    }
    this.pos += n * 4
    return out
  }
}
