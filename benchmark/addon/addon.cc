// Benchmark-only peer: a minimal node-addon-api addon. `sum` is a plain AVX2 sum (4 accumulators,
// no compensation): the floor for call overhead and the ceiling for speed. `streamRead` reads
// memory with as little arithmetic as possible (bitwise OR of every word): the bandwidth line.
// Built by scripts/build-bench-addon.mjs with headers from npm (node-api-headers,
// node-addon-api); nothing is downloaded at build time.
#include <immintrin.h>
#include <napi.h>

#include <cstdint>

static double plain_avx2_sum(const double* p, size_t n) {
  __m256d a0 = _mm256_setzero_pd(), a1 = a0, a2 = a0, a3 = a0;
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    a0 = _mm256_add_pd(a0, _mm256_loadu_pd(p + i));
    a1 = _mm256_add_pd(a1, _mm256_loadu_pd(p + i + 4));
    a2 = _mm256_add_pd(a2, _mm256_loadu_pd(p + i + 8));
    a3 = _mm256_add_pd(a3, _mm256_loadu_pd(p + i + 12));
  }
  __m256d a = _mm256_add_pd(_mm256_add_pd(a0, a1), _mm256_add_pd(a2, a3));
  double t[4];
  _mm256_storeu_pd(t, a);
  double s = (t[0] + t[1]) + (t[2] + t[3]);
  for (; i < n; i++) s += p[i];
  return s;
}

static uint64_t stream_or(const double* p, size_t n) {
  const __m256i* q = reinterpret_cast<const __m256i*>(p);
  __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    a0 = _mm256_or_si256(a0, _mm256_loadu_si256(q + i / 4));
    a1 = _mm256_or_si256(a1, _mm256_loadu_si256(q + i / 4 + 1));
    a2 = _mm256_or_si256(a2, _mm256_loadu_si256(q + i / 4 + 2));
    a3 = _mm256_or_si256(a3, _mm256_loadu_si256(q + i / 4 + 3));
  }
  __m256i a = _mm256_or_si256(_mm256_or_si256(a0, a1), _mm256_or_si256(a2, a3));
  uint64_t t[4];
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(t), a);
  uint64_t r = t[0] | t[1] | t[2] | t[3];
  const uint64_t* w = reinterpret_cast<const uint64_t*>(p);
  for (; i < n; i++) r |= w[i];
  return r;
}

static Napi::Value Sum(const Napi::CallbackInfo& info) {
  Napi::Float64Array x = info[0].As<Napi::Float64Array>();
  return Napi::Number::New(info.Env(), plain_avx2_sum(x.Data(), x.ElementLength()));
}

static Napi::Value StreamRead(const Napi::CallbackInfo& info) {
  Napi::Float64Array x = info[0].As<Napi::Float64Array>();
  return Napi::Number::New(info.Env(), static_cast<double>(stream_or(x.Data(), x.ElementLength()) & 0xff));
}

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("sum", Napi::Function::New(env, Sum));
  exports.Set("streamRead", Napi::Function::New(env, StreamRead));
  return exports;
}

NODE_API_MODULE(hotstats_bench_addon, Init)
