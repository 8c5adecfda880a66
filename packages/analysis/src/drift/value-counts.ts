/**
 * Counts of each distinct value in two windows, over the union of their values: the input of the
 * chi-squared and Z tests and of PSI / Jensen–Shannon on categories (Evidently's `keys`).
 */
export interface CountPair {
  /** Count of each key in the reference window. */
  reference: Float64Array
  /** Count of each key in the current window, same key order. */
  current: Float64Array
  /** Index of the smallest key (numeric order for numbers, code-point order for strings). */
  smallest: number
  /** Number of reference values counted (Σ reference). */
  nReference: number
  /** Number of current values counted (Σ current). */
  nCurrent: number
}

/** Distinct values and their counts in two ascending arrays, keys ascending. */
export function sortedValueCounts(ref: Float64Array, cur: Float64Array): CountPair & { keys: Float64Array } {
  const keys: number[] = []
  const rc: number[] = []
  const cc: number[] = []
  let i = 0
  let j = 0
  while (i < ref.length || j < cur.length) {
    const v = j >= cur.length || (i < ref.length && ref[i]! <= cur[j]!) ? ref[i]! : cur[j]!
    const i0 = i
    const j0 = j
    while (i < ref.length && ref[i]! <= v) i++
    while (j < cur.length && cur[j]! <= v) j++
    keys.push(v)
    rc.push(i - i0)
    cc.push(j - j0)
  }
  return {
    keys: Float64Array.from(keys),
    reference: Float64Array.from(rc),
    current: Float64Array.from(cc),
    smallest: 0,
    nReference: ref.length,
    nCurrent: cur.length,
  }
}

/** Number of distinct values of an ascending array. */
export function distinctSorted(a: Float64Array): number {
  let d = 0
  for (let i = 0; i < a.length; i++) if (i === 0 || a[i]! !== a[i - 1]!) d++
  return d
}

/**
 * Number of distinct values of the union of two ascending arrays, or `limit + 1` as soon as it
 * exceeds `limit` (method choice only needs to know "more than 5").
 */
export function distinctSortedUnion(a: Float64Array, b: Float64Array, limit = Number.POSITIVE_INFINITY): number {
  let i = 0
  let j = 0
  let d = 0
  while (i < a.length || j < b.length) {
    const v = j >= b.length || (i < a.length && a[i]! <= b[j]!) ? a[i]! : b[j]!
    while (i < a.length && a[i]! <= v) i++
    while (j < b.length && b[j]! <= v) j++
    if (++d > limit) return d
  }
  return d
}

/** Compares strings by Unicode code point, the order Python's `sorted` uses. */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const x = a.codePointAt(i)!
    const y = b.codePointAt(i)!
    if (x !== y) return x - y
    if (x > 0xffff) i++
  }
  return a.length - b.length
}

/**
 * Aligns two dictionary-coded categorical windows on the union of the categories they use.
 * @param refCodes reference codes into `refDict`, −1 for missing
 * @param curCodes current codes into `curDict`, −1 for missing
 */
export function categoricalCounts(
  refCodes: Int32Array,
  refDict: readonly string[],
  curCodes: Int32Array,
  curDict: readonly string[],
): CountPair & { keys: string[] } {
  const refPer = new Float64Array(refDict.length)
  let nRef = 0
  for (let i = 0; i < refCodes.length; i++) {
    const c = refCodes[i]!
    if (c >= 0) {
      refPer[c]!++
      nRef++
    }
  }
  const curPer = new Float64Array(curDict.length)
  let nCur = 0
  for (let i = 0; i < curCodes.length; i++) {
    const c = curCodes[i]!
    if (c >= 0) {
      curPer[c]!++
      nCur++
    }
  }
  const index = new Map<string, number>()
  const keys: string[] = []
  const rc: number[] = []
  const cc: number[] = []
  for (let c = 0; c < refDict.length; c++) {
    if (refPer[c] === 0) continue
    const key = refDict[c]!
    let k = index.get(key)
    if (k === undefined) {
      k = keys.length
      index.set(key, k)
      keys.push(key)
      rc.push(0)
      cc.push(0)
    }
    rc[k]! += refPer[c]!
  }
  for (let c = 0; c < curDict.length; c++) {
    if (curPer[c] === 0) continue
    const key = curDict[c]!
    let k = index.get(key)
    if (k === undefined) {
      k = keys.length
      index.set(key, k)
      keys.push(key)
      rc.push(0)
      cc.push(0)
    }
    cc[k]! += curPer[c]!
  }
  let smallest = 0
  for (let k = 1; k < keys.length; k++) if (compareCodePoints(keys[k]!, keys[smallest]!) < 0) smallest = k
  return {
    keys,
    reference: Float64Array.from(rc),
    current: Float64Array.from(cc),
    smallest,
    nReference: nRef,
    nCurrent: nCur,
  }
}
