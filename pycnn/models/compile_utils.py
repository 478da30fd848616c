"""Losses and metrics attached to a model's outputs at compile time.

``CompiledLoss.compute`` returns the total loss (Keras' reduction:
sum(loss_i * w_i) / N per output, times its loss weight, summed) and the
gradient to feed each output. When an output comes from a layer ending in a
softmax and its loss is a plain categorical cross-entropy, the loss is
computed from the saved logits with ``ops.softmax_cross_entropy``: the same
gradient (softmax_backward of the cross-entropy gradient) in one op, and
the layer's backward starts from the logits.
"""

import numpy as np

from pycnn import losses as losses_module
from pycnn import metrics as metrics_module
from pycnn import ops


def _per_output(spec, names, what):
    if isinstance(spec, dict):
        unknown = [k for k in spec if k not in names]
        if unknown:
            raise ValueError(f"Unknown output names {unknown} in `{what}`; the model's outputs are {names}")
        return [spec.get(n) for n in names]
    if isinstance(spec, (list, tuple)) and what == "loss":
        if len(spec) != len(names):
            raise ValueError(f"`loss` is a list of {len(spec)} losses but the model has {len(names)} outputs {names}")
        return list(spec)
    return [spec] * len(names)


class CompiledLoss:
    def __init__(self, loss, loss_weights, output_names):
        if loss is None:
            raise ValueError("`compile()` needs a `loss`; received loss=None")
        self.output_names = output_names
        self.losses = [None if l is None else losses_module.get(l) for l in _per_output(loss, output_names, "loss")]
        if loss_weights is None:
            weights = [1.0] * len(output_names)
        elif isinstance(loss_weights, dict):
            weights = [float(loss_weights.get(n, 1.0)) for n in output_names]
        else:
            weights = [float(w) for w in loss_weights]
            if len(weights) != len(output_names):
                raise ValueError(f"`loss_weights` has {len(weights)} entries but the model has {len(output_names)} outputs")
        self.weights = weights

    def fusable(self, j, layer):
        loss = self.losses[j]
        return (isinstance(loss, losses_module.CategoricalCrossentropy) and not loss.from_logits
                and not loss.label_smoothing and loss.reduction == "sum_over_batch_size" and layer.ends_in_softmax)

    def compute(self, y_trues, y_preds, sample_weights, fused_logits):
        """(total, {output: loss}, grads, logit_outputs).

        ``fused_logits[j]`` holds the logits of output j when its loss is fused, else None.
        """
        total, per_output, grads, logit_outputs = 0.0, {}, [], set()
        for j, (loss, y_true, y_pred) in enumerate(zip(self.losses, y_trues, y_preds)):
            if loss is None:
                grads.append(None)
                continue
            z = fused_logits[j]
            if z is not None:
                values, grad = ops.softmax_cross_entropy(z, loss.labels(y_true, y_pred), sparse=loss.sparse)
                logit_outputs.add(j)
            else:
                values, grad = loss.per_sample(y_true, y_pred)
            n = values.shape[0]
            scale = self.weights[j] / n if n else 0.0
            sw = sample_weights[j] if sample_weights is not None else None
            if sw is None:
                value = float(values.sum(dtype=np.float64)) * scale
                grad *= np.float32(scale)
            else:
                value = float(np.dot(values.astype(np.float64), sw)) * scale
                grad *= (sw * scale).astype(np.float32).reshape((n,) + (1,) * (grad.ndim - 1))
            per_output[self.output_names[j]] = value
            total += value
            grads.append(grad)
        return total, per_output, grads, logit_outputs


def _resolve(identifier, y_true, y_pred):
    if isinstance(identifier, str) and identifier.lower() in ("accuracy", "acc"):
        t_rank, p_rank = np.ndim(y_true), y_pred.ndim
        is_binary = p_rank == 1 or y_pred.shape[-1] == 1
        is_sparse = t_rank < p_rank or (np.shape(y_true)[-1] == 1 and y_pred.shape[-1] > 1)
        if is_binary:
            fn = metrics_module.binary_accuracy
        elif is_sparse:
            fn = metrics_module.sparse_categorical_accuracy
        else:
            fn = metrics_module.categorical_accuracy
        return metrics_module.MeanMetricWrapper(fn, name=identifier)
    return metrics_module.get(identifier)


class CompiledMetrics:
    """Metric objects per output, made on the first batch (accuracy depends on the shapes)."""

    def __init__(self, metrics, output_names):
        self.output_names = output_names
        if metrics is None:
            metrics = []
        if isinstance(metrics, dict):
            specs = [metrics.get(n, []) for n in output_names]
        elif len(output_names) > 1 and metrics and all(isinstance(m, (list, tuple)) for m in metrics):
            specs = list(metrics)
        else:
            specs = [metrics] * len(output_names)
        self.specs = [list(s) if isinstance(s, (list, tuple)) else [s] for s in specs]
        for spec in self.specs:
            for m in spec:
                if not (isinstance(m, str) and m.lower() in ("accuracy", "acc")):
                    metrics_module.get(m)  # fail at compile time on unknown names
        self.objects = None

    def build(self, y_trues, y_preds):
        self.objects = []
        for j, spec in enumerate(self.specs):
            objs = [_resolve(m, y_trues[j], y_preds[j]) for m in spec]
            if len(self.output_names) > 1:
                for o in objs:
                    o.name = f"{self.output_names[j]}_{o.name}"
            self.objects.append(objs)

    def update(self, y_trues, y_preds, sample_weights):
        if self.objects is None:
            self.build(y_trues, y_preds)
        for j, objs in enumerate(self.objects):
            sw = sample_weights[j] if sample_weights is not None else None
            for m in objs:
                m.update_state(y_trues[j], y_preds[j], sw)

    def reset(self):
        for objs in self.objects or []:
            for m in objs:
                m.reset_state()

    def results(self):
        out = {}
        for objs in self.objects or []:
            for m in objs:
                r = m.result()
                out[m.name] = float(r) if np.ndim(r) == 0 else r
        return out

    @property
    def names(self):
        if self.objects is not None:
            return [m.name for objs in self.objects for m in objs]
        return [m if isinstance(m, str) else getattr(m, "name", getattr(m, "__name__", "metric"))
                for spec in self.specs for m in spec]
