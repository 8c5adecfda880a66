import type { Logger } from '@inferlog/sdk'
import type { PlannedFeedback } from './feedback-plan.js'

/** Sends planned feedback through the logger when its delay has passed. */
export class DelayedFeedback {
  private readonly timers = new Set<NodeJS.Timeout>()
  private sentCount = 0

  constructor(private readonly log: Logger) {}

  /**
   * Schedules the items of one prediction made at `eventMs` (default now). An item whose time has
   * already come (a backfilled prediction) is sent at once, stamped with the time it was due.
   */
  schedule(eventId: string, items: readonly PlannedFeedback[], eventMs = Date.now()): void {
    for (const f of items) {
      const due = eventMs + f.delayMs
      const wait = due - Date.now()
      if (wait <= 0) {
        this.sentCount++
        this.log.feedback(eventId, f.name, f.value, { source: f.source, ts: new Date(due).toISOString() })
        continue
      }
      const timer = setTimeout(() => {
        this.timers.delete(timer)
        this.sentCount++
        this.log.feedback(eventId, f.name, f.value, { source: f.source })
      }, wait)
      this.timers.add(timer)
    }
  }

  /** Items handed to the logger so far. */
  get sent(): number {
    return this.sentCount
  }

  /** Items still waiting for their time. */
  get pending(): number {
    return this.timers.size
  }

  /** Drops what is still waiting (the demo is stopping); returns how many. */
  cancel(): number {
    const n = this.timers.size
    for (const t of this.timers) clearTimeout(t)
    this.timers.clear()
    return n
  }
}
