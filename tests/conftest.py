import os
import zlib

import numpy as np
import pytest


@pytest.fixture
def rng(request):
    """A generator seeded from the test id, so any failure replays exactly."""
    seed = zlib.crc32(request.node.nodeid.encode())
    return np.random.default_rng(seed)


@pytest.fixture
def data_dir():
    """The real data sets (``PYCNN_DATA_DIR``); tests that need them skip without."""
    path = os.environ.get("PYCNN_DATA_DIR")
    if not path or not os.path.isdir(path):
        pytest.skip("PYCNN_DATA_DIR is not set to the data folder")
    return path
