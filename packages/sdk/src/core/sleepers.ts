import type { Platform, TimerHandle } from './platform.js'

interface Sleeper {
  timer: TimerHandle
  wake: () => void
  /** Part of a live send: keeps the process alive while a flush or close waits on it. */
  live: boolean
}

/**
 * The backoff waits of a pipeline, in one place so that `flush()` can make them keep the process
 * alive (someone now waits on them) and `close()` can end them all at once.
 */
export class Sleepers {
  private readonly set = new Set<Sleeper>()

  /**
   * @param keepAlive whether a live wait starting now should keep the process alive (a flush or a
   *   close is waiting).
   */
  constructor(
    private readonly platform: Platform,
    private readonly keepAlive: () => boolean,
  ) {}

  /** Resolves after `ms`, or earlier on {@link wakeAll}. Never rejects. */
  sleep(ms: number, live: boolean): Promise<void> {
    return new Promise<void>((resolve) => {
      const s: Sleeper = {
        live,
        wake: () => {
          s.timer.cancel()
          this.set.delete(s)
          resolve()
        },
        timer: undefined as unknown as TimerHandle,
      }
      s.timer = this.platform.timer(() => s.wake(), ms, live && this.keepAlive())
      this.set.add(s)
    })
  }

  /** Live waits now matter to someone (a flush started): they keep the process alive. */
  holdLive(): void {
    for (const s of this.set) if (s.live) s.timer.ref(true)
  }

  /** Ends every wait now. */
  wakeAll(): void {
    for (const s of [...this.set]) s.wake()
  }
}
