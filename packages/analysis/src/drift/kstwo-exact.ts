/**
 * Exact CDF of the two-sided one-sample Kolmogorov–Smirnov statistic Dₙ for moderate n·d:
 * Durbin's matrix method in the form of Marsaglia, Tsang and Wang (2003), and Pomeranz's
 * recursion (1974). These are the two exact algorithms in Simard & L'Ecuyer's (2011) selection
 * scheme, which scipy's `kstwo` follows and {@link kstwoSf} reproduces.
 */

const E128 = 2 ** 128
const EM128 = 2 ** -128

function matmul(a: Float64Array, b: Float64Array, m: number): Float64Array {
  const out = new Float64Array(m * m)
  for (let i = 0; i < m; i++) {
    for (let k = 0; k < m; k++) {
      const aik = a[i * m + k]!
      if (aik === 0) continue
      const row = k * m
      const o = i * m
      for (let j = 0; j < m; j++) out[o + j]! += aik * b[row + j]!
    }
  }
  return out
}

/**
 * P(Dₙ ≤ d) by the Durbin matrix: write d = (k − h)/n with k a positive integer and 0 ≤ h < 1;
 * the answer is n!/nⁿ times the (k, k) element of Hⁿ for a (2k−1)² matrix H. Powers are taken by
 * squaring, with a power-of-two exponent kept aside so nothing overflows. O(k³ log n).
 */
export function durbinCdf(n: number, d: number): number {
  if (d >= 1) return 1
  const nd = n * d
  if (nd <= 0.5) return 0
  const k = Math.ceil(nd)
  const h = k - nd
  const m = 2 * k - 1
  // v[j] = (1 − h^(j+1)) / (j+1)!  and  w[j] = 1/j!
  const v = new Float64Array(m)
  const w = new Float64Array(m)
  let fac = 1
  for (let j = 1; j <= m; j++) {
    w[j - 1] = fac
    fac /= j
    v[j - 1] = (1 - h ** j) * fac
  }
  v[m - 1] = (1 + Math.max(2 * h - 1, 0) ** m - 2 * h ** m) * fac
  let H: Float64Array = new Float64Array(m * m)
  for (let c = 1; c < m; c++) {
    for (let r = c - 1; r < m; r++) H[r * m + c] = w[r - c + 1]!
  }
  for (let r = 0; r < m; r++) H[r * m] = v[r]!
  for (let c = 0; c < m; c++) H[(m - 1) * m + c] = v[m - 1 - c]!

  let power: Float64Array | undefined
  let powerExp = 0
  let hExp = 0
  let e = n
  while (e > 0) {
    if (e % 2 === 1) {
      power = power ? matmul(power, H, m) : H.slice()
      powerExp += hExp
    }
    H = matmul(H, H, m)
    hExp *= 2
    if (Math.abs(H[(k - 1) * m + (k - 1)]!) > E128) {
      for (let i = 0; i < H.length; i++) H[i]! /= E128
      hExp += 128
    }
    e = Math.floor(e / 2)
  }
  let p = power ? power[(k - 1) * m + (k - 1)]! : 1
  for (let i = 1; i <= n; i++) {
    p = (i * p) / n
    if (Math.abs(p) < EM128) {
      p *= E128
      powerExp -= 128
    }
  }
  if (powerExp !== 0) p *= 2 ** powerExp
  return Math.min(1, Math.max(0, p))
}

/** Column range [lo, hi] of row `i` of the Pomeranz recursion (0 ≤ i ≤ 2n+1). */
function pomeranzRange(i: number, n: number, ll: number, ceilF: number, roundF: number): [number, number] {
  let lo: number
  let hi: number
  if (i === 0) {
    lo = -ll - ceilF - 1
    hi = ll + ceilF - 1
  } else {
    const half = Math.floor((i + 1) / 2)
    if ((i + 1) % 2 === 0) {
      if (half === n + 1) {
        lo = n - ll - ceilF - 1
        hi = n + ll + ceilF - 1
      } else {
        lo = half - ll - roundF - 2
        hi = half + ll + ceilF - 2
      }
    } else {
      lo = half - ll - 2
      hi = half + ll + roundF - 1
    }
  }
  return [Math.max(lo + 2, 0), Math.min(hi, n)]
}

/**
 * P(Dₙ ≤ x) by Pomeranz's recursion: 2n+2 rows, each the convolution of the previous one with
 * (unnormalized) Poisson probabilities of one of three step lengths; n! times the last entry.
 */
export function pomeranzCdf(n: number, x: number): number {
  const t = n * x
  const ll = Math.floor(t)
  const f = t - ll
  const g = Math.min(f, 1 - f)
  const ceilF = f > 0 ? 1 : 0
  const roundF = f > 0.5 ? 1 : 0
  const len = 2 * (ll + 1)
  // (g/n)^m/m!, (2g/n)^m/m!, ((1−2g)/n)^m/m!
  const pg = new Float64Array(len)
  const p2g = new Float64Array(len)
  const p12g = new Float64Array(len)
  pg[0] = 1
  p2g[0] = 1
  p12g[0] = 1
  for (let m = 1; m < len; m++) {
    pg[m] = (pg[m - 1]! * (g / n)) / m
    p2g[m] = (p2g[m - 1]! * ((2 * g) / n)) / m
    p12g[m] = (p12g[m - 1]! * ((1 - 2 * g) / n)) / m
  }
  // Rows indexed by absolute column 0..n; only [lo, hi] is ever non-zero.
  let prev: Float64Array = new Float64Array(n + 1)
  let cur: Float64Array = new Float64Array(n + 1)
  cur[0] = 1
  let exponent = 0
  let [lo] = pomeranzRange(0, n, ll, ceilF, roundF)
  for (let i = 1; i <= 2 * n + 1; i++) {
    const prevLo = lo
    const swap = prev
    prev = cur
    cur = swap
    cur.fill(0)
    const [nextLo, nextHi] = pomeranzRange(i, n, ll, ceilF, roundF)
    lo = nextLo
    const powers = i === 1 || i === 2 * n + 1 ? pg : i % 2 === 1 ? p2g : p12g
    if (nextHi - prevLo + 1 <= 0) continue
    let max = 0
    for (let j = nextLo; j <= nextHi; j++) {
      let s = 0
      for (let a = Math.max(prevLo, j - len + 1); a <= j; a++) s += prev[a]! * powers[j - a]!
      cur[j] = s
      if (s > max) max = s
    }
    if (max > 0 && max < EM128) {
      for (let j = nextLo; j <= nextHi; j++) cur[j]! *= E128
      exponent -= 128
    }
  }
  let ans = cur[n]!
  for (let m = 1; m <= n; m++) {
    if (Math.abs(ans) > E128) {
      ans *= EM128
      exponent += 128
    }
    ans *= m
  }
  if (exponent !== 0) ans *= 2 ** exponent
  return Math.min(1, Math.max(0, ans))
}
