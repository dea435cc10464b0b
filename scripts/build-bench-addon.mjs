// Builds benchmark/addon (the node-addon-api peer) with g++ and headers from npm packages:
// no node-gyp, no header download. Output: benchmark/addon/build/addon.node.
import { execFileSync } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const require = createRequire(import.meta.url)
const napiHeaders = require('node-api-headers').include_dir
const addonApi = dirname(require.resolve('node-addon-api/package.json'))
const out = join(root, 'benchmark/addon/build')
mkdirSync(out, { recursive: true })
const args = [
  '-O3', '-mavx2', '-shared', '-fPIC', '-std=c++17',
  '-DNAPI_VERSION=8', '-DNAPI_DISABLE_CPP_EXCEPTIONS', '-DNODE_ADDON_API_DISABLE_DEPRECATED',
  `-I${napiHeaders}`, `-I${addonApi}`,
  join(root, 'benchmark/addon/addon.cc'), '-o', join(out, 'addon.node'),
]
if (process.platform === 'darwin') args.push('-undefined', 'dynamic_lookup')
execFileSync(process.env.CXX ?? 'g++', args, { stdio: 'inherit' })
console.log(`built ${join(out, 'addon.node')}`)
