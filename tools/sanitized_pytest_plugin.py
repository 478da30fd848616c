"""pytest plugin for tools/run_sanitized_tests.sh: refuses to run unless the
imported pycnn._core is the sanitized build named by PYCNN_EXPECT_CORE."""

import os

import pytest


def pytest_sessionstart(session):
    import pycnn._core

    expected = os.path.realpath(os.environ["PYCNN_EXPECT_CORE"])
    actual = os.path.realpath(pycnn._core.__file__)
    print(f"\npycnn._core: {actual}")
    if actual != expected:
        raise pytest.UsageError(f"imported pycnn._core {actual}, expected the sanitized {expected}")
