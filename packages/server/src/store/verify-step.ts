/**
 * The leading batches of `list` (in commit order) whose rows add up to about `chunkRows`, and at
 * least one: the batches one step of a verify scan reads. The counts (`batches.events + feedback`,
 * a number or PostgreSQL's int8 text) only size the step; the rows are found by the batch they
 * claim, so a wrong count changes the step's size, never what is checked.
 */
export function verifyStep<T extends { rows: number | string }>(list: readonly T[], chunkRows: number): T[] {
  const picked: T[] = []
  let held = 0
  for (const b of list) {
    const rows = Number(b.rows)
    if (picked.length > 0 && held + rows > chunkRows) break
    picked.push(b)
    held += rows
  }
  return picked
}
