//! How much CPU this process really has: the cgroup v2 quota (`cpu.max` of its cgroup and of
//! every parent) and the affinity mask (`Cpus_allowed_list`), not just the machine's cores.

use std::fs;

/// The CPU the process may use.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CpuBudget {
    /// The tightest cgroup v2 quota in CPUs (quota / period), None without one.
    pub quota: Option<f64>,
    /// CPUs in the affinity mask (0 if it could not be read).
    pub affinity: usize,
    /// min(quota, affinity), at least 1; the machine's parallelism if neither is known.
    pub cpus: f64,
}

/// `cpu.max` ("max 100000" or "150000 100000") as CPUs; None for no limit or bad text.
pub fn parse_cpu_max(text: &str) -> Option<f64> {
    let mut parts = text.split_whitespace();
    let quota: f64 = parts.next()?.parse().ok()?;
    let period: f64 = parts.next().map_or(Some(100_000.0), |p| p.parse().ok())?;
    (quota > 0.0 && period > 0.0).then_some(quota / period)
}

/// The number of CPUs in a list such as "0-3,8,10-11" (0 for bad text).
pub fn parse_cpu_list(text: &str) -> usize {
    let mut n = 0;
    for part in text.trim().split(',').filter(|p| !p.is_empty()) {
        let range = match part.split_once('-') {
            Some((a, b)) => a
                .trim()
                .parse::<usize>()
                .ok()
                .zip(b.trim().parse::<usize>().ok()),
            None => part.trim().parse::<usize>().ok().map(|a| (a, a)),
        };
        match range {
            Some((a, b)) if b >= a => n += b - a + 1,
            _ => return 0,
        }
    }
    n
}

/// The cgroup v2 path of this process from /proc/self/cgroup's "0::/path" line.
pub fn cgroup_path(proc_self_cgroup: &str) -> Option<String> {
    proc_self_cgroup
        .lines()
        .find_map(|l| l.strip_prefix("0::"))
        .map(|p| p.trim().to_string())
}

/// The tightest quota along `path` and its parents, read with `read` (a path under the cgroup
/// mount → its cpu.max text).
pub fn tightest_quota(path: &str, read: impl Fn(&str) -> Option<String>) -> Option<f64> {
    let mut best: Option<f64> = None;
    let mut dir = path.trim_end_matches('/').to_string();
    loop {
        if let Some(q) =
            read(&format!("/sys/fs/cgroup{dir}/cpu.max")).and_then(|t| parse_cpu_max(&t))
        {
            best = Some(best.map_or(q, |b: f64| b.min(q)));
        }
        match dir.rfind('/') {
            Some(i) => dir.truncate(i),
            None => break,
        }
    }
    best
}

/// Combines the two limits (see [`CpuBudget::cpus`]).
pub fn budget(quota: Option<f64>, affinity: usize, fallback: usize) -> CpuBudget {
    let base = if affinity > 0 {
        affinity
    } else {
        fallback.max(1)
    } as f64;
    let cpus = quota.map_or(base, |q| q.min(base)).max(1.0);
    CpuBudget {
        quota,
        affinity,
        cpus,
    }
}

/// This process's budget, from /proc and /sys/fs/cgroup.
pub fn detect() -> CpuBudget {
    let read = |p: &str| fs::read_to_string(p).ok();
    let quota = read("/proc/self/cgroup")
        .and_then(|t| cgroup_path(&t))
        .and_then(|p| tightest_quota(&p, read));
    let affinity = read("/proc/self/status")
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))
                .map(parse_cpu_list)
        })
        .unwrap_or(0);
    let fallback = std::thread::available_parallelism().map_or(1, |n| n.get());
    budget(quota, affinity, fallback)
}

/// Aggregation threads for a budget: one CPU is left to the producers and the event loop,
/// and more than 4 do not pay (each thread owns a share of the rings).
pub fn aggregation_threads(b: &CpuBudget) -> usize {
    ((b.cpus.floor() as usize).saturating_sub(1)).clamp(1, 4)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_cgroup_and_affinity_text() {
        assert_eq!(parse_cpu_max("max 100000\n"), None);
        assert_eq!(parse_cpu_max("150000 100000\n"), Some(1.5));
        assert_eq!(parse_cpu_max("50000"), Some(0.5));
        assert_eq!(parse_cpu_max("garbage"), None);
        assert_eq!(parse_cpu_list("0-3,8,10-11\n"), 7);
        assert_eq!(parse_cpu_list("5"), 1);
        assert_eq!(parse_cpu_list("3-1"), 0);
        assert_eq!(
            cgroup_path("12:cpu:/old\n0::/system.slice/app.service\n"),
            Some("/system.slice/app.service".into())
        );
        let read = |p: &str| match p {
            "/sys/fs/cgroup/a/b/cpu.max" => Some("max 100000".to_string()),
            "/sys/fs/cgroup/a/cpu.max" => Some("200000 100000".to_string()),
            "/sys/fs/cgroup/cpu.max" => Some("300000 100000".to_string()),
            _ => None,
        };
        assert_eq!(tightest_quota("/a/b", read), Some(2.0));
        assert_eq!(tightest_quota("/", read), Some(3.0));
    }

    #[test]
    fn the_budget_is_the_tighter_limit_and_threads_leave_a_cpu() {
        assert_eq!(budget(Some(1.5), 8, 8).cpus, 1.5);
        assert_eq!(budget(None, 2, 64).cpus, 2.0);
        assert_eq!(budget(Some(0.2), 4, 4).cpus, 1.0);
        assert_eq!(budget(None, 0, 6).cpus, 6.0);
        assert_eq!(aggregation_threads(&budget(None, 2, 2)), 1);
        assert_eq!(aggregation_threads(&budget(Some(3.0), 16, 16)), 2);
        assert_eq!(aggregation_threads(&budget(None, 64, 64)), 4);
        let here = detect();
        assert!(here.cpus >= 1.0 && here.affinity >= 1, "{here:?}");
    }
}
