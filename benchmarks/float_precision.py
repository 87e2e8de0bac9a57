"""float32 against float64: how much longer does a matrix product take in double precision?

Usage (from the repository root, in the course's environment)::

    python benchmarks/float_precision.py                     # NumPy, and JAX if installed
    python benchmarks/float_precision.py --sizes 4096 8192   # larger products (accelerators)

For every backend (NumPy on the CPU; JAX on its default device, a GPU when
the CUDA build of JAX is installed) and every size ``n``, the script times the
product of two ``n x n`` matrices in float32 and in float64, interleaved
(float32, float64, float32, ... for ``--repeats`` rounds, after a warm-up),
and prints the median and minimum times, the float64/float32 ratio of the
medians and the float32 and float64 GFLOP/s (``2 n³`` operations per product).

JAX's float32 products run at ``Precision.HIGHEST``: on recent NVIDIA GPUs the
default lets float32 products use the lower-precision TF32 tensor cores, which
would not compare float32 arithmetic with float64 arithmetic. JAX times wait
for the result (``block_until_ready``). The machine may be shared, hence the
interleaving and the medians.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable

import numpy as np


def _time(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _numpy_products(n: int) -> dict[str, Callable[[], object]]:
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n))
    products = {}
    for name, dtype in (("float32", np.float32), ("float64", np.float64)):
        x = a.astype(dtype)
        products[name] = lambda x=x: x @ x
    return products


def _jax_products(n: int) -> dict[str, Callable[[], object]]:
    import jax
    import jax.numpy as jnp

    matmul = jax.jit(lambda x: jnp.matmul(x, x, precision=jax.lax.Precision.HIGHEST))
    a = np.random.default_rng(0).standard_normal((n, n))
    products = {}
    for name, dtype in (("float32", jnp.float32), ("float64", jnp.float64)):
        x = jax.device_put(jnp.asarray(a, dtype=dtype))
        products[name] = lambda x=x: matmul(x).block_until_ready()
    return products


def measure(products: dict[str, Callable[[], object]], repeats: int) -> dict[str, list[float]]:
    """Warm up every product once, then time them round robin ``repeats`` times."""
    for fn in products.values():
        fn()
    times: dict[str, list[float]] = {name: [] for name in products}
    for _ in range(repeats):
        for name, fn in products.items():
            times[name].append(_time(fn))
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[512, 1024])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--backends", nargs="+", default=["numpy", "jax"])
    args = parser.parse_args()

    backends: dict[str, Callable[[int], dict[str, Callable[[], object]]]] = {}
    if "numpy" in args.backends:
        backends["numpy"] = _numpy_products
    if "jax" in args.backends:
        try:
            import jax

            jax.config.update("jax_enable_x64", True)
            backends["jax"] = _jax_products
        except ImportError:
            print("- JAX is not installed: only NumPy is measured")

    print(f"- machine: {platform.machine()}, {os.cpu_count()} CPUs, {platform.platform()}")
    print(f"- Python {platform.python_version()}, NumPy {np.__version__}")
    blas = os.environ.get("OPENBLAS_NUM_THREADS", "unset")
    print(f"- OPENBLAS_NUM_THREADS={blas}; load average before: {os.getloadavg()[0]:.2f}")
    if "jax" in backends:
        import jax

        device = jax.devices()[0]
        print(f"- JAX {jax.__version__}, device: {device.platform} ({device.device_kind})")
    print(f"- {args.repeats} interleaved rounds after a warm-up; times in ms, median (minimum)")
    print()
    print(
        "| backend | n | float32 (ms) | float64 (ms) | float64 / float32 | float32 GFLOP/s "
        "| float64 GFLOP/s |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for backend, make in backends.items():
        for n in args.sizes:
            times = measure(make(n), args.repeats)
            med = {name: statistics.median(t) for name, t in times.items()}
            low = {name: min(t) for name, t in times.items()}
            flops = 2.0 * n**3
            print(
                f"| {backend} | {n} | {1e3 * med['float32']:.3g} ({1e3 * low['float32']:.3g}) "
                f"| {1e3 * med['float64']:.3g} ({1e3 * low['float64']:.3g}) "
                f"| {med['float64'] / med['float32']:.2f} "
                f"| {flops / med['float32'] / 1e9:.4g} | {flops / med['float64'] / 1e9:.4g} |"
            )
            sys.stdout.flush()
    print()
    print(f"- load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
