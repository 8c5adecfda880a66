/**
 * Growable byte writer and matching reader for the compact codecs: unsigned LEB128 varints up to
 * 2^53 (arithmetic, since JavaScript bit operators stop at 32 bits), zigzag for signed integers,
 * little-endian float64.
 */
export class ByteWriter {
  private buf = new Uint8Array(64)
  private view = new DataView(this.buf.buffer)
  private len = 0

  private ensure(extra: number): void {
    if (this.len + extra <= this.buf.length) return
    let size = this.buf.length * 2
    while (size < this.len + extra) size *= 2
    const next = new Uint8Array(size)
    next.set(this.buf.subarray(0, this.len))
    this.buf = next
    this.view = new DataView(next.buffer)
  }

  byte(b: number): void {
    this.ensure(1)
    this.buf[this.len++] = b
  }

  /** Unsigned integer in [0, 2^53). */
  varuint(v: number): void {
    this.ensure(8)
    while (v >= 128) {
      this.buf[this.len++] = (v % 128) + 128
      v = Math.floor(v / 128)
    }
    this.buf[this.len++] = v
  }

  /** Signed integer, zigzag-encoded. */
  varint(v: number): void {
    this.varuint(v < 0 ? -2 * v - 1 : 2 * v)
  }

  float64(v: number): void {
    this.ensure(8)
    this.view.setFloat64(this.len, v, true)
    this.len += 8
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.len)
  }
}

/** Reads what {@link ByteWriter} wrote; throws `RangeError` past the end. */
export class ByteReader {
  private pos = 0
  private readonly view: DataView

  constructor(private readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
  }

  get done(): boolean {
    return this.pos >= this.buf.length
  }

  byte(): number {
    if (this.pos >= this.buf.length) throw new RangeError('truncated input')
    return this.buf[this.pos++] as number
  }

  varuint(): number {
    let v = 0
    let scale = 1
    for (;;) {
      const b = this.byte()
      v += (b & 127) * scale
      if (b < 128) return v
      scale *= 128
      if (scale > 2 ** 56) throw new RangeError('varint too long')
    }
  }

  varint(): number {
    const u = this.varuint()
    return u % 2 === 1 ? -(u + 1) / 2 : u / 2
  }

  float64(): number {
    if (this.pos + 8 > this.buf.length) throw new RangeError('truncated input')
    const v = this.view.getFloat64(this.pos, true)
    this.pos += 8
    return v
  }
}
