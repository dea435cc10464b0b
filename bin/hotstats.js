#!/usr/bin/env node
// The `hotstats` command (package.json "bin"): `hotstats serve [flags]`, `hotstats --help`.
'use strict'
require('../dist/server/cli.js')
  .main(process.argv.slice(2))
  .then(
    (code) => process.exit(code),
    (e) => {
      process.stderr.write(`hotstats: ${(e && e.stack) || e}\n`)
      process.exit(1)
    },
  )
