"""The machine a benchmark ran on, for its JSON summary: cores, architecture and the load average
before and after (these machines are shared, so every figure carries the load it was measured under)."""

from __future__ import annotations

import os
import platform


def machine_fields(load_before: tuple[float, float, float]) -> dict[str, object]:
    """``load_before``: ``os.getloadavg()`` taken when the benchmark started."""
    return {
        "cpu_count": os.cpu_count(),
        "machine": platform.machine(),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
    }
