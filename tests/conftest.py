"""Test-suite configuration shared by every test under tests/.

* Matplotlib draws off-screen (Agg) in this process, so unit tests never open
  a window. This is a ``matplotlib.use`` call, not the ``MPLBACKEND``
  environment variable: notebook kernels started by nbval inherit the
  environment, and they must keep their own inline/widget backends so that
  their outputs match the stored ones.
* Hypothesis is deterministic by default: the same examples on every run and
  on every machine, no deadline (CI machines are slow and shared) and no
  timing-based health check. ``HYPOTHESIS_PROFILE=explore`` draws fresh random
  examples instead, to hunt for new failures locally.
* Exercise checks remember the mistakes they have seen (graded hints); every
  test starts with a check that has seen none. The ``say`` fixture returns what
  a check prints.
"""

from __future__ import annotations

import contextlib
import io
import os

import pytest
from hypothesis import HealthCheck, settings

try:
    import matplotlib
except ImportError:  # the library's own tests do not need matplotlib
    matplotlib = None

if matplotlib is not None:
    matplotlib.use("Agg", force=True)

settings.register_profile(
    "deterministic",
    derandomize=True,
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("explore", deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "deterministic"))


# --- exercise checks -----------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _fresh_hint_counts():
    """Every test starts with checks that have seen no mistakes (graded hints start at 1)."""
    from nnlib.exercises._checks import reset_hints

    reset_hints()
    yield
    reset_hints()


@pytest.fixture
def say():
    """``say(check, *args, hint=None)``: what ``check(*args, hint=hint)`` prints."""

    def printed(check, *args, hint=None):
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            check(*args, hint=hint)
        return buffer.getvalue()

    return printed
