// The published types compile in a user's TypeScript project without @types/node (issue 18): a
// tiny project with `types: []` and `skipLibCheck: false` type-checks against dist/*.d.ts (built
// by `npm run build:ts`, as `npm test` does first), through the package's `types` and through its
// `exports` map. The same project with @types/node and express checks that node's and express's
// request, response and agent objects still fit the handlers and the Pushgateway options. The
// projects also pin typing behaviour users rely on (@ts-expect-error lines fail if it loosens).
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import test from 'ava'

const root = join(__dirname, '..')
const tsc = join(root, 'node_modules/typescript/bin/tsc')

function newest(dir: string): number {
  let t = 0
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    t = Math.max(t, e.isDirectory() ? newest(p) : e.name.endsWith('.ts') ? statSync(p).mtimeMs : 0)
  }
  return t
}

/** A project folder whose node_modules has hotstats (this repository) and the given packages. */
function project(files: Record<string, string>, links: string[] = []): string {
  const dir = mkdtempSync(join(tmpdir(), 'hotstats-types-'))
  mkdirSync(join(dir, 'node_modules'))
  symlinkSync(root, join(dir, 'node_modules/hotstats'), 'dir')
  for (const l of links) symlinkSync(join(root, 'node_modules', l), join(dir, 'node_modules', l), 'dir')
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text)
  return dir
}

function typeCheck(dir: string, config: string): string {
  const r = spawnSync(process.execPath, [tsc, '-p', join(dir, config)], { encoding: 'utf8' })
  return r.status === 0 ? '' : r.stdout + r.stderr
}

const tsconfig = (options: Record<string, unknown>) =>
  JSON.stringify({ compilerOptions: { target: 'ES2022', lib: ['ES2022'], strict: true, noEmit: true, skipLibCheck: false, ...options }, files: ['app.ts'] })

// Uses most of the API, so that every public declaration it reaches is checked.
const APP = `
import * as hs from 'hotstats'
import { Counter, Experiment, HyperLogLog, Moments, QuantileSketch, Registry, SlidingWindow, UniqueCounter } from 'hotstats'

const w = new SlidingWindow({ windowMs: 60_000, maxKeys: 100 })
w.record('GET /', 12, { unique: 'user-1' })
w.record('GET /', 13, { unique: new Uint8Array([1, 2]) })
const s: hs.WindowStats = w.stats('GET /')
const deleted: boolean = w.delete('GET /')
const refused: number = w.refusedRecords + w.refusedKeys() + w.size + s.count + Number(deleted)

const bytes: Uint8Array = new QuantileSketch().add(1).serialize()
const m: Uint8Array = new Moments().add(1).serialize()
const redis: Uint8Array = new HyperLogLog().add('a').toRedis()

// UniqueCounter's labels are typed by its label names, with string or number values (as Counter's).
const u = new UniqueCounter({ labelNames: ['route', 'status'], maxKeys: 10 })
u.add({ route: '/a', status: 200 }, 'x')
u.add({ route: '/a', status: '200' }, 'y')
// @ts-expect-error 'sttus' is not one of the label names
u.add({ route: '/a', sttus: 200 }, 'x')
// @ts-expect-error every label is needed
u.count({ route: '/a' })
const first: string | number = u.entries()[0].labels.status
const c = new Counter({ name: 'requests_total', help: 'h', labelNames: ['route', 'status'] as const, registers: [] })
c.inc({ route: '/a', status: 200 })
// @ts-expect-error 'sttus' is not one of the label names
c.inc({ sttus: 200 })

const e = new Experiment({ variants: ['A', 'B'] })
e.variant('A').expose().convert().observe(1)
const r = new Registry()
const text: Promise<string> = r.metrics()
const handler = hs.metricsHandler({ registry: r })
export { refused, bytes, m, redis, first, text, handler }
`

test('dist/*.d.ts compiles in a project without @types/node (skipLibCheck: false), and node/express objects fit the handlers', (t) => {
  const built = statSync(join(root, 'dist/index.d.ts'), { throwIfNoEntry: false })
  const sources = Math.max(newest(join(root, 'lib')), statSync(join(root, 'index.ts')).mtimeMs, statSync(join(root, 'native.d.ts')).mtimeMs)
  if (!built || built.mtimeMs < sources) {
    t.fail('dist/index.d.ts is missing or older than the sources: run `npm run build:ts` first (npm test builds before the specs)')
    return
  }
  const bare = project({
    'tsconfig.json': tsconfig({ module: 'commonjs', moduleResolution: 'node', types: [] }),
    'tsconfig.node16.json': tsconfig({ module: 'node16', moduleResolution: 'node16', types: [] }),
    'app.ts': APP,
  })
  t.is(typeCheck(bare, 'tsconfig.json'), '', 'types: [] (package.json "types")')
  t.is(typeCheck(bare, 'tsconfig.node16.json'), '', 'types: [] (node16: package.json "exports")')

  const withNode = project(
    {
      'tsconfig.json': tsconfig({ module: 'commonjs', moduleResolution: 'node', types: ['node'], esModuleInterop: true }),
      'app.ts': `${APP}
import * as http from 'node:http'
import express from 'express'
http.createServer(hs.metricsHandler())
const app = express()
app.use(hs.httpMetrics())
app.get('/metrics', hs.metricsHandler())
const gw = new hs.Pushgateway('http://127.0.0.1:9091', { agent: new http.Agent({ keepAlive: true }), headers: { 'x-a': '1' }, timeout: 500 })
export const status: Promise<number | undefined> = gw.push({ jobName: 'j' }).then((x) => x.resp.statusCode)
`,
    },
    ['@types', 'express'],
  )
  t.is(typeCheck(withNode, 'tsconfig.json'), '', 'with @types/node and express')
})
