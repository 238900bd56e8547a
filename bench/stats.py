"""Percentiles and latency summaries (exact, from every sample; no library needed)."""

import math
import time


def percentile(sorted_values: list[float], p: float) -> float | None:
    """The nearest-rank percentile of already sorted values."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def summary(values_ms: list[float], seconds: float | None = None) -> dict:
    """count, per-second rate (when `seconds` is given) and p50/p95/p99/max of latencies in milliseconds."""
    ordered = sorted(values_ms)
    out: dict = {"count": len(ordered)}
    if seconds:
        out["per_s"] = round(len(ordered) / seconds, 2)
    for name, p in (("p50_ms", 50), ("p95_ms", 95), ("p99_ms", 99)):
        value = percentile(ordered, p)
        out[name] = round(value, 1) if value is not None else None
    out["max_ms"] = round(ordered[-1], 1) if ordered else None
    out["mean_ms"] = round(sum(ordered) / len(ordered), 1) if ordered else None
    return out


def median_ms(operation, samples: int) -> float:
    """The median of `samples` timed calls of `operation`, in ms."""
    times = []
    for _ in range(samples):
        began = time.perf_counter()
        operation()
        times.append((time.perf_counter() - began) * 1000)
    return round(sorted(times)[len(times) // 2], 1)
