"""Inputs found by fuzzing (tests/fuzz) that once broke the promise.

The promise: any call ends in a correct result or a ValueError / TypeError
naming the op, or a MemoryError. Each test replays the fuzzer's input
through its harness (where it came from the fuzzer) and the minimal call.
"""

import hashlib
import json
import os
import struct
import sys
import time

import numpy as np
import pytest

from pycnn import models, ops

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "fuzz"))


def _harness(name):
    import importlib

    return importlib.import_module(name)


# gemm: a ragged `c` leaked numpy's "inhomogeneous shape" ValueError (no op name)
def test_gemm_ragged_c_names_the_op():
    _harness("fuzz_conv_dense_gemm").TestOneInput(bytes.fromhex(
        "83b675ffb6b63fb6b696e69e02610000ff21b658b6b6b6b6b6f6b6b683f422e6ffff"))
    with pytest.raises(ValueError, match=r"\[gemm\]"):
        ops.gemm(np.ones((2, 2)), np.ones((2, 2)), [[1.0, 2.0], [3.0]])


# gemm: alpha=None raised float()'s TypeError without the op's name
@pytest.mark.parametrize("kwargs", [dict(alpha=None), dict(beta="1"), dict(alpha=1j)])
def test_gemm_scalars_are_checked(kwargs):
    with pytest.raises(ValueError, match=r"\[gemm\] expected `(alpha|beta)`"):
        ops.gemm(np.ones((2, 2)), np.ones((2, 2)), np.ones((2, 2)), **kwargs)


# Broadcast views whose float32 copy numpy cannot describe (> 2**63 bytes)
# leaked numpy's "array is too big" ValueError without the op's name.
@pytest.mark.parametrize("call", [
    lambda x: ops.relu(x),
    lambda x: ops.dense(x, np.ones((2**22, 2))),
    lambda x: ops.softmax(x),
    lambda x: ops.dropout(x, 0.5, 1, 1),
    lambda x: ops.mean_squared_error(x, x),
], ids=["relu", "dense", "softmax", "dropout", "mean_squared_error"])
def test_uncopyable_huge_view_names_the_op(call):
    x = np.broadcast_to(np.int8(1), (2**40, 2**22))  # 2**62 bytes as int8, 2**64 as float32
    with pytest.raises(ValueError, match=r"^\[[a-z_]+\] `[a-z_]+` of shape \(1099511627776, 4194304\) is too large"):
        call(x)


# Outputs numpy cannot describe leaked its "array is too big" without the op's name:
# an empty batch with huge padding, and a gemm of (2**40, 0) @ (0, 2**40).
def test_indescribable_outputs_name_the_op():
    with pytest.raises(ValueError, match=r"^\[conv2d\] the (output|padded input) .* is too large"):
        ops.conv2d(np.zeros((0, 1, 1, 1), np.int8), np.zeros((1, 1, 1, 1)), padding=((2**40, 2**40), (2**40, 2**40)))
    with pytest.raises(ValueError, match=r"^\[gemm\] the output of shape \(1099511627776, 1099511627776\) is too large"):
        ops.gemm(np.zeros((2**40, 0), np.int8), np.zeros((0, 2**40), np.int8))


# Found by the elementwise/losses/optimizers target: a step of 2**63 reached the
# binding (pybind11 TypeError), ragged sparse labels leaked numpy's ValueError,
# and dropout_mask((0, 2**62, 2**62)) leaked numpy's "array is too big".
def test_adam_step_beyond_int64_names_the_op():
    _harness("fuzz_elementwise_losses_optim").TestOneInput(bytes.fromhex(
        "aa00ffd5ff04002afaffd53dd500ffaa00d5ff04002afaffd53dd53d"))
    p = np.zeros(2, np.float32)
    with pytest.raises(ValueError, match=r"\[adam_update\] expected the 1-based iteration `step`"):
        ops.adam_update([p], [p], [np.zeros(2, np.float32)], [np.zeros(2, np.float32)], learning_rate=0.1, step=2**63)


@pytest.mark.parametrize("fn", [ops.softmax_cross_entropy, ops.categorical_cross_entropy])
def test_ragged_sparse_labels_name_the_op(fn):
    with pytest.raises(ValueError, match=rf"\[{fn.__name__}\] expected integer labels"):
        fn(np.ones((2, 3)), [[0], [1, 2]], sparse=True)


