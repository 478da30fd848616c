"""Symbolic tensors and the nodes that connect layers into a graph.

Calling a layer on a ``KerasTensor`` records a ``Node`` (layer, input
tensors, output tensor) instead of computing; ``Model(inputs, outputs)``
walks these nodes. Shapes keep ``None`` for the batch axis.
"""


class KerasTensor:
    """A placeholder with a shape; ``node`` is the node that produces it."""

    __slots__ = ("shape", "node", "name")
    dtype = "float32"

    def __init__(self, shape, node=None, name=None):
        self.shape = tuple(shape)
        self.node = node
        self.name = name

    @property
    def ndim(self):
        return len(self.shape)

    def __repr__(self):
        return f"<KerasTensor shape={self.shape}, dtype=float32, name={self.name}>"


class Node:
    """One call of ``layer`` on symbolic ``inputs``, producing one output tensor.

    ``listed`` says whether the layer received a list (merging layers) or a
    single tensor, so the model calls it the same way on arrays.
    """

    __slots__ = ("layer", "inputs", "output", "listed")

    def __init__(self, layer, inputs, output_shape, listed=False):
        self.layer = layer
        self.inputs = list(inputs)
        self.listed = listed
        self.output = KerasTensor(output_shape, node=self, name=layer.name)
        layer._inbound_nodes.append(self)

    @property
    def parents(self):
        return [t.node for t in self.inputs]
