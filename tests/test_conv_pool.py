"""pycnn.ops.conv2d_max_pool2d (convolution + activation + max pooling, one
image at a time, with or without the argmax) against the float64 reference
of the three steps, on random configurations, with NaN-prefilled outputs, on
every ISA and thread count; and the inference graph that uses it."""

import numpy as np
import pytest

import pycnn
from pycnn import _core, layers, models, ops
from pycnn.models import graph
from pycnn.ops.conv import _options as conv_options
from pycnn.ops.dense import _activation_code as activation_code
from pycnn.ops.pooling import _pool_args as pool_args
from reference import conv as conv_ref
from reference import pooling as pool_ref

ACTIVATIONS = {None: lambda z: z, "relu": lambda z: np.maximum(z, 0), "leaky_relu": lambda z: np.where(z < 0, 0.2 * z, z),
               "tanh": np.tanh}


def make_config(seed):
    r = np.random.default_rng(seed)
    c = int(r.choice([1, 3, 4, 8, 16, 17, 32]))
    k = int(r.choice([1, 5, 16, 32, 48]))
    groups = int(r.choice([g for g in (1, 2, 4) if c % g == 0 and k % g == 0]))
    kh, kw = (int(v) for v in r.integers(1, 4, 2))
    h, w = (int(v) for v in r.integers(max(kh, kw), 14, 2))
    return dict(seed=seed, n=int(r.choice([1, 2, 3, 5])), h=h, w=w, c=c, k=k, groups=groups, kh=kh, kw=kw,
                strides=tuple(int(v) for v in r.integers(1, 3, 2)), padding=str(r.choice(["valid", "same"])),
                dilation=(1, 1) if r.integers(3) else (2, 1), bias=bool(r.integers(2)),
                activation=list(ACTIVATIONS)[seed % len(ACTIVATIONS)],
                pool=tuple(int(v) for v in r.integers(1, 4, 2)), pool_strides=tuple(int(v) for v in r.integers(1, 4, 2)),
                pool_padding=str(r.choice(["valid", "same"])))


