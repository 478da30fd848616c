"""The compiled form of a functional graph and the walk that runs it.

``Graph`` orders the nodes between the model's inputs and outputs
topologically and numbers every tensor, so a forward pass is one loop over
a list of steps writing into a list of values, and backward is the same
loop reversed. Where a tensor feeds several layers, its gradient is the sum
of what they return. Each step takes its layer's cache after the call and
restores it before backward, so shared layers work, and a layer holds no
reference to a batch once the pass is over. Nothing here is shared between
two passes, so several threads may run one graph at once.

Backward fuses an activation into the max-pooling that follows it: where a
layer with a fused activation (Conv2D(activation='relu'), ...) feeds only a
MaxPooling2D, the pooling applies the activation's derivative on its small
output while scattering, and the producer takes the pre-activation
gradient (``backward_logits``), skipping a pass over its full-size output.
Forward and backward fuse an activation layer (ReLU, LeakyReLU) into a
producer that offers ``call_activated`` (BatchNormalization) when it is
that producer's only consumer: the activation step then passes its input
through. A Conv2D whose only consumer is a MaxPooling2D pools each image's
output itself (``ops.conv2d_max_pool2d``), so its full-size output is never
written: without argmax in inference (``infer``), with it in a forward pass
that backward follows, where the pooling differentiates the convolution's
activation. In inference a linear convolution whose only consumer is a
BatchNormalization folds the normalisation (and the activation fused into
it) into its kernel, bias and epilogue, so the normalisation step passes
its input through.
"""

import math

import numpy as np

from pycnn.layers.input_layer import InputLayer
from pycnn.layers.layer import next_backward_pass
from pycnn.layers.node import KerasTensor
from pycnn.layers.pooling import MaxPooling2D


class Step:
    __slots__ = ("layer", "inputs", "output", "listed", "needs_dx", "node", "through_activation", "pre_activation",
                 "activation", "alias", "infer_pool", "infer_alias", "infer_norm", "train_pool", "train_alias")

    def __init__(self, node, inputs, output):
        self.node, self.layer, self.listed = node, node.layer, node.listed
        self.inputs, self.output = inputs, output
        self.needs_dx = True
        self.through_activation = None  # (ops name, alpha) of the producer's activation, differentiated here
        self.pre_activation = False  # the consumer already differentiated this layer's activation
        self.activation = None  # (ops name, alpha) of the next layer, applied here by call_activated
        self.alias = False  # an activation layer applied by its producer: output = input
        self.infer_pool = None  # inference only: the MaxPooling2D layer this Conv2D applies itself
        self.infer_alias = False  # inference only: that pooling (or normalisation) step, output = input
        self.infer_norm = None  # inference only: the BatchNormalization step this convolution folds in
        self.train_pool = None  # with backward: the MaxPooling2D step this Conv2D applies itself
        self.train_alias = False  # with backward: that pooling step, output = input, cache from the Conv2D


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


# Inference slices a batch so that no activation array passes this size: a
# slice's activations stay in the caches between layers, and glibc serves
# larger blocks with fresh pages on every call. A slice is never smaller than
# the model's weights, which every slice reads again (measured on the seed
# networks at batch 256: CIFAR-10 1.10x / 1.17x at 1 / 2 threads over 32 MiB
# slices; the face network, 22 MB of weights, slower in 4 MiB slices).
INFER_CHUNK_BYTES = 8 << 20


