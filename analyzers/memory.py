"""Memory a program needs beyond a standard node, read from the literal sizes in its code.

Two families of calls say how much memory a job will hold before any data is read: array allocators
(`np.zeros((200_000, 100_000))`, `torch.randn(50_000, 50_000)`) and synthetic data generators
(`make_classification(n_samples=..., n_features=...)`). Only literal sizes count: a size read at run time
says nothing here. The threshold (`memory.large_bytes` in gpu_patterns.yaml) is what a standard node cannot
hold; each element counts as 8 bytes (float64, the allocators' default), so the figure is an order of
magnitude, which is all the pool choice needs. The calls themselves are found by the compute scan
(compute.py), which passes each resolved allocator or generator call here.
"""

from __future__ import annotations

import ast
import math

from .compute_values import int_value
from .names import argument


def allocation_size(call: ast.Call, qualname: str, large_bytes: int) -> str | None:
    """The reason to report an allocator call (`np.zeros(shape)`) whose literal size is at least `large_bytes`."""
    shape = call.args[0] if call.args else None
    dims: list[int] = []
    if isinstance(shape, (ast.Tuple, ast.List)):
        dims = [d for d in (int_value(e) for e in shape.elts) if d is not None]
        if len(dims) != len(shape.elts):
            return None
    elif qualname.split(".")[-1] in ("rand", "randn") or qualname.startswith("torch."):
        # `np.random.rand(a, b)` and torch's allocators take the dimensions as separate arguments
        dims = [d for d in (int_value(e) for e in call.args) if d is not None]
        if len(dims) != len(call.args):
            return None
    elif shape is not None and int_value(shape) is not None:
        dims = [int_value(shape) or 0]
    if dims and math.prod(dims) * 8 >= large_bytes:
        return f"allocates about {math.prod(dims) * 8 / 1e9:.0f} GB in one array"
    return None


def generated_size(call: ast.Call, large_bytes: int) -> str | None:
    """The reason to report a data generator call (`make_classification`) producing at least `large_bytes`.

    The generators' own defaults (100 samples, 2 features) stand in for a size the call does not give.
    """
    rows = int_value(argument(call, 0, "n_samples")) or 100
    cols = int_value(argument(call, 1, "n_features")) or 2
    if rows * cols * 8 >= large_bytes:
        return f"generates about {rows * cols * 8 / 1e9:.0f} GB of data"
    return None