def _fits(cfg):
    """The convolution output is not empty and at least as large as a 'valid' pool."""
    dh, dw = cfg["dilation"]
    if cfg["padding"] == "valid" and (cfg["h"] < (cfg["kh"] - 1) * dh + 1 or cfg["w"] < (cfg["kw"] - 1) * dw + 1):
        return False
    oh, ow = conv_ref.conv2d(np.zeros((1, cfg["h"], cfg["w"], cfg["c"])),
                             np.zeros((cfg["kh"], cfg["kw"], cfg["c"] // cfg["groups"], cfg["k"])),
                             None, cfg["strides"], cfg["padding"], cfg["dilation"], cfg["groups"]).shape[1:3]
    return cfg["pool_padding"] == "same" or (oh >= cfg["pool"][0] and ow >= cfg["pool"][1])


CONFIGS = [cfg for cfg in map(make_config, range(260)) if _fits(cfg)][:200]


def _operands(cfg):
    rng = np.random.default_rng(cfg["seed"])
    x = rng.standard_normal((cfg["n"], cfg["h"], cfg["w"], cfg["c"])).astype(np.float32)
    kernel = rng.standard_normal((cfg["kh"], cfg["kw"], cfg["c"] // cfg["groups"], cfg["k"])).astype(np.float32)
    bias = rng.standard_normal(cfg["k"]).astype(np.float32) if cfg["bias"] else None
    return x, kernel, bias


def _fused(cfg, x, kernel, bias, return_argmax=False):
    return ops.conv2d_max_pool2d(x, kernel, bias, cfg["strides"], cfg["padding"], cfg["dilation"], cfg["groups"],
                                 cfg["activation"], pool_size=cfg["pool"], pool_strides=cfg["pool_strides"],
                                 pool_padding=cfg["pool_padding"], return_argmax=return_argmax)


def _reference(cfg, x, kernel, bias):
    z = conv_ref.conv2d(x, kernel, bias, cfg["strides"], cfg["padding"], cfg["dilation"], cfg["groups"])
    return pool_ref.max_pool(ACTIVATIONS[cfg["activation"]](z), cfg["pool"], cfg["pool_strides"], cfg["pool_padding"])[0]


def test_enough_configurations():
    assert len(CONFIGS) == 200


@pytest.mark.parametrize("cfg", CONFIGS, ids=lambda c: f"s{c['seed']}")
def test_matches_reference(cfg):
    x, kernel, bias = _operands(cfg)
    want = _reference(cfg, x, kernel, bias)
    got = _fused(cfg, x, kernel, bias)
    assert got.shape == want.shape and got.dtype == np.float32
    tol = 1e-4 * np.sqrt(cfg["kh"] * cfg["kw"] * cfg["c"])
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


@pytest.mark.parametrize("cfg", CONFIGS, ids=lambda c: f"s{c['seed']}")
def test_argmax_points_into_the_window_at_the_pooled_value(cfg):
    x, kernel, bias = _operands(cfg)
    y, argmax = _fused(cfg, x, kernel, bias, return_argmax=True)
    np.testing.assert_array_equal(y, _fused(cfg, x, kernel, bias))
    assert argmax.dtype == np.int32 and argmax.shape == y.shape
    act = ACTIVATIONS[cfg["activation"]](conv_ref.conv2d(x, kernel, bias, cfg["strides"], cfg["padding"],
                                                         cfg["dilation"], cfg["groups"]))
    n, conv_h, conv_w, k = act.shape
    picked = np.take_along_axis(act.reshape(n, -1), argmax.reshape(n, -1), axis=1).reshape(y.shape)
    tol = 1e-4 * np.sqrt(cfg["kh"] * cfg["kw"] * cfg["c"])
    np.testing.assert_allclose(picked, y, rtol=tol, atol=tol)
    # the index lies in its own window and channel
    (ph, pw), (sh, sw) = cfg["pool"], cfg["pool_strides"]
    pool_h, pool_w = y.shape[1:3]
    top = max((pool_h - 1) * sh + ph - conv_h, 0) // 2 if cfg["pool_padding"] == "same" else 0
    left = max((pool_w - 1) * sw + pw - conv_w, 0) // 2 if cfg["pool_padding"] == "same" else 0
    rows, cols, chans = argmax // (conv_w * k), argmax // k % conv_w, argmax % k
    oh, ow, ch = np.meshgrid(np.arange(pool_h), np.arange(pool_w), np.arange(k), indexing="ij")
    assert (chans == ch).all()
    assert ((rows >= oh * sh - top) & (rows < oh * sh - top + ph)).all()
    assert ((cols >= ow * sw - left) & (cols < ow * sw - left + pw)).all()


@pytest.mark.parametrize("isa", _core.supported_isas())
@pytest.mark.parametrize("cfg", CONFIGS[::9], ids=lambda c: f"s{c['seed']}")
def test_every_element_written_on_every_isa(cfg, isa):
    x, kernel, bias = _operands(cfg)
    conv_args = conv_options(cfg["strides"], cfg["padding"], cfg["dilation"], cfg["groups"], "conv2d")
    code, alpha = activation_code(cfg["activation"], None, "conv2d")
    pool, stride, same = pool_args(cfg["pool"], cfg["pool_strides"], cfg["pool_padding"], "conv2d_max_pool2d")
    _core.set_isa(isa)
    try:
        got = _core.conv2d_max_pool2d(x, kernel, bias, *conv_args, code, alpha, pool, stride, same, fill=np.nan)
        got_too, argmax = _core.conv2d_max_pool2d(x, kernel, bias, *conv_args, code, alpha, pool, stride, same,
                                                  return_argmax=True, fill=np.nan)  # argmax prefilled with -1
    finally:
        _core.set_isa(None)
    assert not np.isnan(got).any() and (argmax >= 0).all()
    np.testing.assert_array_equal(got_too, got)
    np.testing.assert_allclose(got, _reference(cfg, x, kernel, bias), rtol=1e-3, atol=1e-3)


# 3x3 stride-1 shapes with 32+ input channels: the Winograd forward, one image
# per call (odd sizes, 'valid' and 'same', relu and tanh).
WINOGRAD_CONFIGS = [
    dict(make_config(0), n=2, h=13, w=11, c=32, k=48, groups=1, kh=3, kw=3, strides=(1, 1), padding="same",
         dilation=(1, 1), bias=True, activation="relu", pool=(2, 2), pool_strides=(2, 2), pool_padding="same"),
    dict(make_config(1), n=3, h=12, w=15, c=64, k=16, groups=1, kh=3, kw=3, strides=(1, 1), padding="valid",
         dilation=(1, 1), bias=False, activation="tanh", pool=(3, 2), pool_strides=(2, 2), pool_padding="valid"),
]


@pytest.mark.parametrize("cfg", WINOGRAD_CONFIGS, ids=lambda c: f"c{c['c']}")
def test_winograd_shapes_match_reference(cfg):
    x, kernel, bias = _operands(cfg)
    got = _fused(cfg, x, kernel, bias)
    tol = 1e-4 * np.sqrt(9 * cfg["c"])
    np.testing.assert_allclose(got, _reference(cfg, x, kernel, bias), rtol=tol, atol=tol)


@pytest.mark.parametrize("n, c", [(1, 16), (3, 32), (7, 16), (7, 32)])
def test_one_and_two_threads_bitwise_equal(n, c):
    rng = np.random.default_rng(n)
    x = rng.standard_normal((n, 23, 19, c)).astype(np.float32)
    kernel = rng.standard_normal((3, 3, c, 32)).astype(np.float32)
    before = pycnn.get_num_threads()
    try:
        results = []
        for threads in (1, 2):
            pycnn.set_num_threads(threads)
            results.append(ops.conv2d_max_pool2d(x, kernel, padding="same", activation="relu", pool_padding="same",
                                                 return_argmax=True))
    finally:
        pycnn.set_num_threads(before)
    for first, second in zip(*results):
        assert np.array_equal(first, second)


def test_empty_batch():
    y = ops.conv2d_max_pool2d(np.zeros((0, 8, 8, 3)), np.ones((3, 3, 3, 4)), pool_size=2)
    assert y.shape == (0, 3, 3, 4) and y.dtype == np.float32
    y, argmax = ops.conv2d_max_pool2d(np.zeros((0, 8, 8, 3)), np.ones((3, 3, 3, 4)), pool_size=2, return_argmax=True)
    assert argmax.shape == (0, 3, 3, 4) and argmax.dtype == np.int32


@pytest.mark.parametrize("kwargs, match", [
    (dict(pool_size=7), r"^\[conv2d_max_pool2d\] .*pool"),
    (dict(pool_size=0), r"^\[conv2d_max_pool2d\] "),
    (dict(pool_padding=((1, 1), (1, 1))), r"^\[conv2d_max_pool2d\] expected padding 'valid' or 'same'"),
    (dict(strides=0), r"^\[conv2d\] "),
    (dict(activation="swish"), r"^\[conv2d\] "),
    (dict(return_argmax="yes"), r"^\[conv2d_max_pool2d\] expected `return_argmax` True or False, got 'yes'"),
])
def test_bad_input_raises(kwargs, match):
    x, kernel = np.zeros((2, 8, 8, 3)), np.zeros((3, 3, 3, 4))  # conv output 6x6
    with pytest.raises(ValueError, match=match):
        ops.conv2d_max_pool2d(x, kernel, **kwargs)


def test_channel_mismatch_names_what_came():
    with pytest.raises(ValueError, match=r"^\[conv2d\] .*3"):
        ops.conv2d_max_pool2d(np.zeros((1, 8, 8, 3)), np.zeros((3, 3, 4, 8)))


def _pooled_model():
    x = layers.Input((17, 15, 3))
    h = layers.Conv2D(16, 3, padding="same", activation="relu")(x)
    h = layers.MaxPooling2D(2, padding="same")(h)
    h = layers.Conv2D(32, 3, activation="relu")(h)
    h = layers.MaxPooling2D(2)(h)
    h = layers.Flatten()(h)
    return models.Model(x, layers.Dense(3, activation="softmax")(h))


def test_predict_fuses_conv_and_pool(monkeypatch, rng):
    model = _pooled_model()
    x = rng.standard_normal((9, 17, 15, 3)).astype(np.float32)
    want, _ = model._graph.forward([x], training=False)
    calls = []
    fused = ops.conv2d_max_pool2d
    monkeypatch.setattr(ops, "conv2d_max_pool2d", lambda *a, **k: calls.append(1) or fused(*a, **k))
    np.testing.assert_allclose(model.predict_on_batch(x), want[0], rtol=1e-5, atol=1e-6)
    assert len(calls) == 2  # both Conv2D -> MaxPooling2D pairs
    # The largest activation inference materialises is now the first pooled output.
    assert model._graph.infer_sample_bytes == 4 * 9 * 8 * 16 < 4 * 17 * 15 * 16  # not the first conv output


def test_no_fusion_when_the_conv_output_is_needed_elsewhere(monkeypatch, rng):
    x = layers.Input((8, 8, 2))
    h = layers.Conv2D(4, 3, activation="relu")(x)
    p = layers.Flatten()(layers.MaxPooling2D(2)(h))
    model = models.Model(x, [p, layers.Flatten()(h)])
    calls = []
    monkeypatch.setattr(ops, "conv2d_max_pool2d", lambda *a, **k: calls.append(1))
    data = rng.standard_normal((2, 8, 8, 2)).astype(np.float32)
    out = model.predict_on_batch(data)
    assert calls == [] and out[0].shape == (2, 36)
    monkeypatch.setattr(graph, "INFER_CHUNK_BYTES", 1)
    assert model.predict_on_batch(data)[1].shape == (2, 144)
