"""Checking and batching the arrays given to fit/evaluate/predict.

x and y may be one array, a list (one per model input/output) or a dict
keyed by input/output name. Every array is checked against the model's
declared shapes here, once per call, so a wrong shape is reported with the
input's name instead of failing inside a kernel.
"""

import numpy as np

from pycnn.layers.layer import shape_str


def _as_array(a, what):
    try:
        arr = np.asarray(a)
    except Exception as exc:
        raise ValueError(f"Could not convert {what} to an array: {exc}") from None
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{what} must hold real numbers, received dtype {arr.dtype}")
    return arr


def flatten_struct(data, names, what):
    """A list of arrays in model order from one array, a list/tuple or a dict keyed by name."""
    if data is None:
        return None
    if isinstance(data, dict):
        missing = [n for n in names if n not in data]
        unknown = [k for k in data if k not in names]
        if missing or unknown:
            raise ValueError(f"{what} dict keys {sorted(data)} do not match the model's names {names}")
        return [_as_array(data[n], f"{what}[{n!r}]") for n in names]
    if isinstance(data, (list, tuple)) and len(names) > 1:
        if len(data) != len(names):
            raise ValueError(f"The model expects {len(names)} {what} arrays ({names}), but received {len(data)}.")
        return [_as_array(a, f"{what}[{i}]") for i, a in enumerate(data)]
    if len(names) != 1:
        raise ValueError(f"The model expects {len(names)} {what} arrays ({names}); received a single array.")
    return [_as_array(data, what)]


def check_inputs(model, xs):
    out = []
    for x, tensor, name in zip(xs, model.inputs, model.input_names):
        want = tensor.shape
        got = x.shape
        ok = len(want) == len(got) and all(w is None or w == g for w, g in zip(want[1:], got[1:]))
        if not ok:
            hint = ""
            if len(got) == len(want) - 1 and want[-1] == 1 and tuple(got[1:]) == tuple(want[1:-1]):
                hint = " Add a channel axis: x[..., None]."
            raise ValueError(f'Input {name!r} of model "{model.name}" is incompatible: expected shape '
                             f"{shape_str(want)}, got {shape_str(got)}.{hint}")
        out.append(x if x.dtype == np.float32 and x.flags.c_contiguous else np.ascontiguousarray(x, dtype=np.float32))
    return out


def check_lengths(xs, ys=None, sample_weight=None):
    n = len(xs[0])
    sizes = {len(a) for a in xs}
    if ys is not None:
        sizes |= {len(a) for a in ys}
    if len(sizes) > 1:
        ylen = f", y sizes: {[len(a) for a in ys]}" if ys is not None else ""
        raise ValueError(f"Data cardinality is ambiguous. Make sure all arrays contain the same number of samples. "
                         f"x sizes: {[len(a) for a in xs]}{ylen}")
    if sample_weight is not None and len(sample_weight) != n:
        raise ValueError(f"`sample_weight` has {len(sample_weight)} entries but x has {n} samples")
    return n


def class_weight_to_sample_weight(y, class_weight):
    """Per-sample weights from a {class: weight} dict (class = argmax of one-hot rows, or the sparse label)."""
    y = np.asarray(y)
    if y.ndim >= 2 and y.shape[-1] > 1:
        classes = np.argmax(y, axis=-1)
    else:
        classes = y.reshape(len(y)).astype(np.int64) if y.dtype.kind == "f" else y.reshape(len(y))
        if y.ndim >= 2 and y.shape[-1] == 1 and y.dtype.kind == "f" and not np.all(np.isin(y, (0, 1))):
            raise ValueError("class_weight needs class labels in y")
    table = np.zeros(max(int(classes.max(initial=0)), max(class_weight)) + 1, dtype=np.float32)
    seen = np.zeros_like(table, dtype=bool)
    for k, w in class_weight.items():
        table[int(k)] = w
        seen[int(k)] = True
    missing = np.unique(classes[~seen[classes]])
    if missing.size:
        raise ValueError(f"`class_weight` has no entry for classes {missing.tolist()} present in y")
    return table[classes]


def batch_slices(n, batch_size, shuffle, rng):
    """Index arrays (or slices) covering n samples in batches; shuffled if asked."""
    if shuffle:
        order = rng.permutation(n)
        return [order[i:i + batch_size] for i in range(0, n, batch_size)]
    return [slice(i, min(i + batch_size, n)) for i in range(0, n, batch_size)]


def take(arrays, index):
    if arrays is None:
        return None
    if isinstance(index, slice):
        return [a[index] for a in arrays]
    return [np.take(a, index, axis=0) for a in arrays]
