"""compile / fit / evaluate / predict and the *_on_batch calls (Keras 3 semantics).

One training step: forward (training=True), loss and its output gradients,
backward through the graph, regularisation gradients, one fused optimizer
update. Reported ``loss`` is the running mean of the batch losses weighted
by batch size (regularisation included), metrics are running weighted
means, as Keras reports them. Ctrl-C during ``fit`` lets the running batch
finish, then stops (see ``interrupt.py``): the model holds whole steps only
and can be used, saved or trained further.
"""

import math
import sys

import numpy as np

from pycnn import losses as losses_module
from pycnn import optimizers as optimizers_module
from pycnn.layers import layer as layer_module
from pycnn.callbacks import CallbackList, History, ProgbarLogger
from pycnn.metrics import Mean
from pycnn.models import data_adapter as da
from pycnn.models.compile_utils import CompiledLoss, CompiledMetrics
from pycnn.models.interrupt import DeferredInterrupt
from pycnn.utils.progbar import Progbar
from pycnn.utils.random import global_rng


class Trainer:
    def _init_trainer(self):
        self.optimizer = None
        self.compiled = False
        self.stop_training = False
        self.history = None
        self._loss_tracker = Mean(name="loss")

    # ----- compile ---------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, loss_weights=None, metrics=None, weighted_metrics=None,
                run_eagerly=False, steps_per_execution=1, jit_compile="auto", auto_scale_loss=True):
        self.optimizer = optimizers_module.get(optimizer)
        if loss is None:
            raise ValueError("`compile()` needs a `loss`; received loss=None")
        if isinstance(loss, dict) and "class_name" in loss:
            loss = losses_module.get(loss)
        specs = loss.values() if isinstance(loss, dict) else (loss if isinstance(loss, (list, tuple)) else [loss])
        for spec in specs:
            if spec is not None:
                losses_module.get(spec)
        CompiledMetrics(metrics, ["output"])  # unknown metric names fail here, as in Keras
        self._compile_specs = (loss, loss_weights, metrics)
        self._compiled_for = None
        self.loss = loss
        self.compiled = True

    def _require_compiled(self, what, x=None):
        if not getattr(self, "compiled", False):
            raise ValueError(f"You must call `compile()` before using the model (in `{what}`).")
        self._ensure_built(x)
        if self._compiled_for != self.output_names:
            loss, loss_weights, metrics = self._compile_specs
            self.compiled_loss = CompiledLoss(loss, loss_weights, self.output_names)
            self.compiled_metrics = CompiledMetrics(metrics, self.output_names)
            self._compiled_for = list(self.output_names)

    # ----- one batch -------------------------------------------------------
    def _fused_logits(self, caches):
        out = []
        for j, k in enumerate(self._graph.output_step_index):
            layer = self._graph.steps[k].layer if k is not None else None
            if layer is not None and self.compiled_loss.fusable(j, layer):
                out.append(layer.cached_logits(caches[k]))
            else:
                out.append(None)
        return out

    def _trainable_state(self):
        """(trainable variables, their arrays, those with a regulariser), cached until a trainable flag changes."""
        key = (self.trainable,) + tuple(layer.trainable for layer in self.layers)
        cache = getattr(self, "_trainable_cache", None)
        if cache is None or cache[0] != key:
            variables = self.trainable_weights
            cache = (key, (variables, [v.value for v in variables], [v for v in variables if v.regularizer is not None]))
            self._trainable_cache = cache
        return cache[1]

    def _regularization(self, regularized, apply_grads):
        total = 0.0
        for var in regularized:
            total += var.regularizer(var.value)
            if apply_grads and var.grad is not None:
                var.grad = var.grad + var.regularizer.gradient(var.value)
        return total

    def _train_batch(self, xs, ys, sws):
        outputs, caches = self._graph.forward(xs, training=True)
        loss, _, grads, logit_outputs = self.compiled_loss.compute(ys, outputs, sws, self._fused_logits(caches))
        self._graph.backward(caches, grads, logit_outputs)
        variables, params, regularized = self._trainable_state()
        if regularized:
            loss += self._regularization(regularized, apply_grads=True)
        self.optimizer.apply(_current_grads(variables), params)
        # The update has consumed the gradients; kept, they would stay alive
        # beside the next step's (faces: +21 MiB of peak memory).
        for var in variables:
            var.grad = None
        self._loss_tracker.update_state(loss, sample_weight=len(xs[0]))
        self.compiled_metrics.update(ys, outputs, sws)
        return loss

    def _test_batch(self, xs, ys, sws):
        outputs, caches = self._graph.forward(xs, training=False)
        loss, _, _, _ = self.compiled_loss.compute(ys, outputs, sws, self._fused_logits(caches))
        regularized = self._trainable_state()[2]
        if regularized:
            loss += self._regularization(regularized, apply_grads=False)
        self._loss_tracker.update_state(loss, sample_weight=len(xs[0]))
        self.compiled_metrics.update(ys, outputs, sws)
        return loss

    def _logs(self):
        logs = {"loss": float(self._loss_tracker.result())}
        logs.update(self.compiled_metrics.results())
        return dict(sorted(logs.items()))

    def _reset_metrics(self):
        self._loss_tracker.reset_state()
        self.compiled_metrics.reset()

    # ----- data ------------------------------------------------------------
    def _prepare(self, x, y, sample_weight=None, class_weight=None, need_y=True):
        xs = da.flatten_struct(x, self.input_names, "x")
        if xs is None:
            raise ValueError("`x` is required")
        xs = da.check_inputs(self, xs)
        ys = da.flatten_struct(y, self.output_names, "y")
        if ys is None and need_y:
            raise ValueError("`y` is required (targets for the loss)")
        sw = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64).reshape(-1)
        n = da.check_lengths(xs, ys, sw)
        if ys is not None:
            for y_arr, name, out in zip(ys, self.output_names, self.outputs):
                _check_target(y_arr, out.shape, name, self.name)
        if class_weight is not None:
            if len(self.output_names) != 1:
                raise ValueError("`class_weight` is only supported for models with a single output")
            cw = da.class_weight_to_sample_weight(ys[0], class_weight).astype(np.float64)
            sw = cw if sw is None else sw * cw
        sws = None if sw is None else [sw] * len(self.output_names)
        return xs, ys, sws, n

    # ----- public batch API -------------------------------------------------
    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        self._require_compiled("train_on_batch", x)
        xs, ys, sws, _ = self._prepare(x, y, sample_weight, class_weight)
        self._reset_metrics()
        self._train_batch(xs, ys, sws)
        return self._format_result(self._logs(), return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        self._require_compiled("test_on_batch", x)
        xs, ys, sws, _ = self._prepare(x, y, sample_weight)
        self._reset_metrics()
        self._test_batch(xs, ys, sws)
        return self._format_result(self._logs(), return_dict)

    def predict_on_batch(self, x):
        self._ensure_built(x)
        xs = da.check_inputs(self, da.flatten_struct(x, self.input_names, "x"))
        return self._pack_outputs(self._graph.infer(xs))

    def _format_result(self, logs, return_dict):
        if return_dict:
            return logs
        values = [logs["loss"]] + [logs[k] for k in self.compiled_metrics.names if k in logs]
        return values[0] if len(values) == 1 else values

    @property
    def metrics_names(self):
        metrics = getattr(self, "compiled_metrics", None)
        return ["loss"] + (metrics.names if metrics is not None else [])

    # ----- fit ---------------------------------------------------------------
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None, validation_split=0.0,
            validation_data=None, shuffle=True, class_weight=None, sample_weight=None, initial_epoch=0,
            steps_per_epoch=None, validation_steps=None, validation_batch_size=None, validation_freq=1):
        self._require_compiled("fit", x)
        batch_size = _batch_size(batch_size)
        if not 0 <= validation_split < 1:
            raise ValueError(f"`validation_split` must be in [0, 1), received {validation_split}")
        xs, ys, sws, n = self._prepare(x, y, sample_weight, class_weight)
        val = None
        if validation_data is not None:
            if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
                raise ValueError("`validation_data` should be a tuple (x_val, y_val) or (x_val, y_val, val_sample_weight)")
            val = self._prepare(*validation_data)[:3]
        elif validation_split:
            # As Keras: the last fraction of the samples, taken before shuffling.
            split = int(n * (1 - validation_split))
            cut = lambda arrays, sl: None if arrays is None else [a[sl] for a in arrays]
            val = (cut(xs, slice(split, None)), cut(ys, slice(split, None)), cut(sws, slice(split, None)))
            xs, ys, sws = cut(xs, slice(0, split)), cut(ys, slice(0, split)), cut(sws, slice(0, split))
            n = split
        verbose = _verbosity(verbose)
        steps = math.ceil(n / batch_size)
        if steps_per_epoch is not None:
            steps = min(steps, int(steps_per_epoch))
        self.history = History()
        cbs = list(callbacks or []) + ([ProgbarLogger(verbose)] if verbose else []) + [self.history]
        cb = CallbackList(cbs, self, {"epochs": epochs, "steps": steps, "verbose": verbose})
        self.stop_training = False
        cb.on_train_begin()
        try:
            with DeferredInterrupt() as interrupt:
                self._fit_epochs(xs, ys, sws, n, val, batch_size, shuffle, initial_epoch, epochs, steps,
                                 validation_freq, validation_batch_size, cb, interrupt)
        except KeyboardInterrupt:
            sys.stdout.write("\nTraining interrupted; the model keeps the weights of the last completed batch.\n")
            self.stop_training = True
        cb.on_train_end()
        return self.history

    def _fit_epochs(self, xs, ys, sws, n, val, batch_size, shuffle, initial_epoch, epochs, steps, validation_freq,
                    validation_batch_size, cb, interrupt):
        for epoch in range(initial_epoch, epochs):
            self._reset_metrics()
            cb.on_epoch_begin(epoch)
            batches = da.batch_slices(n, batch_size, shuffle, global_rng())[:steps]
            for step, index in enumerate(batches):
                cb.on_train_batch_begin(step)
                bsw = None if sws is None else [sw[index] for sw in sws]
                self._train_batch(da.take(xs, index), da.take(ys, index), bsw)
                cb.on_train_batch_end(step, self._logs())
                if interrupt.pending:
                    raise KeyboardInterrupt
                if self.stop_training:
                    break
            logs = self._logs()
            if val is not None and (epoch + 1) % validation_freq == 0:
                val_logs = self._evaluate_arrays(*val, validation_batch_size or batch_size, 0, None)
                logs.update({"val_" + k: v for k, v in val_logs.items()})
            cb.on_epoch_end(epoch, logs)
            if interrupt.pending:
                raise KeyboardInterrupt
            if self.stop_training:
                break

    # ----- evaluate / predict ----------------------------------------------
    def _evaluate_arrays(self, xs, ys, sws, batch_size, verbose, callbacks):
        self._reset_metrics()
        n = len(xs[0])
        steps = math.ceil(n / batch_size)
        bar = Progbar(steps, verbose=verbose) if verbose else None
        for step, index in enumerate(da.batch_slices(n, batch_size, False, None)):
            bsw = None if sws is None else [sw[index] for sw in sws]
            self._test_batch(da.take(xs, index), da.take(ys, index), bsw)
            if bar:
                bar.update(step + 1, self._logs(), finalize=step + 1 == steps)
        return self._logs()

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None, steps=None,
                 callbacks=None, return_dict=False):
        self._require_compiled("evaluate", x)
        xs, ys, sws, _ = self._prepare(x, y, sample_weight)
        logs = self._evaluate_arrays(xs, ys, sws, _batch_size(batch_size), _verbosity(verbose), callbacks)
        return self._format_result(logs, return_dict)

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        self._ensure_built(x)
        xs = da.check_inputs(self, da.flatten_struct(x, self.input_names, "x"))
        n = da.check_lengths(xs)
        batch_size = _batch_size(batch_size)
        verbose = _verbosity(verbose)
        steps = math.ceil(n / batch_size)
        bar = Progbar(steps, verbose=verbose) if verbose else None
        chunks = [[] for _ in self.output_names]
        for step, index in enumerate(da.batch_slices(n, batch_size, False, None)):
            outputs = self._graph.infer(da.take(xs, index))
            for j, o in enumerate(outputs):
                chunks[j].append(o)
            if bar:
                bar.update(step + 1, finalize=step + 1 == steps)
        outputs = [np.concatenate(c) if c else np.zeros((0,) + tuple(t.shape[1:]), np.float32)
                   for c, t in zip(chunks, self.outputs)]
        return self._pack_outputs(outputs)


