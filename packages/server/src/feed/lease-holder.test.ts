import { spawnSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { leaseHolderGone, leaseHolderId } from './lease-holder.js'

/** The pid of a process that ran and exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' })
  return Number(r.stdout)
}

describe('lease holder names', () => {
  it.runIf(process.platform === 'linux')('tell a process of this host and boot that no longer runs from every other holder', () => {
    const mine = leaseHolderId()
    const [host, boot, pid] = mine.split('/') as [string, string, string, string]
    expect(Number(pid)).toBe(process.pid)
    expect(boot).not.toBe('')
    // This process, a process that runs (the parent), another host, another boot, old-style names: not gone.
    expect(leaseHolderGone(mine)).toBe(false)
    expect(leaseHolderGone(`${host}/${boot}/${process.ppid}/abc`)).toBe(false)
    const dead = deadPid()
    expect(leaseHolderGone(`${host}/${boot}/${dead}/abc`)).toBe(true)
    expect(leaseHolderGone(`other-${host}/${boot}/${dead}/abc`)).toBe(false)
    expect(leaseHolderGone(`${host}/not-this-boot/${dead}/abc`)).toBe(false)
    expect(leaseHolderGone(`${dead}-abc`)).toBe(false)
    expect(leaseHolderGone(`${host}/${boot}/0/abc`)).toBe(false)
    expect(leaseHolderGone(`${host}/${boot}/x/abc`)).toBe(false)
  })
})
