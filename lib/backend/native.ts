/**
 * Loads the native binding (napi-rs convention): a `hotstats.<platform>.node` file beside the
 * package (local builds), else the `hotstats-<platform>` optional dependency (npm installs).
 * Never throws: on failure it returns every reason, so the JS backend can say why it is in use.
 */
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'

import type * as NativeBinding from '../../native'

export type Native = typeof NativeBinding

export interface NativeLoad {
  binding: Native | null
  /** Where the binding came from, when it loaded. */
  from: string | null
  /** Why it did not load (one line per candidate tried), when it did not. */
  error: string | null
  /** The napi-rs platform name of this process, e.g. linux-x64-gnu. */
  platform: string | null
}

function isMusl(): boolean {
  try {
    const report = process.report?.getReport() as unknown as { header?: { glibcVersionRuntime?: string } }
    return !report?.header?.glibcVersionRuntime
  } catch {
    return false
  }
}

/** napi-rs's platform name for this process, or null for a platform hotstats does not ship. */
export function platformName(): string | null {
  const { platform, arch } = process
  if (platform === 'linux') {
    const libc = isMusl() ? 'musl' : 'gnu'
    if (arch === 'x64') return `linux-x64-${libc}`
    if (arch === 'arm64') return `linux-arm64-${libc}`
    return null
  }
  if (platform === 'darwin') return arch === 'arm64' ? 'darwin-arm64' : arch === 'x64' ? 'darwin-x64' : null
  if (platform === 'win32') return arch === 'x64' ? 'win32-x64-msvc' : null
  return null
}

/** The directory holding hotstats' package.json (works from the sources and from dist/). */
export function packageRoot(): string {
  let dir = __dirname
  for (;;) {
    const pkg = join(dir, 'package.json')
    if (existsSync(pkg)) {
      try {
        if (JSON.parse(readFileSync(pkg, 'utf8')).name === 'hotstats') return dir
      } catch {
        // not ours; keep walking up
      }
    }
    const up = dirname(dir)
    if (up === dir) return join(__dirname, '..', '..')
    dir = up
  }
}

function message(e: unknown): string {
  return e instanceof Error ? e.message.split('\n')[0] : String(e)
}

export function loadNative(): NativeLoad {
  const platform = platformName()
  const candidates: string[] = []
  const override = process.env.HOTSTATS_NATIVE_PATH
  if (override) {
    candidates.push(override)
  } else if (platform) {
    candidates.push(join(packageRoot(), `hotstats.${platform}.node`), `hotstats-${platform}`)
  }
  if (candidates.length === 0) {
    return {
      binding: null,
      from: null,
      platform,
      error: `no prebuilt binary for ${process.platform}-${process.arch}`,
    }
  }
  const errors: string[] = []
  for (const c of candidates) {
    if (c.endsWith('.node') && !existsSync(c)) {
      errors.push(`${c}: not found`)
      continue
    }
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const binding = require(c) as Native
      return { binding, from: c, platform, error: null }
    } catch (e) {
      errors.push(`${c}: ${message(e)}`)
    }
  }
  return { binding: null, from: null, platform, error: errors.join('; ') }
}
