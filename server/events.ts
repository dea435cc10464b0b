/**
 * The one shape every ingest protocol produces (StatsD/DogStatsD lines over UDP, TCP or HTTP
 * text, and HTTP JSON/NDJSON events), before name mapping and aggregation.
 */

/** StatsD metric types: counter, gauge, timer, histogram, distribution, set. */
export type StatsdType = 'c' | 'g' | 'ms' | 'h' | 'd' | 's'

export const STATSD_TYPES: readonly StatsdType[] = ['c', 'g', 'ms', 'h', 'd', 's']

export interface StatsdEvent {
  /** The metric name as sent (before mapping), e.g. `api.requests` or `api-requests`. */
  name: string
  type: StatsdType
  /** The number sent; for sets, NaN (the member is in `member`). */
  value: number
  /** Sets: the member to count distinct. */
  member?: string
  /** Gauges: `+3` / `-3` were sent (a signed delta, not an absolute value). */
  delta?: boolean
  /** `@0.1`; 1 when absent. In (0, 1]. */
  sampleRate: number
  /** Tags as [key, value] pairs in the order sent (DogStatsD `|#k:v`, Telegraf `name,k=v`); bare tags have value ''. */
  tags: [string, string][]
  /** `|T<unix seconds>` (DogStatsD) or the JSON `timestamp`, in ms since the epoch; undefined when absent. */
  timestampMs?: number
}

/** Why a line (or an HTTP event) was refused; each reason is its own loss counter. */
export type ParseErrorReason =
  | 'empty_line_name' // no name before ':'
  | 'no_value' // no ':' or nothing after it
  | 'bad_value' // not a number (or not finite), or a bad set member
  | 'bad_type' // unknown or missing type after '|'
  | 'bad_sample_rate' // '@' not followed by a number in (0, 1]
  | 'bad_tag' // a malformed tag (bad characters, empty key)
  | 'too_many_tags' // more than the configured limit
  | 'line_too_long' // longer than the configured limit
  | 'bad_timestamp' // '|T' not followed by a non-negative integer
  | 'bad_field' // an unknown '|' field
  | 'bad_json' // HTTP: a body or an NDJSON line that is not JSON, or an event that is not an object

export const PARSE_ERROR_REASONS: readonly ParseErrorReason[] = [
  'empty_line_name',
  'no_value',
  'bad_value',
  'bad_type',
  'bad_sample_rate',
  'bad_tag',
  'too_many_tags',
  'line_too_long',
  'bad_timestamp',
  'bad_field',
  'bad_json',
]

export interface ParseLimits {
  /** Longest accepted line in bytes (UTF-16 code units of the decoded line); default 4096. */
  maxLineLength: number
  /** Most tags per line; default 32. */
  maxTags: number
}

export const DEFAULT_PARSE_LIMITS: ParseLimits = { maxLineLength: 4096, maxTags: 32 }

/** Where a parser puts what it read: every event, and every refused line with its reason. */
export interface EventSink {
  event(e: StatsdEvent): void
  error(reason: ParseErrorReason, line: string): void
}
