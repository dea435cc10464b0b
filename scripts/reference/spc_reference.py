#!/usr/bin/env python3
"""Reference values for hotstats' process-control charts (an independent implementation).

Run: pip install scipy==1.14.1 numpy && python3 scripts/reference/spc_reference.py
Writes __test__/fixtures/spc-reference.json, read by crates/hotstats-core/tests/spc_reference.rs
and __test__/spc.spec.ts:
- "constants": the control-chart constants for subgroup sizes 2..25. d2 = E[range of n standard
  normals] and d3 = its standard deviation come from scipy's adaptive quadrature (quad) of the
  range's distribution; c4 from the gamma function. The script checks them against the
  published table (ASTM STP 15D / Montgomery, Appendix VI) to its 3-4 printed decimals.
- "charts": X-bar/R, X-bar/S, individuals/moving-range, EWMA and CUSUM charts of seeded data,
  with every rule violation, computed here by the plain textbook formulas.

Rule semantics (the spec hotstats implements): a violation is reported at point i when the run
of points ending at i breaks the rule. For the "k of m beyond a zone" rules point i itself must
be one of the k, on the same side. "Beyond kσ" is p - center > k*sigma (or center - p > k*sigma);
a point exactly on the center line is on neither side. The dispersion charts (range, standard
deviation, moving range) check rule 1 only, against their own limits. A violation's index is the
position in its chart's points (moving range i is |x[i+1] - x[i]|).
"""
import json
import warnings
import math
import os

import numpy as np
import scipy
from scipy import integrate, special

warnings.simplefilter("ignore", integrate.IntegrationWarning)  # quad's tolerance is set at the edge on purpose
Phi = special.ndtr  # the standard normal cdf (stats.norm.cdf is the same function, slower per call)


def phi(x):
    return math.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)


def d2(n):
    f = lambda x: 1.0 - Phi(x) ** n - Phi(-x) ** n
    v, _ = integrate.quad(f, -np.inf, np.inf, epsabs=1e-14, epsrel=1e-14, limit=500)
    return v


def range_sf(w, n):
    """P(R > w) = 1 - n ∫ φ(x) [Φ(x + w) - Φ(x)]^(n-1) dx."""
    g = lambda x: phi(x) * (Phi(x + w) - Phi(x)) ** (n - 1)
    v, _ = integrate.quad(g, -np.inf, np.inf, epsabs=1e-14, epsrel=1e-13, limit=500)
    return 1.0 - n * v


def d3(n, d2n):
    second, _ = integrate.quad(lambda w: 2.0 * w * range_sf(w, n), 0, np.inf, epsabs=1e-13, epsrel=1e-12, limit=500)
    return math.sqrt(second - d2n * d2n)


def d3_tippett(n, d2n):
    """A second route to d3, as a check: E[R²] = 2 ∬_{x<y} 1 - Φ(y)^n - (1-Φ(x))^n + (Φ(y)-Φ(x))^n."""
    f = lambda x, y: 1.0 - Phi(y) ** n - Phi(-x) ** n + (Phi(y) - Phi(x)) ** n
    v, _ = integrate.dblquad(lambda x, y: f(x, y), -12, 12, -12, lambda y: y, epsabs=1e-12, epsrel=1e-12)
    return math.sqrt(2.0 * v - d2n * d2n)


def c4(n):
    return math.sqrt(2.0 / (n - 1)) * math.exp(special.gammaln(n / 2) - special.gammaln((n - 1) / 2))


# Published table (Montgomery, Introduction to Statistical Quality Control, Appendix VI).
PUBLISHED = {
    2: (1.128, 0.853, 0.7979), 3: (1.693, 0.888, 0.8862), 4: (2.059, 0.880, 0.9213),
    5: (2.326, 0.864, 0.9400), 6: (2.534, 0.848, 0.9515), 7: (2.704, 0.833, 0.9594),
    8: (2.847, 0.820, 0.9650), 9: (2.970, 0.808, 0.9693), 10: (3.078, 0.797, 0.9727),
    15: (3.472, 0.756, 0.9823), 20: (3.735, 0.729, 0.9869), 25: (3.931, 0.708, 0.9896),
}

constants = []
for n in range(2, 26):
    a, b, c = d2(n), 0.0, c4(n)
    b = d3(n, a)
    if n in PUBLISHED:
        pd2, pd3, pc4 = PUBLISHED[n]
        assert abs(a - pd2) <= 0.0005 + 1e-12, (n, a, pd2)
        assert abs(b - pd3) <= 0.0005 + 1e-12, (n, b, pd3)
        assert abs(c - pc4) <= 0.00005 + 1e-12, (n, c, pc4)
    s = math.sqrt(1.0 - c * c)
    constants.append({
        "n": n, "d2": a, "d3": b, "c4": c,
        "A2": 3.0 / (a * math.sqrt(n)), "A3": 3.0 / (c * math.sqrt(n)),
        "D3": max(0.0, 1.0 - 3.0 * b / a), "D4": 1.0 + 3.0 * b / a,
        "B3": max(0.0, 1.0 - 3.0 * s / c), "B4": 1.0 + 3.0 * s / c,
    })
