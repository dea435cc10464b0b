/**
 * This thread's metric objects, and when their staged records go to the store: every
 * FLUSH_INTERVAL_MS on an unref'd timer, when the thread exits, and before every read.
 */
export const FLUSH_INTERVAL_MS = 100

export interface Flushable {
  flush(): void
}

const live = new Set<Flushable>()
let timer: NodeJS.Timeout | null = null
let exitHook = false

/** Flushes every metric object of this thread. */
export function flushAllMetrics(): void {
  for (const m of live) m.flush()
}

export function track(m: Flushable): void {
  live.add(m)
  if (timer === null) {
    timer = setInterval(flushAllMetrics, FLUSH_INTERVAL_MS)
    timer.unref()
  }
  if (!exitHook) {
    // 'exit' runs in a worker_thread on a natural end and on process.exit(); what is flushed
    // here is in the store before the thread is gone.
    process.on('exit', flushAllMetrics)
    exitHook = true
  }
}

export function untrack(m: Flushable): void {
  m.flush()
  live.delete(m)
}