def test_dropout_mask_of_indescribable_empty_shape_names_the_op():
    _harness("fuzz_elementwise_losses_optim").TestOneInput(bytes.fromhex("c707ff0007ff00006000000025f6"))
    with pytest.raises(ValueError, match=r"\[dropout_mask\] (the output of )?shape \(0, 4611686018427387904, 4611686018427387904\) is too large"):
        ops.dropout_mask((0, 2**62, 2**62), 0.5, 1, 1)


def _unaligned(shape):
    raw = np.zeros(int(np.prod(shape)) * 4 + 1, np.uint8)
    view = raw[1:].view(np.float32).reshape(shape)
    view[...] = np.arange(view.size, dtype=np.float32).reshape(shape)
    return view


# An unaligned float32 C-contiguous view went to the core as it was (UBSan:
# misaligned load in the pooling kernel); it is now copied, and refused where
# it would be updated in place.
def test_unaligned_inputs_are_copied():
    from pycnn.ops._validate import as_float32

    x = _unaligned((1, 4, 4, 3))
    assert not x.flags.aligned and x.flags.c_contiguous
    assert as_float32(x, "max_pool2d", "x").flags.aligned
    np.testing.assert_array_equal(ops.max_pool2d(x)[0], ops.max_pool2d(x.copy())[0])
    np.testing.assert_array_equal(ops.relu(x), np.maximum(x, 0))
    y, argmax = ops.max_pool2d(x)
    raw = np.zeros(argmax.nbytes + 1, np.uint8)
    forged = raw[1:].view(np.int32).reshape(argmax.shape)
    forged[...] = argmax
    np.testing.assert_array_equal(ops.max_pool2d_backward(y, forged, x.shape), ops.max_pool2d_backward(y, argmax, x.shape))
    a = _unaligned((3, 4))
    np.testing.assert_allclose(ops.gemm(a, a, trans_b=True), a @ a.T)
    with pytest.raises(ValueError, match=r"\[sgd_update\]"):
        ops.sgd_update([_unaligned((4,))], [np.ones(4)], learning_rate=0.1)
    with pytest.raises(ValueError, match=r"\[batch_norm\]"):
        ops.batch_norm_train(np.ones((2, 4)), None, None, _unaligned((4,)), np.ones(4, np.float32))


# A 0-d input came back with shape (1,): np.ascontiguousarray promotes 0-d arrays
@pytest.mark.parametrize("x", [np.float64(-2.0), np.array(3, np.int32), 1.5])
def test_zero_d_inputs_stay_zero_d(x):
    for fn in (ops.relu, ops.sigmoid, ops.tanh, lambda v: ops.leaky_relu(v), lambda v: ops.dropout(v, 0.0, 1, 1)):
        y = fn(x)
        assert y.shape == () and y.dtype == np.float32
    np.testing.assert_array_equal(ops.relu(x), np.maximum(np.float32(x), 0))


# Pooling an empty input with C == 0 and a huge N walked N*OH*OW windows
# (global_avg_pool2d_backward with N = 2**31 - 1 ran for hours).
def test_empty_pooling_with_huge_batch_returns_at_once():
    start = time.process_time()
    _harness("fuzz_pool_batchnorm").TestOneInput(bytes.fromhex("53a50778301d36fd0ce607df3e24e43df292e1890d51"))
    n = 2**31 - 1
    x = np.zeros((n, 5, 5, 0), np.float32)
    y, argmax = ops.max_pool2d(x)
    assert y.shape == argmax.shape == (n, 2, 2, 0) and argmax.dtype == np.int32
    assert ops.max_pool2d_backward(y, argmax, x.shape).shape == x.shape
    assert ops.avg_pool2d(x, 3, 2, "same").shape == (n, 3, 3, 0)
    assert ops.avg_pool2d_backward(np.zeros((n, 3, 3, 0)), x.shape, 3, 2, "same").shape == x.shape
    assert ops.global_avg_pool2d(x).shape == ops.global_max_pool2d(x)[0].shape == (n, 0)
    assert ops.global_avg_pool2d_backward(np.zeros((n, 0)), x.shape).shape == x.shape
    assert ops.global_max_pool2d_backward(np.zeros((n, 0)), np.zeros((n, 0), np.int32), x.shape).shape == x.shape
    assert time.process_time() - start < 5
    # validation still runs on the empty input
    with pytest.raises(ValueError, match=r"\[max_pool2d\]"):
        ops.max_pool2d(np.zeros((n, 1, 1, 0)), pool_size=3)
    with pytest.raises(ValueError, match=r"\[avg_pool2d_backward\]"):
        ops.avg_pool2d_backward(np.zeros((n, 2, 2, 0)), x.shape, 3, 2, "same")


