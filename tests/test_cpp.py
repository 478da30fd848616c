"""Builds the C++ unit tests (tests/cpp) with CMake and runs them with ctest."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parents[1]


def _tool(name):
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"`{name}` is not installed (pip install '.[test]' provides it)")
    return path


def test_cpp_unit_tests(tmp_path):
    cmake, ctest = _tool("cmake"), _tool("ctest")
    generator = ["-G", "Ninja"] if shutil.which("ninja") else []
    env = dict(os.environ, CMAKE_BUILD_PARALLEL_LEVEL=str(os.cpu_count() or 2))
    run = lambda *cmd: subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    configure = run(cmake, "-S", str(SOURCE), "-B", str(tmp_path), *generator, "-DCMAKE_BUILD_TYPE=Release",
                    "-DPYCNN_BUILD_PYTHON=OFF", "-DPYCNN_BUILD_TESTS=ON")
    assert configure.returncode == 0, configure.stdout + configure.stderr
    build = run(cmake, "--build", str(tmp_path))
    assert build.returncode == 0, build.stdout[-5000:] + build.stderr[-5000:]
    tests = run(ctest, "--output-on-failure", "--test-dir", str(tmp_path))
    assert tests.returncode == 0, tests.stdout[-5000:] + tests.stderr[-5000:]
    assert "tests passed" in tests.stdout
