"""Memory stays flat over many training steps and predict calls (a short soak).

The same measurement as ``tools/soak.py`` (which runs 5,000 steps and
10,000 predicts), shortened for CI: RSS after a warm-up, then growth over
the following steps. A leak of one 64x28x28 float32 array (200 KB) per
step or call adds 20 MB / 120 MB here, far above the bounds.
"""

import importlib.util
import sys
from pathlib import Path

import pytest

SOAK = Path(__file__).resolve().parents[1] / "tools" / "soak.py"
pytestmark = pytest.mark.skipif(not SOAK.exists() or not sys.platform.startswith("linux"),
                                reason="needs tools/soak.py and /proc/self/statm")


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """One kernel thread: steadier timing on a shared CI machine; the memory behaviour is the same."""
    import pycnn

    before = pycnn.get_num_threads()
    pycnn.set_num_threads(1)
    yield
    pycnn.set_num_threads(before)


@pytest.fixture(scope="module")
def soak():
    spec = importlib.util.spec_from_file_location("soak", SOAK)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def trained(soak):
    """The MNIST network and 1,024 embedded images, after a short soak of fit."""
    x, y = soak.mnist_data(1024)
    model = soak.mnist_model()
    trace = soak.soak_fit(model, x, y, steps=150, every=25, warmup=50, batch_size=16)
    return model, x, trace


def test_fit_memory_is_flat(trained):
    _, _, trace = trained
    assert len(trace.samples) == 6
    assert trace.growth() < 6.0, f"RSS grew {trace.growth():.1f} MiB over 100 steps after warm-up: {trace.samples}"


def test_predict_memory_is_flat(soak, trained):
    model, x, _ = trained
    trace = soak.soak_predict(model, x, calls=1000, every=200, warmup=400, batch_size=8)
    assert trace.growth() < 4.0, f"RSS grew {trace.growth():.1f} MiB over 600 predicts after warm-up: {trace.samples}"
