/**
 * Area under the ROC curve of `scores` for binary `labels` (1 = positive), by the Mann–Whitney
 * rank sum with mid-ranks for ties (equal to sklearn's `roc_auc_score`). NaN when a class is absent.
 */
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const n = scores.length
  const order = new Uint32Array(n)
  for (let i = 0; i < n; i++) order[i] = i
  order.sort((a, b) => scores[a]! - scores[b]!)
  let rankSumPos = 0
  let nPos = 0
  let i = 0
  while (i < n) {
    let j = i
    while (j + 1 < n && scores[order[j + 1]!] === scores[order[i]!]) j++
    const midRank = (i + j) / 2 + 1
    for (let k = i; k <= j; k++) {
      if (labels[order[k]!] === 1) {
        rankSumPos += midRank
        nPos++
      }
    }
    i = j + 1
  }
  const nNeg = n - nPos
  if (nPos === 0 || nNeg === 0) return Number.NaN
  return (rankSumPos - (nPos * (nPos + 1)) / 2) / (nPos * nNeg)
}