# Batch norm with C == 0 and a huge batch walked every row: x (2**40, 3, 0) ran for hours.
def test_batch_norm_without_channels_returns_at_once():
    start = time.process_time()
    _harness("fuzz_pool_batchnorm").TestOneInput(bytes.fromhex("04ffff000909ff08000000001000270000000a000000ffff00000000000000ff"))
    x = np.zeros((2**40, 3, 0), np.float32)
    moving_mean, moving_variance = np.zeros(0, np.float32), np.zeros(0, np.float32)
    y, mean, inv_std = ops.batch_norm_train(x, None, None, moving_mean, moving_variance)
    assert y.shape == x.shape and mean.shape == inv_std.shape == (0,)
    assert ops.batch_norm_inference(x, None, None, moving_mean, moving_variance).shape == x.shape
    dx, dgamma, dbeta = ops.batch_norm_backward(x, x, None, mean, inv_std)
    assert dx.shape == x.shape and dgamma.shape == dbeta.shape == (0,)
    assert time.process_time() - start < 5
    with pytest.raises(ValueError, match=r"\[batch_norm\] expected `epsilon` > 0"):
        ops.batch_norm_train(x, None, None, moving_mean, moving_variance, epsilon=0.0)


def _resigned(tmp_path, body):
    path = tmp_path / "m.pycnn"
    path.write_bytes(body + hashlib.sha256(body).digest())
    return path


def _saved_body(tmp_path):
    from pycnn import layers

    model = models.Sequential([layers.Input((3,)), layers.Dense(2)])
    model.compile(optimizer="adam", loss="mse")
    model.save(tmp_path / "seed.pycnn")
    return (tmp_path / "seed.pycnn").read_bytes()[:-32]


def _with_header(body, edit):
    magic, version, reserved, hlen = struct.unpack_from("<8sIIQ", body)
    header = json.loads(body[24:24 + hlen])
    edit(header)
    text = json.dumps(header).encode()
    head = struct.pack("<8sIIQ", magic, version, reserved, len(text)) + text
    data_start = 24 + hlen + (-(24 + hlen)) % 64
    return head + b"\0" * ((-len(head)) % 64) + body[data_start:]


# load_model: a correctly signed file whose description does not fit together
# raised KeyError / IndexError / AttributeError from deep inside the loader.
@pytest.mark.parametrize("edit", [
    lambda h: h["model"]["config"].pop("layers"),
    lambda h: h["model"].pop("config"),
    lambda h: h["weights"][0].update(array=99),
    lambda h: h["weights"].__setitem__(0, "w"),
    lambda h: h["arrays"].__setitem__(0, 7),
    lambda h: h["optimizer"].pop("class_name"),
    lambda h: h["optimizer"]["slots"].update(m=[1000]),
    lambda h: h.update(arrays={"a": 1}),
], ids=["no-layers", "no-config", "weight-index", "weight-entry", "array-entry", "optimizer-class", "slot-index",
        "arrays-not-list"])
def test_inconsistent_model_file_is_a_value_error(tmp_path, edit):
    path = _resigned(tmp_path, _with_header(_saved_body(tmp_path), edit))
    with pytest.raises(ValueError, match="corrupted"):
        models.load_model(path)


def test_model_file_header_not_an_object(tmp_path):
    body = _saved_body(tmp_path)
    text = b"[1, 2]"
    path = _resigned(tmp_path, struct.pack("<8sIIQ", body[:8], 1, 0, len(text)) + text)
    with pytest.raises(ValueError, match="corrupted"):
        models.load_model(path)


# Found under UBSan: 'same' pooling computed ceil(in / stride) as
# (in + stride - 1) / stride, which overflows for a stride near 2**63.
def test_same_pooling_with_a_huge_stride():
    x = np.arange(2 * 5 * 3 * 2, dtype=np.float32).reshape(2, 5, 3, 2)
    y, _ = ops.max_pool2d(x, pool_size=(3, 2), strides=(2**63 - 1, 2**63 - 1), padding="same")
    assert y.shape == (2, 1, 1, 2)
    np.testing.assert_array_equal(y[:, 0, 0], x[:, :3, :2].max(axis=(1, 2)))  # no padding needed: one window at the origin


