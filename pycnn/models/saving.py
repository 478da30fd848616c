"""One-file model and weight saving; nothing in a file can run code on load.

Layout (all integers little-endian):

    0   8 bytes   magic b"PYCNN\\x00MF"
    8   uint32    format version
    12  uint32    reserved (0)
    16  uint64    length H of the JSON header
    24  H bytes   JSON (UTF-8): kind, architecture, compile settings,
                  optimizer config/state, and a table of arrays
                  {dtype, shape, offset, nbytes} relative to the data start
    ..  zero padding to a multiple of 64, then the array data
        (raw little-endian, each array 64-byte aligned)
    end 32 bytes  SHA-256 of everything before it

Writes go to a temporary file in the same folder (``.<name>.<pid>-<thread>.tmp``),
are flushed to disk (fsync) and renamed over the target (os.replace), so a
crash or kill mid-save leaves the previous file intact; the next save to the
same target removes temporary files left by writers that no longer exist.
Loading checks magic, version, sizes and checksum before parsing anything,
and raises ValueError for truncated, corrupted or foreign files.

Versions: ``VERSION`` is the format this pycnn writes. Every file written by
a released version must stay loadable by all later ones: a change to the
layout or to the meaning of a header field takes a new version number, and
``read_file`` keeps reading every older one. A file from a newer pycnn is
refused with a ValueError saying so. ``tests/fixtures`` holds a file of
each released version with its expected predictions; those fixtures are
never regenerated or edited, only new ones are added.
"""

import hashlib
import json
import math
import os
import struct
import threading

import numpy as np

MAGIC = b"PYCNN\x00MF"
VERSION = 1
_ALIGN = 64
_PREFIX = struct.Struct("<8sIIQ")
_DTYPES = {"<f4": np.dtype("<f4"), "<i8": np.dtype("<i8")}


# ----- file level -------------------------------------------------------------
def _pad(n):
    return (-n) % _ALIGN


def write_file(path, header, arrays, overwrite=True):
    """Write the JSON ``header`` plus ``arrays`` (list of ndarrays) atomically."""
    path = os.fspath(path)
    if not overwrite and os.path.exists(path):
        raise ValueError(f"File {path!r} exists and overwrite=False")
    table, offset, blobs = [], 0, []
    for a in arrays:
        a = np.ascontiguousarray(a)
        dtype = "<f4" if a.dtype.kind == "f" else "<i8"
        data = a.astype(_DTYPES[dtype], copy=False).tobytes()
        table.append({"dtype": dtype, "shape": list(a.shape), "offset": offset, "nbytes": len(data)})
        blobs.append(data)
        offset += len(data) + _pad(len(data))
    header = dict(header, format="pycnn", arrays=table)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    prefix = _PREFIX.pack(MAGIC, VERSION, 0, len(text))
    head = prefix + text + b"\0" * _pad(len(prefix) + len(text))
    _remove_stale_temps(path)
    digest = hashlib.sha256()
    tmp = _temp_name(path)
    try:
        with open(tmp, "wb") as f:
            for chunk in [head] + [b for blob in blobs for b in (blob, b"\0" * _pad(len(blob)))]:
                f.write(chunk)
                digest.update(chunk)
            f.write(digest.digest())
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    _sync_folder(path)


# A save writes ".<name>.<pid>-<thread>.tmp" beside the target: one name per
# writer, so concurrent writers never share a file, and a file left by a
# writer that was killed mid-save can be recognised and removed.
def _temp_name(path):
    folder, name = os.path.split(os.path.abspath(path))
    return os.path.join(folder, f".{name}.{os.getpid()}-{threading.get_ident()}.tmp")


def _remove_stale_temps(path):
    """Delete temporary files of earlier saves to ``path`` whose writing process no longer exists."""
    if os.name != "posix":
        return
    folder, name = os.path.split(os.path.abspath(path))
    prefix = f".{name}."
    try:
        entries = os.listdir(folder)
    except OSError:
        return
    for entry in entries:
        pid = entry[len(prefix):-len(".tmp")].split("-")[0]
        if entry.startswith(prefix) and entry.endswith(".tmp") and pid.isdigit() and not _process_exists(int(pid)):
            try:
                os.unlink(os.path.join(folder, entry))
            except OSError:
                pass