def _sample_bytes(tensor):
    """float32 bytes of one sample of a symbolic tensor (0 where a dimension is unknown)."""
    dims = tensor.shape[1:]
    return 4 * math.prod(dims) if all(isinstance(d, int) for d in dims) else 0


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
        self._weight_bytes = None
        self._mark_needed_gradients()
        self._fuse_activation_backward()
        self._fuse_activation_layers()
        self._fuse_conv_pool_inference()
        self._fuse_conv_batchnorm_inference()
        self._fuse_conv_pool_training()
        # The largest activation an inference pass materialises, per sample.
        produced_by_fused = {step.output for step in self.steps if step.infer_pool is not None}
        self.infer_sample_bytes = max((_sample_bytes(node.output) for node in nodes
                                       if index[id(node.output)] not in produced_by_fused), default=0)

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

    def _single_consumer_producers(self):
        """{tensor id: producing step} for tensors read by exactly one step and not a model output."""
        consumers = [0] * self.size
        for step in self.steps:
            for i in step.inputs:
                consumers[i] += 1
        for i in self.output_ids:
            consumers[i] += 1
        return {step.output: step for step in self.steps if consumers[step.output] == 1 and not step.listed}

    def _fuse_activation_layers(self):
        """Pair (layer with call_activated) -> (activation layer): the producer applies the activation."""
        producers = self._single_consumer_producers()
        for step in self.steps:
            act = getattr(step.layer, "fusable_activation", None)
            producer = producers.get(step.inputs[0]) if act and not step.listed else None
            if producer is None or producer.activation is not None or producer.pre_activation:
                continue
            if not hasattr(producer.layer, "call_activated"):
                continue
            producer.activation = act
            step.alias = True

    def _fuse_activation_backward(self):
        """Pair (layer with a fused activation) -> (layer with backward_through_activation)."""
        producers = self._single_consumer_producers()
        for step in self.steps:
            if step.listed or not hasattr(step.layer, "backward_through_activation"):
                continue
            producer = producers.get(step.inputs[0])
            if producer is None:
                continue
            _, op, alpha = producer.layer._act
            if op is None or not hasattr(producer.layer, "backward_logits"):
                continue
            if op in ("leaky_relu", "elu") and alpha is not None and alpha <= 0:
                continue  # the derivative needs the activation's input
            step.through_activation = (op, alpha)
            producer.pre_activation = True

    def _inference_pairs(self, is_consumer, can_name):
        """(producer, consumer) steps for an inference fusion: the consumer passes
        ``is_consumer`` and is the only reader of the producer's output, which no
        other fusion claims, and the producer's layer answers yes to ``can_name``.
        The consumer becomes an alias in inference."""
        producers = self._single_consumer_producers()
        for step in self.steps:
            if step.listed or not is_consumer(step):
                continue
            producer = producers.get(step.inputs[0])
            if producer is None or producer.activation is not None or producer.alias or producer.infer_pool:
                continue
            can = getattr(producer.layer, can_name, None)
            if can is None or not can():
                continue
            step.infer_alias = True
            yield producer, step

    def _fuse_conv_pool_inference(self):
        """Pair Conv2D -> MaxPooling2D (its only consumer) for inference: the
        convolution pools each image's output while it is in cache."""
        for producer, pool in self._inference_pairs(lambda s: isinstance(s.layer, MaxPooling2D), "can_infer_pooled"):
            producer.infer_pool = pool.layer

    def _fuse_conv_batchnorm_inference(self):
        """Pair a linear convolution -> BatchNormalization (its only consumer) for
        inference: the normalisation, an affine map per channel with the moving
        statistics, folds into the convolution's kernel and bias, and the
        normaliser's fused activation into its epilogue."""
        is_norm = lambda s: hasattr(s.layer, "inference_affine") and not s.alias  # noqa: E731
        for producer, norm in self._inference_pairs(is_norm, "can_infer_normalized"):
            producer.infer_norm = norm

    def _fuse_conv_pool_training(self):
        """Pair Conv2D -> MaxPooling2D for passes that backward follows, where the
        pooling differentiates the convolution's activation (the convolution's
        backward then reads only its input, the pooling's only its own output)."""
        producers = self._single_consumer_producers()
        for step in self.steps:
            if step.listed or not isinstance(step.layer, MaxPooling2D) or step.through_activation is None:
                continue
            producer = producers.get(step.inputs[0])
            if producer is None or not producer.pre_activation or not hasattr(producer.layer, "call_pooled"):
                continue
            if producer.layer.can_infer_pooled():
                producer.train_pool = step
                step.train_alias = True

    @property
    def layers(self):
        seen, out = set(), []
        for step in self.steps:
            if id(step.layer) not in seen:
                seen.add(id(step.layer))
                out.append(step.layer)
        return out

    def weight_bytes(self):
        """Bytes of every layer's weights (fixed once the layers are built)."""
        if self._weight_bytes is None:
            self._weight_bytes = sum(w.value.nbytes for layer in self.layers for w in layer.weights)
        return self._weight_bytes

    def infer(self, inputs):
        """Outputs of an inference pass (no caches). A batch whose largest
        activation would pass INFER_CHUNK_BYTES runs in equal slices: each
        slice's arrays then come from the reused heap instead of fresh pages
        the system must fault in and zero on every call, and they stay in
        cache. Rows are independent in inference, so slicing changes nothing
        but the arithmetic's blocking."""
        n = len(inputs[0]) if inputs else 0
        size = self.infer_sample_bytes
        limit = max(INFER_CHUNK_BYTES, self.weight_bytes())
        pieces = min(n, math.ceil(n * size / limit)) if size else 1
        if pieces <= 1:
            return self.forward(inputs, training=False, backward_follows=False)[0]
        bounds = np.linspace(0, n, pieces + 1).astype(int)
        parts = [self.forward([x[a:b] for x in inputs], training=False, backward_follows=False)[0]
                 for a, b in zip(bounds, bounds[1:])]
        return [np.concatenate(outs) for outs in zip(*parts)]

    def forward(self, inputs, training, backward_follows=True):
        """Run every step; returns (outputs, caches) where caches[k] is step k's saved state.

        Without ``backward_follows`` (inference) a layer with an ``infer``
        method runs that instead of ``call`` and saves nothing for backward.
        """
        values = [None] * self.size
        for i, x in zip(self.input_ids, inputs):
            values[i] = x
        caches = []
        pooled_caches = {}  # pooling step -> the cache its Conv2D left it
        for step in self.steps:
            layer = step.layer
            if step.alias or (step.infer_alias and not backward_follows):
                values[step.output] = values[step.inputs[0]]
                caches.append(None)
                continue
            if step.train_alias and backward_follows:
                values[step.output] = values[step.inputs[0]]
                caches.append(pooled_caches.pop(id(step)))
                continue
            x = [values[i] for i in step.inputs] if step.listed else values[step.inputs[0]]
            if step.train_pool is not None and backward_follows:
                pool = step.train_pool.layer
                values[step.output] = layer.call_pooled(x, pool)
                pooled_caches[id(step.train_pool)] = pool._cache
                pool._cache = None
            elif step.activation is not None:
                values[step.output] = layer.call_activated(x, training, step.activation)
            elif not backward_follows and step.infer_pool is not None:
                values[step.output] = layer.infer_pooled(x, step.infer_pool)
            elif not backward_follows and step.infer_norm is not None:
                norm = step.infer_norm
                values[step.output] = layer.infer_normalized(x, norm.layer, norm.activation or (None, None))
            elif not backward_follows and hasattr(layer, "infer"):
                values[step.output] = layer.infer(x)
            else:
                values[step.output] = layer.call(x, training=training)
            cache = layer._cache
            if step.pre_activation and backward_follows:
                cache = layer.cache_for_backward_logits(cache)  # the output is not needed again
            caches.append(cache)
            layer._cache = None  # the caches list owns it; the layer keeps no reference to this batch
        return [values[i] for i in self.output_ids], caches

    def backward(self, caches, output_grads, logit_outputs=(), input_grads=False):
        """Propagate gradients from the outputs; weight gradients land on the variables.

        ``output_grads[j]`` is d(loss)/d(output j), or None for an output the loss ignores;
        for j in ``logit_outputs`` it is the gradient of the pre-softmax logits.
        With ``input_grads``, returns the gradient of every model input and leaves the
        weights' gradients untouched. Consumes ``caches``: each step's entry (and its
        output gradient) is released once the step has run, so the activations of the
        later layers are freed before the earlier, larger ones are differentiated.
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
            dy, cache = grads[step.output], caches[k]
            grads[step.output] = caches[k] = None
            if dy is None:
                continue
            if step.alias:
                grads[step.inputs[0]] = dy
                continue
            need = input_grads or step.needs_dx
            layer = step.layer
            if not need and not layer.trainable_weights:
                continue
            layer._cache = cache
            layer._need_dx = need
            if step.pre_activation or id(step) in logit_steps:
                dx = layer.backward_logits(dy)
            elif step.through_activation is not None:
                dx = layer.backward_through_activation(dy, step.through_activation)
            else:
                dx = layer.backward(dy)
            layer._cache = None
            if not need:
                continue
            parts = dx if step.listed else (dx,)
            for i, g in zip(step.inputs, parts):
                grads[i] = g if grads[i] is None else grads[i] + g
        if input_grads:
            return [grads[i] for i in self.input_ids]
        return None
