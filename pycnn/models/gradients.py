"""``pycnn.gradients``: d(loss)/d(input) through a model, for saliency maps and style transfer.

``target`` says what is differentiated:

- an int (or one int per sample): the score of that class, loss = sum_i output[i, c_i];
- an array shaped like the output: loss = sum(output * target) (the array is d loss / d output);
- a loss (name or ``pycnn.losses.Loss``) with ``y_true``: the mean loss over the batch, as in training;
- a callable ``f(outputs) -> d loss / d outputs`` (a list for multi-output models), for losses on
  intermediate features: build ``Model(model.input, [layer.output, ...])`` and return one gradient per output.

The model runs in inference mode (BN uses moving statistics, no dropout) unless ``training=True``.
"""

import numpy as np

from pycnn import losses as losses_module


def gradients(model, x, target, y_true=None, training=False):
    """d(loss)/d(x) with the same shape as x (a list for multi-input models)."""
    model._ensure_built(x)

    def output_grads(outputs):
        if callable(target) and not isinstance(target, losses_module.Loss):
            grads = target(outputs if len(outputs) > 1 else outputs[0])
            return list(grads) if isinstance(grads, (list, tuple)) else [grads]
        out = outputs[0]
        if len(outputs) != 1:
            raise ValueError("For a model with several outputs, pass a callable returning one gradient per output")
        if isinstance(target, (str, losses_module.Loss)):
            if y_true is None:
                raise ValueError("A loss target needs `y_true`")
            _, grad = losses_module.get(target).per_sample(y_true, out)
            return [grad / np.float32(max(len(out), 1))]
        t = np.asarray(target)
        if t.dtype.kind in "iu" and t.ndim <= 1:
            classes = np.broadcast_to(t, (len(out),))
            if classes.size and (classes.min() < 0 or classes.max() >= out.shape[-1]):
                raise ValueError(f"Class index out of range for an output of {out.shape[-1]} classes: {t}")
            grad = np.zeros_like(out)
            grad[np.arange(len(out)), classes] = 1.0
            return [grad]
        if t.shape != out.shape:
            raise ValueError(f"`target` array has shape {t.shape}; expected the output's shape {out.shape}")
        return [t.astype(np.float32)]

    grads = model.input_gradients(x, output_grads, training=training)
    return grads[0] if len(grads) == 1 else grads