def _process_exists(pid):
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _sync_folder(path):
    """Make the rename itself durable (POSIX); a no-op where folders cannot be opened."""
    try:
        fd = os.open(os.path.dirname(os.path.abspath(path)), os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def read_file(path):
    """(header dict, list of arrays) from a file written by ``write_file``; ValueError if it is not one."""
    path = os.fspath(path)
    with open(path, "rb") as f:
        blob = f.read()
    if len(blob) < _PREFIX.size + 32 or blob[:8] != MAGIC:
        raise ValueError(f"{path!r} is not a pycnn model/weights file (bad magic or too short)")
    _, version, _, hlen = _PREFIX.unpack_from(blob, 0)
    if version > VERSION:
        raise ValueError(f"{path!r} was written by a newer pycnn (format {version}; this version reads formats up "
                         f"to {VERSION}). Upgrade pycnn to load it.")
    body, digest = blob[:-32], blob[-32:]
    if hashlib.sha256(body).digest() != digest:
        raise ValueError(f"{path!r} is corrupted or truncated (checksum mismatch)")
    start = _PREFIX.size
    if start + hlen > len(body):
        raise ValueError(f"{path!r} is corrupted: header length {hlen} exceeds the file")
    try:
        header = json.loads(body[start:start + hlen].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path!r} is corrupted: unreadable header ({exc})") from None
    if not isinstance(header, dict) or not isinstance(header.get("arrays", []), list):
        raise ValueError(f"{path!r} is corrupted: the header is not a pycnn header")
    try:
        return header, _read_arrays(header, body, start + hlen + _pad(start + hlen), path)
    except (TypeError, AttributeError, OverflowError) as exc:
        raise _corrupted(path, exc) from None


def _corrupted(path, exc):
    return ValueError(f"{os.fspath(path)!r} is corrupted: {type(exc).__name__}: {exc}")


def _read_arrays(header, body, data_start, path):
    arrays = []
    for entry in header.get("arrays", []):
        dtype = _DTYPES.get(entry.get("dtype"))
        shape = tuple(int(d) for d in entry.get("shape", ()))
        lo = data_start + int(entry.get("offset", -1))
        nbytes = int(entry.get("nbytes", -1))
        if dtype is None or any(d < 0 for d in shape) or nbytes != math.prod(shape) * dtype.itemsize \
                or lo < data_start or lo + nbytes > len(body):
            raise ValueError(f"{path!r} is corrupted: bad array entry {entry}")
        arrays.append(np.frombuffer(body, dtype=dtype, count=math.prod(shape), offset=lo).reshape(shape).astype(
            dtype.newbyteorder("=")))
    return arrays


# ----- architecture -------------------------------------------------------------
def _layer_entry(layer):
    return {"class_name": type(layer).__name__, "config": layer.get_config()}


def functional_config(model):
    local = {}  # id(node) -> index among this model's nodes of its layer

    def key(tensor):
        return [tensor.node.layer.name, local[id(tensor.node)]]

    layers, nodes, seen = [], [], set()
    for layer in model._input_layers:
        local[id(layer._inbound_nodes[0])] = 0
        layers.append(_layer_entry(layer))
        seen.add(id(layer))
    counts = {}
    for step in model._graph.steps:
        layer = step.layer
        local[id(step.node)] = counts.get(id(layer), 0)
        counts[id(layer)] = local[id(step.node)] + 1
        if id(layer) not in seen:
            seen.add(id(layer))
            layers.append(_layer_entry(layer))
        nodes.append({"layer": layer.name, "inputs": [key(t) for t in step.node.inputs], "listed": step.listed})
    return {"class_name": "Functional", "config": {
        "name": model.name, "trainable": model.trainable, "layers": layers, "nodes": nodes,
        "inputs": [key(t) for t in model.inputs], "outputs": [key(t) for t in model.outputs],
        "input_kind": model._input_kind, "output_kind": model._output_kind,
        "input_names": model.input_names, "output_names": model.output_names}}


def functional_from_config(config):
    from pycnn.layers import get_layer_class
    from pycnn.models.model import Model

    cfg = config.get("config", config)
    layers = {}
    for entry in cfg["layers"]:
        layer = get_layer_class(entry["class_name"]).from_config(entry["config"])
        layers[layer.name] = layer
    tensors = {}
    for name, layer in layers.items():
        if type(layer).__name__ == "InputLayer":
            tensors[(name, 0)] = layer.output
    counts = {}
    for node in cfg["nodes"]:
        layer = layers[node["layer"]]
        ins = [tensors[tuple(k)] for k in node["inputs"]]
        index = counts.get(layer.name, 0)
        counts[layer.name] = index + 1
        tensors[(layer.name, index)] = layer(ins if node["listed"] else ins[0])

    def pack(keys, kind, names):
        items = [tensors[tuple(k)] for k in keys]
        if kind == "dict":
            return dict(zip(names, items))
        return items[0] if kind == "single" else items

    return Model(pack(cfg["inputs"], cfg["input_kind"], cfg["input_names"]),
                 pack(cfg["outputs"], cfg["output_kind"], cfg["output_names"]), name=cfg["name"],
                 trainable=cfg.get("trainable", True))


def sequential_config(model):
    layers = []
    if model._input_layer is not None:
        layers.append(_layer_entry(model._input_layer))
    layers.extend(_layer_entry(layer) for layer in model.layers)
    return {"class_name": "Sequential", "config": {"name": model.name, "trainable": model.trainable, "layers": layers}}


def sequential_from_config(config):
    from pycnn.layers import get_layer_class
    from pycnn.models.sequential import Sequential

    cfg = config.get("config", config)
    model = Sequential(name=cfg["name"], trainable=cfg.get("trainable", True))
    for entry in cfg["layers"]:
        model.add(get_layer_class(entry["class_name"]).from_config(entry["config"]))
    return model


def model_from_config(config):
    kind = config.get("class_name")
    if kind == "Sequential":
        return sequential_from_config(config)
    if kind == "Functional":
        return functional_from_config(config)
    raise ValueError(f"Unknown model class {kind!r} in the saved configuration")


# ----- model / weights files ----------------------------------------------------
def _serialize_spec(spec):
    from pycnn import losses, metrics

    if spec is None or isinstance(spec, (str, int, float)):
        return spec
    if isinstance(spec, dict):
        return {k: _serialize_spec(v) for k, v in spec.items()}
    if isinstance(spec, (list, tuple)):
        return [_serialize_spec(v) for v in spec]
    if isinstance(spec, losses.Loss):
        return losses.serialize(spec)
    if isinstance(spec, metrics.Metric) and type(spec).__name__ in metrics._CLASSES:
        return {"class_name": type(spec).__name__, "config": spec.get_config()}
    if callable(spec) and hasattr(spec, "__name__"):
        return spec.__name__
    raise ValueError(f"Cannot save the compile argument {spec!r}")


def _weights_header(model, arrays):
    entries = []
    for var in model.weights:
        entries.append({"path": var.path, "array": len(arrays)})
        arrays.append(var.value)
    return entries


def save_model(model, filepath, overwrite=True, include_optimizer=True):
    from pycnn import optimizers

    model._ensure_built()
    arrays = []
    header = {"kind": "model", "model": model.get_config(), "weights": _weights_header(model, arrays)}
    if getattr(model, "compiled", False):
        loss, loss_weights, metrics = model._compile_specs
        header["compile"] = {"loss": _serialize_spec(loss), "loss_weights": _serialize_spec(loss_weights),
                             "metrics": _serialize_spec(metrics)}
        opt = model.optimizer
        if include_optimizer and opt is not None:
            slots = {}
            for name, values in opt.slot_arrays().items():
                slots[name] = list(range(len(arrays), len(arrays) + len(values)))
                arrays.extend(values)
            header["optimizer"] = {**optimizers.serialize(opt), "iterations": opt.iterations, "slots": slots}
    write_file(filepath, header, arrays, overwrite=overwrite)


def _assign_weights(model, entries, arrays, path):
    variables = model.weights
    if len(entries) != len(variables):
        raise ValueError(f"{path!r} holds {len(entries)} weights but model {model.name!r} has {len(variables)}")
    for var, entry in zip(variables, entries):
        value = arrays[entry["array"]]
        if value.shape != var.shape:
            raise ValueError(f"Weight {entry['path']!r} in {path!r} has shape {value.shape}, but {var.path!r} "
                             f"of model {model.name!r} has shape {var.shape}")
    for var, entry in zip(variables, entries):
        np.copyto(var.value, arrays[entry["array"]])


def load_model(filepath, compile=True, custom_objects=None, safe_mode=True):
    """A model saved with ``model.save``: architecture, weights, and (if compiled) loss, metrics, optimizer state."""
    header, arrays = read_file(filepath)
    if header.get("kind") != "model" or "model" not in header:
        raise ValueError(f"{os.fspath(filepath)!r} holds {header.get('kind')!r} data, not a model; "
                         f"use model.load_weights() for weight files")
    try:
        return _model_from_header(header, arrays, filepath, compile)
    except (KeyError, IndexError, AttributeError, TypeError, RecursionError) as exc:
        # A well-formed file whose description does not fit together.
        raise _corrupted(filepath, exc) from None


def _model_from_header(header, arrays, filepath, compile):
    from pycnn import optimizers

    model = model_from_config(header["model"])
    model._ensure_built()
    _assign_weights(model, header.get("weights", []), arrays, filepath)
    comp = header.get("compile")
    if compile and comp:
        opt_entry = header.get("optimizer")
        optimizer = "rmsprop"
        if opt_entry:
            optimizer = optimizers.get({"class_name": opt_entry["class_name"], "config": opt_entry["config"]})
        model.compile(optimizer=optimizer, loss=comp["loss"], loss_weights=comp.get("loss_weights"),
                      metrics=comp.get("metrics"))
        if opt_entry and opt_entry.get("slots") is not None:
            slots = {name: [arrays[i] for i in idx] for name, idx in opt_entry["slots"].items()}
            optimizer.load_slots(opt_entry.get("iterations", 0), slots)
    return model


def save_weights(model, filepath, overwrite=True):
    model._ensure_built()
    arrays = []
    header = {"kind": "weights", "weights": _weights_header(model, arrays)}
    write_file(filepath, header, arrays, overwrite=overwrite)


def load_weights(model, filepath):
    header, arrays = read_file(filepath)
    if "weights" not in header:
        raise ValueError(f"{os.fspath(filepath)!r} holds no weights")
    model._ensure_built()
    _assign_weights(model, header["weights"], arrays, filepath)