for n in (3, 7):
    assert abs(d3_tippett(n, CONST_D2 := d2(n)) - d3(n, CONST_D2)) < 1e-9, n
assert abs(constants[0]["d2"] - 2.0 / math.sqrt(math.pi)) < 1e-14  # d2(2) = 2/√π exactly
CONST = {c["n"]: c for c in constants}

# ---- rules ---------------------------------------------------------------------------------


def above(p, c, s, k):
    return p - c > k * s


def below(p, c, s, k):
    return c - p > k * s


def rules_at(p, i, c, s, rule_set):
    """The rules that the run of points ending at i breaks."""
    out = []
    if rule_set == "none":
        return out

    def k_of_m(k, m, zone):
        if i + 1 < m:
            return False
        w = p[i - m + 1:i + 1]
        for side in (above, below):
            if side(p[i], c, s, zone) and sum(side(v, c, s, zone) for v in w) >= k:
                return True
        return False

    def same_side(m):
        if i + 1 < m:
            return False
        w = p[i - m + 1:i + 1]
        return all(v > c for v in w) or all(v < c for v in w)

    beyond3 = above(p[i], c, s, 3) or below(p[i], c, s, 3)
    if rule_set == "western-electric":
        if beyond3:
            out.append(1)
        if k_of_m(2, 3, 2):
            out.append(2)
        if k_of_m(4, 5, 1):
            out.append(3)
        if same_side(8):
            out.append(4)
        return out
    # Nelson
    if beyond3:
        out.append(1)
    if same_side(9):
        out.append(2)
    if i + 1 >= 6:
        w = p[i - 5:i + 1]
        d = [w[j + 1] - w[j] for j in range(5)]
        if all(x > 0 for x in d) or all(x < 0 for x in d):
            out.append(3)
    if i + 1 >= 14:
        w = p[i - 13:i + 1]
        d = [w[j + 1] - w[j] for j in range(13)]
        if all(x != 0 for x in d) and all((d[j] > 0) != (d[j + 1] > 0) for j in range(12)):
            out.append(4)
    if k_of_m(2, 3, 2):
        out.append(5)
    if k_of_m(4, 5, 1):
        out.append(6)
    if i + 1 >= 15:
        w = p[i - 14:i + 1]
        if all(not above(v, c, s, 1) and not below(v, c, s, 1) for v in w):
            out.append(7)
    if i + 1 >= 8:
        w = p[i - 7:i + 1]
        if all(above(v, c, s, 1) or below(v, c, s, 1) for v in w):
            out.append(8)
    return out


def violations(p, c, s, rule_set, chart):
    return [{"chart": chart, "index": i, "rule": r} for i in range(len(p)) for r in rules_at(p, i, c, s, rule_set)]


def limit_violations(p, lcl, ucl, chart):
    return [{"chart": chart, "index": i, "rule": 1} for i, v in enumerate(p) if v > ucl or v < lcl]


# ---- charts --------------------------------------------------------------------------------


def xbar_chart(groups, kind, rule_set):
    n = len(groups[0])
    k = CONST[n]
    means = [float(np.mean(g)) for g in groups]
    if kind == "r":
        disp = [float(max(g) - min(g)) for g in groups]
    else:
        disp = [float(np.std(g, ddof=1)) for g in groups]
    center = float(np.mean(means))
    dbar = float(np.mean(disp))
    sigma = dbar / (k["d2"] if kind == "r" else k["c4"])
    s_mean = sigma / math.sqrt(n)
    lo, hi = (k["D3"], k["D4"]) if kind == "r" else (k["B3"], k["B4"])
    dname = "range" if kind == "r" else "stddev"
    return {
        "sigma": sigma,
        "xbar": {"center": center, "ucl": center + 3 * s_mean, "lcl": center - 3 * s_mean, "points": means},
        dname: {"center": dbar, "ucl": hi * dbar, "lcl": lo * dbar, "points": disp},
        "violations": violations(means, center, s_mean, rule_set, "xbar") + limit_violations(disp, lo * dbar, hi * dbar, dname),
    }


def imr_chart(x, rule_set):
    mr = [abs(x[i] - x[i - 1]) for i in range(1, len(x))]
    center = float(np.mean(x))
    mrbar = float(np.mean(mr))
    sigma = mrbar / CONST[2]["d2"]
    return {
        "sigma": sigma,
        "individuals": {"center": center, "ucl": center + 3 * sigma, "lcl": center - 3 * sigma, "points": x},
        "movingRange": {"center": mrbar, "ucl": CONST[2]["D4"] * mrbar, "lcl": 0.0, "points": mr},
        "violations": violations(x, center, sigma, rule_set, "individuals")
        + limit_violations(mr, 0.0, CONST[2]["D4"] * mrbar, "movingRange"),
    }


