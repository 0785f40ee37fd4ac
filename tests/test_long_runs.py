"""Long runs: progress on stderr, Ctrl-C leaves a clean and clearly marked partial result, writes are atomic.

A result directory is in one of two states a reader can tell apart: complete (a valid summary.json
saying so, with its metrics.parquet) or not (no summary.json; an interrupted run leaves
summary.partial.json and a PARTIAL marker). A failure while writing never leaves a partial file
under a final name.
"""

from __future__ import annotations

import io
import json
import os
import select
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

from sim import results
from sim.app import load_config
from sim.metrics import Progress
from sim.model import EmpathyMarket
from sim.results import METRICS, PARTIAL, PARTIAL_SUMMARY, SUMMARY, is_done, model_fingerprint, save, simulate


def small(*more: str):
    return load_config(["market.customers=300", "run.steps=6", "run.burn_in=0", "run.progress=false", *more])


def stderr_until(process: subprocess.Popen, text: bytes, timeout: float) -> bytes:
    """Read the process's stderr until `text` appears (progress lines end in a carriage return, not a newline)."""
    seen, deadline = b"", time.monotonic() + timeout
    while text not in seen and time.monotonic() < deadline and process.poll() is None:
        if select.select([process.stderr], [], [], 1)[0]:
            seen += os.read(process.stderr.fileno(), 4096)
    return seen


def test_ctrl_c_saves_a_marked_partial_result_and_exits_130(tmp_path):
    out = tmp_path / "run"
    process = subprocess.Popen(
        [sys.executable, "-m", "sim", "market.customers=20000", "run.steps=5000", "run.burn_in=0",
         f"hydra.run.dir={out}"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # a background shell may ignore SIGINT
    )
    try:
        progress = stderr_until(process, b"steps/s", timeout=300)
        assert b"steps/s" in progress and b"left" in progress, progress
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=300)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, stderr
    assert b"Traceback" not in stderr
    assert not (out / SUMMARY).exists()
    partial = json.loads((out / PARTIAL_SUMMARY).read_text())
    weeks = partial["weeks"]
    assert partial["complete"] is False and 0 < weeks < 5000
    assert (out / PARTIAL).read_text() == f"stopped at week {weeks} by SIGINT\n"
    table = pd.read_parquet(out / METRICS)
    assert sorted(table["step"].unique()) == list(range(weeks))
    assert f"INTERRUPTED by SIGINT at week {weeks}, partial".encode() in stdout
    assert not is_done(out)


def interrupt_at(monkeypatch, week: int) -> None:
    """Make the model behave as if Ctrl-C were pressed while it steps week `week`."""
    step = EmpathyMarket.step

    def step_or_stop(model):
        if model.week == week:
            raise KeyboardInterrupt
        step(model)

    monkeypatch.setattr(EmpathyMarket, "step", step_or_stop)


def test_an_interrupted_run_is_partial_until_completed_in_the_same_directory(monkeypatch, tmp_path):
    cfg = small()
    with monkeypatch.context() as m:
        interrupt_at(m, 3)
        partial = simulate(cfg)
    assert not partial.complete and partial.summary["complete"] is False and partial.summary["weeks"] == 3
    assert partial.table["step"].nunique() == 3
    save(partial, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([METRICS, PARTIAL, PARTIAL_SUMMARY])
    assert not is_done(tmp_path)
    save(simulate(cfg), tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [METRICS, SUMMARY]
    assert is_done(tmp_path)


def test_progress_reports_speed_and_expected_finish():
    stream = io.StringIO()
    simulate(small("run.steps=5"), Progress(stream=stream, every=0))
    text = stream.getvalue()
    assert "week 1/5" in text and "week 5/5" in text and "steps/s" in text and "left" in text
    assert text.endswith("\n")


@pytest.mark.parametrize("error", [OSError("disk full"), KeyboardInterrupt()])
def test_a_failure_while_writing_leaves_no_file_under_the_final_name(monkeypatch, tmp_path, error):
    result = simulate(small())
    save(result, tmp_path)  # an earlier, complete result in the same directory
    assert is_done(tmp_path)

    def half_written(self, path, **kwargs):
        with open(path, "wb") as handle:
            handle.write(b"PAR1 half a file")
        raise error

    monkeypatch.setattr(pd.DataFrame, "to_parquet", half_written)
    with pytest.raises(type(error)):
        save(result, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [METRICS]  # no temporary left, no summary
    assert not is_done(tmp_path)  # the old summary must not vouch for whatever metrics are there


def test_a_failure_while_renaming_the_summary_leaves_none(monkeypatch, tmp_path):
    replace = os.replace

    def fail_for_summary(src, dst):
        if str(dst).endswith(SUMMARY):
            raise OSError("no space left")
        replace(src, dst)

    monkeypatch.setattr(results.os, "replace", fail_for_summary)
    with pytest.raises(OSError):
        save(simulate(small()), tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [METRICS]


@pytest.mark.parametrize("content", [
    None, b"", b'{"complete": tr', b"[]", b'"complete"', b'{"complete": "yes"}', b'{"complete": false}',
    b"\xff\xfe\x00garbage", b'{"complete": true}',
])
def test_is_done_accepts_only_a_valid_complete_summary_with_its_metrics(tmp_path, content):
    if content is not None:
        (tmp_path / SUMMARY).write_bytes(content)
    assert not is_done(tmp_path)  # the last case has no metrics.parquet


def test_is_done_rejects_a_result_of_other_model_code(tmp_path):
    save(simulate(small()), tmp_path)
    summary = json.loads((tmp_path / SUMMARY).read_text())
    assert summary["provenance"]["model_fingerprint"] == model_fingerprint() and is_done(tmp_path)
    summary["provenance"]["model_fingerprint"] = "0" * 16
    (tmp_path / SUMMARY).write_text(json.dumps(summary))
    assert not is_done(tmp_path)


def test_is_done_never_accepts_a_truncated_summary(tmp_path):
    save(simulate(small()), tmp_path)
    text = (tmp_path / SUMMARY).read_bytes()
    assert is_done(tmp_path)
    for cut in range(1, len(text) - 2, max(1, len(text) // 50)):
        (tmp_path / SUMMARY).write_bytes(text[:cut])
        assert not is_done(tmp_path), cut


def test_ctrl_c_inside_a_week_stops_the_run_when_the_week_ends(monkeypatch):
    from sim.app import load_config
    from sim.model import EmpathyMarket
    from sim.results import simulate

    real_step = EmpathyMarket.step

    def step(self):
        if self.week == 3:
            os.kill(os.getpid(), signal.SIGINT)  # arrives while this week's kernels run
        real_step(self)

    monkeypatch.setattr(EmpathyMarket, "step", step)
    result = simulate(load_config(["market.customers=300", "run.steps=20", "run.burn_in=0", "run.progress=false"]))
    assert not result.complete and result.stopped_by == signal.SIGINT
    assert result.table["step"].max() == 3 and result.summary["weeks"] == 4  # week 3 finished, nothing after
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # Ctrl-C raises again outside the run
