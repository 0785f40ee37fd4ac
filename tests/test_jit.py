"""The kernels' cache: one folder per version of the model's source, and a fallback where home is read-only."""

from __future__ import annotations

import subprocess
import sys

from sim import jit


def test_the_cache_folder_is_named_after_the_source(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    folder = jit.cache_dir()
    assert folder.parent == tmp_path / "sim" / "kernels" and len(folder.name) == 16
    assert jit.cache_dir() == folder  # the same source, the same folder
    monkeypatch.setattr(jit, "SOURCE", tmp_path)  # another source tree: another folder
    (tmp_path / "a.py").write_text("x = 1\n")
    assert jit.cache_dir().name != folder.name


def test_a_cache_that_cannot_be_made_falls_back_to_the_temporary_folder(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")  # no folder can be made below a file, whoever runs the test
    got = jit.writable(blocker / "sim" / "abc123")
    assert got.is_dir() and got.name == "abc123" and got.parent.name == "sim-kernels"
    assert jit.writable(tmp_path / "fine") == tmp_path / "fine" and (tmp_path / "fine").is_dir()


def test_kernels_run_as_plain_python_with_the_jit_disabled():
    code = "from sim import customers as cu; import numpy as np; print(type(cu.satisfaction_of).__name__)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={"NUMBA_DISABLE_JIT": "1", "PATH": ""}, check=True)
    assert done.stdout.strip() == "function"
