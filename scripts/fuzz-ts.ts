// The decoder fuzzer's CLI (issue 19: fuzz what ships): feeds FUZZ_TS_INPUTS inputs (default
// 500000) per format to the decoders of the backend in use (HOTSTATS_BACKEND=js for the JS one),
// from a seed it prints (FUZZ_TS_SEED to replay one), and prints per-format counts and times.
// Failing inputs are printed as hex; the exit code is 1 if any. See __test__/helpers/decoder-fuzz.ts.
//   npm run build:ts && node --import tsx scripts/fuzz-ts.ts [format...]
import { createFuzzer, FORMATS, loadLib, type Failure, type Format } from '../__test__/helpers/decoder-fuzz'

// dist/ (npm run build:ts): what users load. FUZZ_TS_FROM=src fuzzes the sources through tsx.
const lib = loadLib(process.env.FUZZ_TS_FROM === 'src' ? 'src' : 'dist')
const { fuzzFormat } = createFuzzer(lib)

const inputs = Number(process.env.FUZZ_TS_INPUTS ?? 500_000)
const seed = process.env.FUZZ_TS_SEED !== undefined ? Number(process.env.FUZZ_TS_SEED) >>> 0 : (Math.random() * 2 ** 32) >>> 0
const wanted = process.argv.slice(2)
const formats = wanted.length ? (wanted as Format[]) : [...FORMATS]
for (const f of formats) if (!FORMATS.includes(f)) throw new Error(`unknown format ${f}; formats: ${FORMATS.join(', ')}`)
if (!Number.isSafeInteger(inputs) || inputs < 1) throw new Error(`FUZZ_TS_INPUTS must be a positive integer, got ${process.env.FUZZ_TS_INPUTS}`)

console.log(`fuzz-ts: backend ${lib.index.backendInfo().backend} (${process.env.FUZZ_TS_FROM === 'src' ? 'sources' : 'dist/'}), seed ${seed} (FUZZ_TS_SEED=${seed} replays it), ${inputs} inputs per format`)
const failures: Failure[] = []
for (const format of formats) {
  const r = fuzzFormat(format, seed, inputs, failures)
  const error = format === 'server-state' ? 'StateFileError' : 'RangeError'
  console.log(`  ${format.padEnd(12)} ${r.inputs} inputs: ${r.decoded} decoded, ${r.refused} refused with a ${error}, ${(r.ms / 1000).toFixed(1)} s`)
}
for (const f of failures) console.log(`FAIL ${f.format} input ${f.iteration}: ${f.message}\n  hex ${f.hex.length > 4000 ? `${f.hex.slice(0, 4000)}... (${f.hex.length / 2} bytes)` : f.hex}`)
if (failures.length) {
  console.log(`fuzz-ts: ${failures.length} failing inputs (seed ${seed})`)
  process.exit(1)
}
console.log('fuzz-ts: every input decoded to a valid object or was refused (RangeError; StateFileError for the state file)')