# Found under UBSan (fuzzing conv2d against the ASan + UBSan build): the
# convolution's 'same' output size overflowed in the same way, and explicit
# paddings near 2**63 overflowed the padded size.
def test_same_convolution_with_a_huge_stride():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 5, 4, 3)).astype(np.float32)
    kernel = rng.standard_normal((3, 2, 3, 4)).astype(np.float32)
    y = ops.conv2d(x, kernel, strides=2**63 - 1, padding="same")
    assert y.shape == (2, 1, 1, 4)
    # total padding (3 - 5 -> 0 rows, 2 - 4 -> 0 columns): the window sits at the origin
    np.testing.assert_allclose(y[:, 0, 0], np.einsum("nijc,ijck->nk", x[:, :3, :2], kernel), rtol=1e-5, atol=1e-5)
    dx, dkernel, _ = ops.conv2d_backward(np.ones_like(y), x, kernel, strides=2**63 - 1, padding="same")
    assert dx.shape == x.shape and dkernel.shape == kernel.shape


def test_explicit_padding_near_the_int64_limit_is_refused():
    x = np.zeros((0, 5, 5, 1), np.float32)
    with pytest.raises(ValueError, match=r"^\[conv2d\] padding .* too large"):
        ops.conv2d(x, np.zeros((3, 3, 1, 1), np.float32), padding=((2**62, 2**62), (0, 0)))


# Found under UBSan (conv_dense_gemm against the ASan + UBSan build): the
# direct kernels (1-4 input channels) rounded pad / stride up as
# (pad + stride - 1) / stride, overflowing for a stride near 2**63; writing
# its test showed the whole-block route sizing a buffer as 7 strides wide
# (a crash): such shapes now go pixel by pixel.
@pytest.mark.parametrize("channels", [5, 16])  # a channel tail, whole 16-blocks
def test_direct_convolution_with_a_huge_stride_and_padding(channels):
    x = np.arange(9, dtype=np.float32).reshape(1, 3, 3, 1)
    kernel = np.ones((1, 1, 1, channels), np.float32)
    y = ops.conv2d(x, kernel, strides=(1, 2**63 - 1), padding=((0, 0), (2**31 - 1, 0)))
    assert y.shape == (1, 3, 1, channels)
    np.testing.assert_array_equal(y, 0.0)  # the one window sits in the left padding


# Found under UBSan (the third ASan + UBSan run of conv_dense_gemm): the
# "padded input is smaller than the kernel" message computed the other axis'
# dilated extent, (3 - 1) * 2**62, before that axis was validated.
def test_kernel_larger_than_input_message_with_a_huge_dilation_elsewhere():
    with pytest.raises(ValueError, match=r"^\[conv2d\] padded input height 2 is smaller than the \(dilated\) kernel's 3"):
        ops.conv2d(np.zeros((1, 2, 5, 1)), np.zeros((3, 3, 1, 1)), dilation_rate=(1, 2**62))


# Found under UBSan (the fourth ASan + UBSan run of conv_dense_gemm): the
# direct kernel computed window-row offsets as dilation * row length for a
# dilation of 2**62. Offsets into the padded input are now bounded by its
# size (refused beyond 2**50 elements), and a stride with one output position
# or a dilation with one tap is bounded by the padded size.
def test_huge_dilation_with_huge_padding():
    x = np.arange(6, dtype=np.float32).reshape(1, 2, 3, 1)
    # one tap: the dilation is never used (it overflowed row offsets before)
    y = ops.conv2d(x, np.ones((1, 1, 1, 16), np.float32), dilation_rate=(2**62, 1))
    np.testing.assert_array_equal(y, np.repeat(x, 16, axis=3))
    y = ops.conv2d(x, np.ones((1, 1, 1, 16), np.float32), strides=2**62)  # one output position
    np.testing.assert_array_equal(y, np.zeros((1, 1, 1, 16)))
    with pytest.raises(ValueError, match=r"^\[conv2d\] the padded input .* is too large"):
        ops.conv2d(x, np.ones((2, 1, 1, 16), np.float32), padding=((2**49, 0), (0, 0)))
