// How users meet the library: pack the main package and the linux-x64-gnu package with
// `npm pack`, install both tarballs into a fresh project (hotstats from the local tarballs only), and import hotstats
// from ESM and from CommonJS there, computing on the native backend.
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import test from 'ava'

import { platformName } from '../lib/backend/native'

const root = join(__dirname, '..')
const here = platformName() === 'linux-x64-gnu' && existsSync(join(root, 'hotstats.linux-x64-gnu.node'))
const packTest = here ? test.serial : test.skip

packTest('npm pack + install: ESM and CJS consumers compute on the native backend; the hotstats command serves its dashboard', (t) => {
  const { main, platform } = JSON.parse(execFileSync(process.execPath, [join(root, 'scripts/pack.mjs')], { encoding: 'utf8' }).trim().split('\n').pop()!)
  const dir = mkdtempSync(join(tmpdir(), 'hotstats-consumer-'))
  try {
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }))
    const env = { ...process.env, npm_config_prefer_offline: 'true', npm_config_audit: 'false', npm_config_fund: 'false' }
    delete env.HOTSTATS_BACKEND
    // hotstats itself comes from the two local tarballs; its runtime dependencies (js-yaml,
    // uplot, ioredis: the server's) from npm's cache, or the registry when the cache lacks their
    // metadata. --omit=optional: the other platforms' packages (listed as optionalDependencies,
    // as napi prepublish does) are not needed here.
    execFileSync('npm', ['install', '--prefer-offline', '--omit=optional', '--no-audit', '--no-fund', main, platform], { cwd: dir, env, stdio: 'pipe' })
    const installed = JSON.parse(readFileSync(join(dir, 'node_modules/hotstats/package.json'), 'utf8'))
    t.truthy(installed.optionalDependencies['hotstats-linux-x64-gnu'])
    t.true(existsSync(join(dir, 'node_modules/hotstats/dist/index.d.ts')), 'type declarations ship')

    writeFileSync(
      join(dir, 'esm.mjs'),
      [
        "import { sum, backend, backendInfo } from 'hotstats'",
        "import hotstats from 'hotstats'",
        'const x = new Float64Array(10000).map((_, i) => i + 0.5)',
        'console.log(JSON.stringify({ sum: sum(x), viaDefault: hotstats.sum([1, 2, 3.5]), backend: backend(), from: backendInfo().nativeFrom }))',
      ].join('\n'),
    )
    writeFileSync(
      join(dir, 'cjs.cjs'),
      [
        "const hs = require('hotstats')",
        'const x = new Float64Array(10000).map((_, i) => i + 0.5)',
        'console.log(JSON.stringify({ sum: hs.sum(x), viaDefault: hs.sum([1, 2, 3.5]), backend: hs.backend(), from: hs.backendInfo().nativeFrom }))',
      ].join('\n'),
    )
    for (const script of ['esm.mjs', 'cjs.cjs']) {
      const out = JSON.parse(execFileSync(process.execPath, [script], { cwd: dir, env, encoding: 'utf8' }))
      t.is(out.sum, 50000000, script)
      t.is(out.viaDefault, 6.5, script)
      t.not(out.backend, 'js', `${script} runs native`)
      t.is(out.from, 'hotstats-linux-x64-gnu', `${script} loads the platform package`)
    }
    // The `hotstats` command ships and runs: --help, then a server that serves its dashboard.
    const help = execFileSync(join(dir, 'node_modules/.bin/hotstats'), ['--help'], { cwd: dir, env, encoding: 'utf8' })
    t.regex(help, /usage: hotstats serve/)
    const srv = spawnSync(
      process.execPath,
      [
        '-e',
        `const { spawn } = require('node:child_process');
         const p = spawn(${JSON.stringify(join(dir, 'node_modules/.bin/hotstats'))}, ['serve', '--http-port', '0', '--statsd-port', '0', '--quiet']);
         p.stdout.once('data', async (d) => {
           const port = /http=[^:]+:(\\d+)/.exec(String(d))[1];
           const page = await fetch('http://127.0.0.1:' + port + '/');
           const plot = await fetch('http://127.0.0.1:' + port + '/assets/uplot/uPlot.iife.min.js');
           console.log(JSON.stringify({ page: page.status, html: (await page.text()).includes('app.js'), plot: plot.status }));
           p.kill('SIGTERM');
         });`,
      ],
      { cwd: dir, env, encoding: 'utf8', timeout: 60_000 },
    )
    t.deepEqual(JSON.parse(srv.stdout.trim()), { page: 200, html: true, plot: 200 }, srv.stderr)
    // The same install forced onto the JS backend still works.
    const js = JSON.parse(execFileSync(process.execPath, ['cjs.cjs'], { cwd: dir, env: { ...env, HOTSTATS_BACKEND: 'js' }, encoding: 'utf8' }))
    t.is(js.backend, 'js')
    t.is(js.sum, 50000000)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
