"""Benchmark scripts fail as the apps do: one line naming the file, exit 1, no result."""

import subprocess
from pathlib import Path

import pytest

from .conftest import PYTHON

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.mark.parametrize("content, message", [(None, "no such checkpoint file"),
                                              (b"garbage", "not a readable safetensors checkpoint")])
def test_a_missing_or_corrupt_weights_file_is_one_line_and_writes_no_result(tmp_path, content,
                                                                             message):
    weights = tmp_path / "model.safetensors"
    if content is not None:
        weights.write_bytes(content)
    before = sorted((BENCHMARKS / "results").iterdir())
    res = subprocess.run([PYTHON, str(BENCHMARKS / "detection_speed.py"), "--weights", str(weights)],
                         capture_output=True, text=True, cwd=tmp_path)
    assert res.returncode == 1 and res.stdout == ""
    (line,) = res.stderr.strip().splitlines()
    assert line.startswith(f"error: {weights}: {message}")
    assert sorted((BENCHMARKS / "results").iterdir()) == before
