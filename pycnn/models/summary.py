"""``model.summary()``: the classic Keras table in plain text.

Columns ``Layer (type)``, ``Output Shape``, ``Param #`` (and ``Connected to``
for graphs that are not a simple chain); functional models list their
``InputLayer`` first, Sequential models do not. Totals follow Keras 3:
``Total params: 93,322 (364.54 KB)``.
"""

from pycnn.layers.input_layer import InputLayer
from pycnn.layers.layer import shape_str


def readable_memory_size(nbytes):
    units = ["B", "KB", "MB", "GB", "TB", "PB"]
    for unit in units:
        if nbytes / 1024 < 1:
            return f"{nbytes:.2f} {unit}"
        nbytes /= 1024
    return f"{nbytes:.2f} {units[-1]}"


def _is_chain(model):
    steps = model._graph.steps
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        return False
    seen = set()
    previous = model._graph.input_ids[0]
    for step in steps:
        if id(step.layer) in seen or len(step.inputs) != 1 or step.inputs[0] != previous:
            return False
        seen.add(id(step.layer))
        previous = step.output
    return True


def _tensor_name(tensor):
    layer = tensor.node.layer
    return f"{layer.name}[{layer._inbound_nodes.index(tensor.node)}][0]"


def _rows(model, connected):
    from pycnn.models.sequential import Sequential

    rows = []
    if not isinstance(model, Sequential):
        for layer in model._input_layers:
            rows.append((f"{layer.name} (InputLayer)", shape_str(layer.batch_shape), "0", ""))
    for step in model._graph.steps:
        layer, node = step.layer, step.node
        sources = ", ".join(_tensor_name(t) for t in node.inputs) if connected else ""
        rows.append((f"{layer.name} ({type(layer).__name__})", shape_str(node.output.shape),
                     f"{layer.count_params():,}", sources))
    return rows


def print_summary(model, line_length=None, positions=None, print_fn=None, show_trainable=False):
    print_fn = print_fn or print
    connected = not _is_chain(model)
    headers = ("Layer (type)", "Output Shape", "Param #", "Connected to") if connected else (
        "Layer (type)", "Output Shape", "Param #")
    line_length = line_length or (98 if connected else 65)
    fractions = positions or ([0.33, 0.55, 0.67, 1.0] if connected else [0.45, 0.85, 1.0])
    rows = [r[:len(headers)] for r in _rows(model, connected)]
    # Widen a column where a cell would not fit (Keras wraps; plain text keeps one line per row).
    stops, start = [], 0
    for i, frac in enumerate(fractions[:len(headers)]):
        stop = max(int(line_length * frac) if frac <= 1 else int(frac), start + 1)
        widest = max([len(headers[i])] + [len(r[i]) for r in rows]) + 2
        stop = max(stop, start + widest)
        stops.append(stop)
        start = stop
    width = stops[-1]

    def line(cells):
        text, start = "", 0
        for cell, stop in zip(cells, stops):
            text += (" " + cell).ljust(stop - start)
            start = stop
        return text.rstrip()

    trainable = sum(v.value.size for v in model.trainable_weights)
    total = model.count_params()
    print_fn(f'Model: "{model.name}"')
    print_fn("_" * width)
    print_fn(line(headers))
    print_fn("=" * width)
    for i, row in enumerate(rows):
        print_fn(line(row))
        if i < len(rows) - 1:
            print_fn("")
    print_fn("=" * width)
    print_fn(f"Total params: {total:,} ({readable_memory_size(total * 4)})")
    print_fn(f"Trainable params: {trainable:,} ({readable_memory_size(trainable * 4)})")
    print_fn(f"Non-trainable params: {total - trainable:,} ({readable_memory_size((total - trainable) * 4)})")
    print_fn("_" * width)

