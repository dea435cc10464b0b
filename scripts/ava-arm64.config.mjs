// ava's configuration for the arm64 run under qemu (scripts/test-arm64-node.sh): package.json's
// "ava" section, with the TypeScript hook loaded as tsx/cjs. The specs compile to CommonJS
// (extensions.ts = commonjs), so the CommonJS hook is all they need; `--import=tsx` also starts
// the ESM loader thread, ~3 s of emulated CPU for every test process.
import { readFileSync } from 'node:fs'

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))

export default {
  ...pkg.ava,
  nodeArguments: pkg.ava.nodeArguments.map((a) => (a === '--import=tsx' ? '--require=tsx/cjs' : a)),
}