def _current_grads(variables):
    """Each variable's gradient from this backward pass; zeros for one the loss does not reach
    (keeps the optimizer's slots aligned; Keras warns and skips such variables)."""
    current = layer_module.current_backward_pass()
    return [v.grad_for_update if v._grad_pass == current else np.zeros_like(v.value) for v in variables]


def _batch_size(batch_size):
    if batch_size is None:
        return 32
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size <= 0:
        raise ValueError(f"`batch_size` must be a positive integer, received batch_size={batch_size!r}")
    return int(batch_size)


def _verbosity(verbose):
    if verbose == "auto":
        return 1
    if verbose not in (0, 1, 2):
        raise ValueError(f"`verbose` must be 'auto', 0, 1 or 2, received {verbose!r}")
    return verbose


def _check_target(y, output_shape, name, model_name):
    """Targets must match the output width (or be sparse class indices for a multi-class output)."""
    width = output_shape[-1]
    if y.ndim == len(output_shape) and y.shape[1:] == tuple(output_shape[1:]):
        return
    sparse_like = (y.ndim == len(output_shape) - 1 or (y.ndim == len(output_shape) and y.shape[-1] == 1))
    if sparse_like and tuple(y.shape[1:len(output_shape) - 1]) == tuple(output_shape[1:-1]):
        return
    raise ValueError(f'Target array for output {name!r} of model "{model_name}" has shape {tuple(y.shape)}, but the '
                     f"output has shape {tuple(output_shape)}: expected (n, {width}) one-hot/probability targets "
                     f"or (n,) integer class labels.")
