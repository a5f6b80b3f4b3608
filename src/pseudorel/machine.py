"""What this machine is, for speed records and speed caches: CPU model, the flags that decide
which kernels run (bf16, AVX-512, AMX), and the cores."""

from __future__ import annotations

import functools
import os

#: the CPU flags that change which precision and kernels are fast here
SPEED_FLAGS = ("avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_int8", "avx512_vnni", "avx_vnni")


@functools.lru_cache(maxsize=1)
def cpu_summary() -> dict:
    """``{"cpu": model name, "flags": [speed flags present], "cores": n}`` (unknowns left empty)."""
    model, flags = "unknown", set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name") and model == "unknown":
                    model = line.split(":", 1)[1].strip()
                elif line.startswith("flags") and not flags:
                    flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return {"cpu": model, "flags": [f for f in SPEED_FLAGS if f in flags], "cores": os.cpu_count()}
