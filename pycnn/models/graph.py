"""The compiled form of a functional graph and the walk that runs it.

``Graph`` orders the nodes between the model's inputs and outputs
topologically and numbers every tensor, so a forward pass is one loop over
a list of steps writing into a list of values, and backward is the same
loop reversed. Where a tensor feeds several layers, its gradient is the sum
of what they return. Each step takes its layer's cache after the call and
restores it before backward, so shared layers work, and a layer holds no
reference to a batch once the pass is over. Nothing here is shared between
two passes, so several threads may run one graph at once.
"""

from pycnn.layers.input_layer import InputLayer
from pycnn.layers.layer import next_backward_pass
from pycnn.layers.node import KerasTensor


class Step:
    __slots__ = ("layer", "inputs", "output", "listed", "needs_dx", "node")

    def __init__(self, node, inputs, output):
        self.node, self.layer, self.listed = node, node.layer, node.listed
        self.inputs, self.output = inputs, output
        self.needs_dx = True


def _topological_nodes(outputs):
    order, state = [], {}
    for out in outputs:
        stack = [(out.node, False)]
        while stack:
            node, expanded = stack.pop()
            if expanded:
                if state.get(id(node)) != 2:
                    state[id(node)] = 2
                    order.append(node)
                continue
            if state.get(id(node)):
                continue
            state[id(node)] = 1
            stack.append((node, True))
            for parent in reversed(node.parents):
                if state.get(id(parent)) != 2:
                    stack.append((parent, False))
    return order


class Graph:
    def __init__(self, inputs, outputs):
        for t in list(inputs) + list(outputs):
            if not isinstance(t, KerasTensor):
                raise TypeError(f"Model inputs and outputs must be symbolic tensors (from `Input(...)` or a layer "
                                f"called on one); received {t!r}")
        for t in inputs:
            if not isinstance(t.node.layer, InputLayer):
                raise ValueError(f"Model inputs must come from `pycnn.layers.Input`; received {t} produced by "
                                 f"layer {t.node.layer.name!r}")
        nodes = _topological_nodes(outputs)
        index = {}
        for t in inputs:
            index.setdefault(id(t), len(index))
        self.input_ids = [index[id(t)] for t in inputs]
        self.steps = []
        for node in nodes:
            layer = node.layer
            if isinstance(layer, InputLayer):
                if id(node.output) not in index:
                    raise ValueError(f"Graph disconnected: cannot obtain value for tensor {node.output} at layer "
                                     f"{layer.name!r}. It is not among the model's inputs.")
                continue
            ins = [index[id(t)] for t in node.inputs]
            index[id(node.output)] = len(index)
            self.steps.append(Step(node, ins, index[id(node.output)]))
        self.output_ids = [index[id(t)] for t in outputs]
        self.size = len(index)
        self.output_steps = [self._producer(i) for i in self.output_ids]
        self._mark_needed_gradients()

    def _producer(self, tensor_id):
        for step in self.steps:
            if step.output == tensor_id:
                return step
        return None

    def _mark_needed_gradients(self):
        """A step needs its input gradient only if something upstream has weights."""
        carries = [False] * self.size
        for step in self.steps:
            step.needs_dx = any(carries[i] for i in step.inputs)
            carries[step.output] = step.needs_dx or bool(step.layer.weights)

    @property
    def layers(self):
        seen, out = set(), []
        for step in self.steps:
            if id(step.layer) not in seen:
                seen.add(id(step.layer))
                out.append(step.layer)
        return out

    def forward(self, inputs, training):
        """Run every step; returns (outputs, caches) where caches[k] is step k's saved state."""
        values = [None] * self.size
        for i, x in zip(self.input_ids, inputs):
            values[i] = x
        caches = []
        for step in self.steps:
            layer = step.layer
            x = [values[i] for i in step.inputs] if step.listed else values[step.inputs[0]]
            values[step.output] = layer.call(x, training=training)
            caches.append(layer._cache)
            layer._cache = None  # the caches list owns it; the layer keeps no reference to this batch
        return [values[i] for i in self.output_ids], caches

    def backward(self, caches, output_grads, logit_outputs=(), input_grads=False):
        """Propagate gradients from the outputs; weight gradients land on the variables.

        ``output_grads[j]`` is d(loss)/d(output j), or None for an output the loss ignores;
        for j in ``logit_outputs`` it is the gradient of the pre-softmax logits.
        With ``input_grads``, returns the gradient of every model input and leaves the
        weights' gradients untouched.
        """
        next_backward_pass(weight_grads=not input_grads)
        grads = [None] * self.size
        logit_steps = set()
        for j, (i, g) in enumerate(zip(self.output_ids, output_grads)):
            if g is None:
                continue
            if j in logit_outputs:
                logit_steps.add(id(self.output_steps[j]))
                grads[i] = g
            else:
                grads[i] = g if grads[i] is None else grads[i] + g
        for k in range(len(self.steps) - 1, -1, -1):
            step = self.steps[k]
            dy = grads[step.output]
            if dy is None:
                continue
            need = input_grads or step.needs_dx
            layer = step.layer
            if not need and not layer.trainable_weights:
                continue
            layer._cache = caches[k]
            layer._need_dx = need
            dx = layer.backward_logits(dy) if id(step) in logit_steps else layer.backward(dy)
            layer._cache = None
            if not need:
                continue
            parts = dx if step.listed else (dx,)
            for i, g in zip(step.inputs, parts):
                grads[i] = g if grads[i] is None else grads[i] + g
        if input_grads:
            return [grads[i] for i in self.input_ids]
        return None
