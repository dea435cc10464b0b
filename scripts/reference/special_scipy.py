#!/usr/bin/env python3
"""Reference values for the distribution functions behind hotstats' p-values, from scipy.

Run: pip install scipy==1.14.1 && python3 scripts/reference/special_scipy.py
Writes __test__/fixtures/special-scipy.csv (kind,a,b,value; floats as repr, exact round trip),
read by crates/hotstats-core/tests/special_scipy.rs and __test__/special.spec.ts.
"""
import os
import scipy
from scipy import special, stats

rows = []
# Student t upper tail P(T > t): small to huge degrees of freedom, near zero to far tails, both signs.
for df in [1, 2, 3, 3.5, 5, 10, 29.7, 57.3, 100, 1000, 12345.6, 1e5, 1e6]:  # 1e8: see special.rs
    for t in [-40, -3, -1, -0.2, 1e-6, 0.01, 0.5, 1, 1.96, 2, 3, 5, 10, 40, 300, 1e4]:
        v = float(stats.t.sf(t, df))
        if v > 1e-300:
            rows.append(("t_sf", t, df, v))
# Chi-square upper tail.
for k in [1, 2, 3, 4.5, 10, 30, 100, 999, 1e4]:
    for x in [1e-6, 0.1, 0.5, 1, 2, 5, 10, 50, 100, 500, 1000, 1e4, 2e4]:
        v = float(stats.chi2.sf(x, k))
        if v > 1e-300:
            rows.append(("chi2_sf", x, k, v))
# Normal upper tail.
for z in [-30, -8, -2, -0.5, 0, 1e-8, 0.3, 1, 1.645, 2.5, 5, 8, 15, 25, 37]:
    v = float(stats.norm.sf(z))
    if v > 1e-300:
        rows.append(("norm_sf", z, 0, v))
# Regularized incomplete beta, both tails, and log-gamma / log-beta.
for a, b, x in [(0.5, 0.5, 0.3), (2, 3, 0.4), (0.5, 5e5, 1e-6), (5e5, 0.5, 0.999999), (30, 40, 0.45),
                (1e4, 2e4, 0.33), (0.1, 0.2, 0.9), (3, 0.5, 0.999), (200, 300, 0.1)]:
    lo = float(special.betainc(a, b, x))
    up = float(special.betaincc(a, b, x))
    if lo > 1e-300:
        rows.append(("beta_lower", a, b, lo, x))
    if up > 1e-300:
        rows.append(("beta_upper", a, b, up, x))
for x in [1e-5, 0.1, 0.5, 1, 1.5, 2, 2.5, 7.3, 9.99, 10, 10.01, 55.5, 1e3, 1e6, 1e10]:
    rows.append(("ln_gamma", x, 0, float(special.gammaln(x))))
for a, b in [(0.5, 0.5), (2, 3), (0.5, 5e5), (1e4, 2e4), (7, 1e6), (1e-3, 12)]:
    rows.append(("ln_beta", a, b, float(special.betaln(a, b))))

out = os.path.join(os.path.dirname(__file__), "..", "..", "__test__", "fixtures", "special-scipy.csv")
with open(out, "w") as f:
    f.write(f"# scipy {scipy.__version__}: kind,a,b,value[,x] (scripts/reference/special_scipy.py)\n")
    for r in rows:
        f.write(",".join(repr(float(v)) if not isinstance(v, str) else v for v in r) + "\n")
print(f"wrote {len(rows)} rows to {os.path.normpath(out)}")
