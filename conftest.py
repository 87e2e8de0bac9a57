"""Settings for every test run from the repository root, notebooks included.

BLAS runs single-threaded (``OPENBLAS_NUM_THREADS=1`` and friends, unless
already set). The course's matrices are small, where extra BLAS threads only
add overhead, and on a busy 2-core machine they slow notebooks down many times
over. It also fixes the order of floating-point sums, so numbers do not depend
on the thread count. The variables are set before NumPy is imported, and the
notebook kernels that nbval and the browser test start inherit them. This file
sits at the root so that ``python -m pytest notebooks/`` gets the same setting
as the whole suite.
"""

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
