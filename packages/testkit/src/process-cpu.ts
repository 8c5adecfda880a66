import fs from 'node:fs'

/** USER_HZ: /proc counts CPU time in ticks of 10 ms on Linux. */
const TICK_MS = 10

function procStat(pid: number): { ppid: number; self: number; children: number } | undefined {
  try {
    const raw = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Fields after "(name) ": state(0) ppid(1) … utime(11) stime(12) cutime(13) cstime(14).
    const f = raw.slice(raw.lastIndexOf(')') + 2).split(' ')
    return { ppid: Number(f[1]), self: Number(f[11]) + Number(f[12]), children: Number(f[13]) + Number(f[14]) }
  } catch {
    return undefined
  }
}

/**
 * CPU milliseconds (user + system, all threads) a process used so far; with `tree`, plus its
 * reaped children and its live children (PostgreSQL's backends). 0 when unknown (not Linux, gone).
 */
export function processCpuMs(pid: number, tree = false): number {
  const st = procStat(pid)
  if (!st) return 0
  let ticks = st.self + (tree ? st.children : 0)
  if (tree) {
    for (const d of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(d)) continue
      const c = procStat(Number(d))
      if (c && c.ppid === pid) ticks += c.self
    }
  }
  return ticks * TICK_MS
}
