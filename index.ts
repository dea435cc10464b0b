// hotstats public entry: re-exports only.
export { backend, cpuFeatures, BACKEND_NAMES } from './lib/backend/backend'
export type { BackendInfo, BackendName, RequestedBackend } from './lib/backend/backend'
export {
  sum,
  mean,
  min,
  max,
  variance,
  stddev,
  summarize,
  sumAsync,
  meanAsync,
  minAsync,
  maxAsync,
  varianceAsync,
  stddevAsync,
  summarizeAsync,
  backendInfo,
  backendKernels,
  availableBackends,
  NATIVE_CROSSOVER,
  ASYNC_INLINE_BELOW,
} from './lib/kernels/kernels'
export type { Summary as KernelSummary, Numbers, VarianceOptions, BackendKernels } from './lib/kernels/kernels'
export { HyperLogLog, HLL_NATIVE_BATCH } from './lib/hll/hyperloglog'
export { Moments, MOMENTS_NATIVE_BATCH } from './lib/moments/moments'
export { GCounter, PNCounter } from './lib/counters/counters'
export { QuantileSketch, QUANTILE_STAGING } from './lib/quantile/quantile'
export { UniqueCounter, SPARSE_MAX_REGISTERS } from './lib/hll/unique'
export type { UniqueCounterOptions, UniqueLabels } from './lib/hll/unique'
export type { QuantileSketchOptions } from './lib/quantile/quantile'
export type { ReplicaOptions } from './lib/counters/counters'
export { encodeNativeHistogramFamily, encodeScalarFamily, PROMETHEUS_PROTOBUF_CONTENT_TYPE, NATIVE_HISTOGRAM_DEFAULT_SCHEMA } from './lib/metrics/native-histogram'
export type { NativeHistogram, NativeHistogramSeries, ScalarSeries, BucketSpan } from './lib/metrics/native-histogram'
export { Registry, register, contentType, validateMetricName } from './lib/metrics/registry'
export type { RegistryOptions, ContentType, CustomMetric } from './lib/metrics/registry'
export type { CustomMetricObject } from './lib/metrics/exposition'
export { Counter, CounterChild } from './lib/metrics/counter'
export { Gauge, GaugeChild } from './lib/metrics/gauge'
export { Histogram, HistogramChild, DEFAULT_BUCKETS, linearBuckets, exponentialBuckets } from './lib/metrics/histogram'
export type { HistogramConfiguration } from './lib/metrics/histogram'
export { Summary, SummaryChild, DEFAULT_PERCENTILES } from './lib/metrics/summary'
export type { SummaryConfiguration } from './lib/metrics/summary'
export { DEFAULT_MAX_SERIES } from './lib/metrics/metric'
export type { MetricConfiguration, LabelValues, LabelValue, Aggregator, MetricObject, MetricValue } from './lib/metrics/metric'
export { FLUSH_INTERVAL_MS, flushAllMetrics } from './lib/metrics/thread'
export { PROMETHEUS_CONTENT_TYPE, OPENMETRICS_CONTENT_TYPE } from './lib/metrics/exposition'
export { PROMETHEUS_CONTENT_TYPE as prometheusContentType, OPENMETRICS_CONTENT_TYPE as openMetricsContentType } from './lib/metrics/exposition'
export { Pushgateway } from './lib/metrics/pushgateway'
export { metricsHandler, httpMetrics, fastifyMetrics, negotiateContentType } from './lib/metrics/http'
export type { MetricsHandlerOptions, HttpMetricsOptions, HttpRequestLike, HttpResponseLike } from './lib/metrics/http'
export type { PushgatewayOptions, PushgatewayParameters, PushgatewayResponse } from './lib/metrics/pushgateway'
export { collectDefaultMetrics } from './lib/metrics/default-metrics'
export type { DefaultMetricsOptions } from './lib/metrics/default-metrics'
export { AggregatorRegistry, ClusterAggregator, aggregators, mergeRegistryStates, registryState } from './lib/metrics/cluster'
export type { ClusterAggregatorOptions, RegistryState } from './lib/metrics/cluster'
export { welchTTest, welchTTestFromSummaries, studentTTest, oneSampleTTest, mannWhitneyU, chiSquareTest, twoProportionZTest, betaBinomialAB, shapiroWilk, fitDistribution } from './lib/inference/inference'
export type {
  Alternative,
  AlternativeOptions,
  TTestResult,
  SampleSummary,
  StatisticResult,
  ChiSquareResult,
  BetaBinomialResult,
  BetaBinomialInput,
  TwoProportions,
  MannWhitneyOptions,
  MannWhitneyMethod,
  DistributionFit,
  DistributionCandidate,
} from './lib/inference/inference'
export { chartConstants, xbarRChart, xbarSChart, individualsChart, ewmaChart, cusumChart } from './lib/spc/spc'
export { ControlChart } from './lib/spc/control-chart'
export type {
  RuleSet,
  RuleOptions,
  ChartConstants,
  ChartLine,
  ChartName,
  ChartViolation,
  XbarRChart,
  XbarSChart,
  IndividualsChart,
  EwmaChart,
  EwmaOptions,
  CusumChart,
  CusumOptions,
  CusumSignal,
} from './lib/spc/spc'
export type { ControlChartType, ControlChartOptions, ControlSignal, ControlLimits } from './lib/spc/control-chart'
export { Experiment, ExperimentVariant, EXPERIMENT_STAGE } from './lib/inference/experiment'
export type { ExperimentOptions, VariantSummary } from './lib/inference/experiment'
export { SlidingWindow, WINDOW_STAGE } from './lib/window/window'
export type { SlidingWindowOptions, WindowStats, RecordOptions } from './lib/window/window'
export { Ingestor, Producer } from './lib/ingest/ingest'
export type { IngestorOptions, IngestorHandle, IngestCounts, IngestEvent, PushOptions, CpuBudget, FullPolicy } from './lib/ingest/ingest'
export { SampleRing } from './lib/window/sample-ring'
