import fs from 'node:fs'
import os from 'node:os'

/** This boot of this machine (Linux), so that a pid is compared only within one boot. */
function bootId(): string {
  try {
    return fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()
  } catch {
    return ''
  }
}

/**
 * A lease holder's name: `HOST/BOOT/PID/RANDOM`, so that another process of the same host and boot
 * can tell that the holder is gone (its process no longer runs: killed, crashed) and take its
 * leases at once, instead of waiting for them to run out ({@link leaseHolderGone}).
 */
export function leaseHolderId(): string {
  return `${os.hostname()}/${bootId()}/${process.pid}/${Math.random().toString(36).slice(2, 10)}`
}

/**
 * True when `holder` ({@link leaseHolderId}) names a process of this host and boot other than this
 * one that no longer runs. False for anything else (another host, another boot, an older name
 * without a host, a process that runs or that this one may not signal): then the lease runs out
 * as before. A wrong "gone" (a reused pid on a host whose name another machine shares) would only
 * run a consumer twice for a while, which the watermark arbitrates.
 */
export function leaseHolderGone(holder: string): boolean {
  const parts = holder.split('/')
  if (parts.length !== 4) return false
  const [host, boot, pidText] = parts as [string, string, string, string]
  const pid = Number(pidText)
  if (host !== os.hostname() || boot === '' || boot !== bootId() || !Number.isInteger(pid) || pid <= 0 || pid === process.pid) return false
  try {
    process.kill(pid, 0)
    return false
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH'
  }
}
