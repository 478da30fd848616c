"""The pycnn command, run as a user runs it (a subprocess)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("pycnn.models")
import pycnn  # noqa: E402

# The folder holding the pycnn these tests imported (site-packages, or the
# checkout in a developer build), so the subprocess runs the same one.
ROOT = Path(pycnn.__file__).resolve().parents[1]


def run(*args, cwd=None, env=None):
    environment = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="2", PYCNN_OFFLINE="1",
                       PYCNN_CACHE_DIR=str(Path(cwd or ".") / "cache"))
    environment.pop("PYCNN_DATA_DIR", None)
    environment.update(env or {})
    return subprocess.run([sys.executable, "-m", "pycnn", *args], capture_output=True, text=True,
                          cwd=cwd, env=environment, timeout=300)


def assert_one_line_error(result, *fragments):
    assert result.returncode == 1, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pycnn: error: "), result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


def test_summary(tmp_path):
    result = run("summary", "mnist", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Total params: 93,322" in result.stdout


@pytest.mark.parametrize("args, fragments", [
    (("summary", "resnet"), ("unknown network 'resnet'", "mnist")),
    (("train", "imagenet"), ("unknown network 'imagenet'",)),
    (("train", "mnist", "--epochs", "0"), ("--epochs must be >= 1",)),
    (("evaluate", "missing.pycnn", "mnist"), ("'missing.pycnn' does not exist",)),
    (("train", "cifar10", "--data-dir", "nowhere"), ("[cifar10] cifar-10-batches-bin/data_batch_1.bin not found",
                                                     "downloads are disabled", "To fix it")),
], ids=["summary-name", "train-name", "epochs", "no-model", "no-data"])
def test_bad_input_gives_one_line(tmp_path, args, fragments):
    assert_one_line_error(run(*args, cwd=tmp_path), *fragments)


def test_usage_error_exits_2(tmp_path):
    result = run("train", cwd=tmp_path)
    assert result.returncode == 2 and "usage: pycnn train" in result.stderr


def test_train_evaluate_and_wrong_files(tmp_path):
    result = run("train", "mnist", "--subset", "embedded", "--epochs", "1", "--limit", "256",
                 "--out", "tiny.pycnn", "--threads", "2", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "MNIST (embedded subset" in out and "Test accuracy: " in out
    assert f"Model saved to {tmp_path / 'tiny.pycnn'}" in out and (tmp_path / "tiny.pycnn").is_file()
    assert "Time per epoch: " in out and "at 2 threads" in out

    result = run("evaluate", "tiny.pycnn", "mnist", "--subset", "embedded", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Test accuracy: " in result.stdout and "weighted avg" in result.stdout

    (tmp_path / "junk.pycnn").write_bytes(b"not a model at all")
    assert_one_line_error(run("evaluate", "junk.pycnn", "mnist", cwd=tmp_path), "junk.pycnn")
    if os.environ.get("PYCNN_DATA_DIR"):
        result = run("evaluate", "tiny.pycnn", "faces", cwd=tmp_path,
                     env={"PYCNN_DATA_DIR": os.environ["PYCNN_DATA_DIR"]})
        assert_one_line_error(result, "takes inputs of shape (28, 28, 1), but faces images are (112, 92, 3)")


def test_bench_short_report(tmp_path):
    result = run("bench", "--threads", "1", "--steps", "1", "--no-torch", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "pycnn bench: " in out and "1 threads" in out
    assert "pycnn.ops.gemm" in out and "GFLOP/s" in out
    rows = [line.split() for line in out.splitlines() if line.split()[:1] in (["mnist"], ["cifar10"], ["faces"])]
    assert [row[:2] for row in rows] == [["mnist", "64"], ["cifar10", "32"], ["faces", "16"]], out
    for row in rows:
        assert float(row[2]) > 0 and float(row[3].replace(",", "")) > 0, row
    assert_one_line_error(run("bench", "--steps", "0", cwd=tmp_path), "--steps must be >= 1")
