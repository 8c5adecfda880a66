/** Every item of a keyset-paginated list endpoint (`/v1/events`, `/v1/feedback`), page by page. */
export async function listAll(url: string, path: string, headers: Record<string, string> = {}): Promise<{ id: string }[]> {
  const out: { id: string }[] = []
  let cursor: string | null = null
  do {
    const res = await fetch(`${url}${path}?limit=1000${cursor ? `&cursor=${cursor}` : ''}`, { headers })
    if (res.status !== 200) throw new Error(`GET ${path}: HTTP ${res.status}`)
    const page = (await res.json()) as { items: { id: string }[]; next_cursor: string | null }
    out.push(...page.items)
    cursor = page.next_cursor
  } while (cursor)
  return out
}