def ewma_chart(x, lam, L, target, sigma):
    z, prev, ucl, lcl, sig = [], target, [], [], []
    for i, v in enumerate(x, start=1):
        prev = lam * v + (1 - lam) * prev
        half = L * sigma * math.sqrt(lam / (2 - lam) * (1 - (1 - lam) ** (2 * i)))
        z.append(prev)
        ucl.append(target + half)
        lcl.append(target - half)
        if prev > target + half or prev < target - half:
            sig.append(i - 1)
    return {"target": target, "sigma": sigma, "points": z, "ucl": ucl, "lcl": lcl, "signals": sig}


def cusum_chart(x, k, h, target, sigma):
    K, H = k * sigma, h * sigma
    cp, cm, up, lo, sig = 0.0, 0.0, [], [], []
    for i, v in enumerate(x):
        cp = max(0.0, v - (target + K) + cp)
        cm = max(0.0, (target - K) - v + cm)
        up.append(cp)
        lo.append(cm)
        if cp > H:
            sig.append({"index": i, "side": "upper"})
        if cm > H:
            sig.append({"index": i, "side": "lower"})
    return {"target": target, "sigma": sigma, "h": H, "k": K, "upper": up, "lower": lo, "signals": sig}


# ---- data ----------------------------------------------------------------------------------
rng = np.random.default_rng(20261121)


def r3(a):
    return [float(round(v, 3)) for v in a]


def groups_of(m, n, shift=lambda j: 0.0, scale=lambda j: 1.0):
    return [r3(rng.normal(10.0 + shift(j), 2.0 * scale(j), n)) for j in range(m)]


datasets = {
    "in-control n=5": groups_of(25, 5),
    "shift after 12, n=4": groups_of(30, 4, shift=lambda j: 1.8 if j >= 12 else 0.0),
    "one outlier, n=2": groups_of(20, 2, shift=lambda j: 9.0 if j == 7 else 0.0),
    "trend, n=3": groups_of(24, 3, shift=lambda j: 0.25 * j),
    "steady rise, n=4": groups_of(20, 4, shift=lambda j: 0.5 * j if j >= 10 else 0.0, scale=lambda j: 0.1 if j >= 10 else 1.0),
    "alternating, n=6": groups_of(30, 6, shift=lambda j: 2.2 * (1 if j % 2 else -1)),
    "spread jump, n=10": groups_of(25, 10, scale=lambda j: 3.0 if j in (5, 18) else 1.0),
    "mixture, n=8": groups_of(30, 8, shift=lambda j: (2.5 if j % 2 else -2.5) if 10 <= j < 22 else 0.0),
    "hugging, n=25": groups_of(30, 25, scale=lambda j: 0.2 if 8 <= j < 26 else 1.0),
}
charts = []
for name, groups in datasets.items():
    for kind in ("r", "s"):
        for rule_set in ("western-electric", "nelson"):
            charts.append({"fn": f"xbar{kind.upper()}", "name": name, "rules": rule_set, "subgroups": groups,
                           "expected": xbar_chart(groups, kind, rule_set)})

series = {
    "in-control": r3(rng.normal(50, 4, 60)),
    "drift": r3([50 + 0.15 * i + v for i, v in enumerate(rng.normal(0, 4, 80))]),
    "step": r3([50 + (6 if i >= 40 else 0) + v for i, v in enumerate(rng.normal(0, 4, 90))]),
    "alternating": r3([50 + (5 if i % 2 else -5) + v for i, v in enumerate(rng.normal(0, 1, 40))]),
}
for name, x in series.items():
    for rule_set in ("western-electric", "nelson"):
        charts.append({"fn": "imr", "name": name, "rules": rule_set, "values": x, "expected": imr_chart(x, rule_set)})
    for lam, L in ((0.2, 3.0), (0.05, 2.7), (1.0, 3.0)):
        charts.append({"fn": "ewma", "name": name, "values": x, "lambda": lam, "L": L, "target": 50.0, "sigma": 4.0,
                       "expected": ewma_chart(x, lam, L, 50.0, 4.0)})
    for k, h in ((0.5, 5.0), (0.25, 8.0)):
        charts.append({"fn": "cusum", "name": name, "values": x, "k": k, "h": h, "target": 50.0, "sigma": 4.0,
                       "expected": cusum_chart(x, k, h, 50.0, 4.0)})

assert any(v["rule"] == 4 for c in charts if c["fn"] != "ewma" and c["fn"] != "cusum" for v in c["expected"]["violations"])
covered = {(c["rules"], v["rule"]) for c in charts if "rules" in c for v in c["expected"]["violations"] if v["chart"] in ("xbar", "individuals")}
for rs, top in (("western-electric", 4), ("nelson", 8)):
    missing = [r for r in range(1, top + 1) if (rs, r) not in covered]
    assert not missing, (rs, missing)

out = {
    "generator": f"scripts/reference/spc_reference.py (scipy {scipy.__version__}, numpy {np.__version__})",
    "constants": constants,
    "charts": charts,
}
path = os.path.join(os.path.dirname(__file__), "..", "..", "__test__", "fixtures", "spc-reference.json")
with open(path, "w") as f:
    json.dump(out, f, separators=(",", ":"))
print(f"{len(constants)} constants, {len(charts)} charts -> {os.path.normpath(path)}")
