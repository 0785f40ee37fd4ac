"""Compiled kernels: the per-customer rules, compiled once by numba and cached on disk.

A process's rule for one customer is written as a scalar function (`rule`), the way the ODD states
it; the process's loop over customers (`kernel`) calls it. Both compile to machine code, so the
loop touches each customer's state once instead of once per array operation. Kernels mirror
NumPy's float32 arithmetic (every constant is passed as a float32), so they compute what the array
code computed, bit for bit.

Compiled code is cached in a folder named after a hash of the model's source (`cache_dir`): numba
checks only the changed file of a kernel, not the files of the rules it calls, so a change anywhere
in `sim` starts a fresh cache instead of reusing a stale kernel. Only the first run of a version on
a machine pays for compilation.

Rules and kernels are compiled by calling `rule(f)` / `kernel(f)` after the definition rather than
as decorators, because mutation testing (mutmut) skips decorated functions; with
`NUMBA_DISABLE_JIT=1` they run as plain Python (for debugging and mutation testing).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numba

F = TypeVar("F", bound=Callable)
SOURCE = Path(__file__).resolve().parent


def cache_dir() -> Path:
    """Where this version of the model keeps its compiled kernels: one folder per hash of sim's source."""
    digest = hashlib.sha256()
    for path in sorted(SOURCE.rglob("*.py")):
        digest.update(path.relative_to(SOURCE).as_posix().encode() + path.read_bytes())
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return root / "sim" / "kernels" / digest.hexdigest()[:16]


def writable(folder: Path) -> Path:
    """`folder`, created; or the same name under the temporary folder where the home cache is read-only."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        return folder
    except OSError:
        fallback = Path(tempfile.gettempdir()) / "sim-kernels" / folder.name
        fallback.mkdir(parents=True, exist_ok=True)
        return fallback


if "NUMBA_CACHE_DIR" not in os.environ:  # a user's own choice wins
    numba.config.CACHE_DIR = str(writable(cache_dir()))


def rule(f: F) -> F:
    """A per-customer rule: compiled (LLVM inlines it into the kernels that call it), callable from Python."""
    return numba.njit(cache=True)(f)


def kernel(f: F) -> F:
    """A loop over customers (or their encounters, or talkers): compiled and cached, releases the GIL."""
    return numba.njit(cache=True, nogil=True)(f)
