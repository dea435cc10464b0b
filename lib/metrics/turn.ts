/**
 * A turn of the event loop that needs no timer: a message to ourselves on a MessagePort, which
 * Node delivers in the poll phase, after the I/O and the other threads' messages already
 * waiting. Fake timers (jest.useFakeTimers(), @sinonjs/fake-timers) replace setImmediate and
 * setTimeout but not MessagePort, so a read of the registry resolves under them, as prom-client's
 * does. The port holds the process open only while someone waits.
 */
import { MessageChannel, type MessagePort } from 'node:worker_threads'

let port: MessagePort | null = null
let sender: MessagePort | null = null
const waiting: (() => void)[] = []

/** Resolves once the event loop has gone through its poll phase (I/O, messages) at least once. */
export function loopTurn(): Promise<void> {
  if (port === null) {
    const ch = new MessageChannel()
    port = ch.port2
    sender = ch.port1
    port.on('message', () => {
      const resolve = waiting.shift()
      if (waiting.length === 0) port!.unref()
      resolve?.()
    })
    port.unref()
    sender.unref()
  }
  return new Promise<void>((resolve) => {
    waiting.push(resolve)
    port!.ref()
    sender!.postMessage(null)
  })
}
