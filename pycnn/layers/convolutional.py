"""Conv2D, DepthwiseConv2D and ZeroPadding2D (NHWC, Keras kernel layouts).

Conv2D kernel (kh, kw, in/groups, filters); DepthwiseConv2D kernel
(kh, kw, in, depth_multiplier), run as a grouped convolution with
groups = in and the kernel viewed as (kh, kw, 1, in*multiplier). The
activation is fused into the op; backward differentiates it from the
saved output.
"""

import numpy as np

from pycnn import ops, regularizers
from pycnn.layers.core import _no_extras
from pycnn.layers.layer import Layer, serialize_initializer
from pycnn.regularizers import serialize as serialize_regularizer
from pycnn.utils.argument_validation import positive_int, standardize_padding, standardize_tuple


def conv_output_length(length, kernel, stride, padding, dilation):
    if length is None:
        return None
    if padding == "same":
        return -(-length // stride)
    effective = (kernel - 1) * dilation + 1
    return (length - effective) // stride + 1


def _check_data_format(layer, data_format):
    if data_format not in (None, "channels_last"):
        raise ValueError(f"Layer {layer}: only data_format='channels_last' (NHWC) is supported, received {data_format!r}")


class _Conv(Layer):
    def __init__(self, kernel_size, strides, padding, dilation_rate, activation, use_bias, data_format, **kwargs):
        super().__init__(**kwargs)
        _check_data_format(self.name, data_format)
        self.kernel_size = standardize_tuple(kernel_size, 2, "kernel_size")
        self.strides = standardize_tuple(strides, 2, "strides")
        self.padding = standardize_padding(padding)
        self.dilation_rate = standardize_tuple(dilation_rate, 2, "dilation_rate")
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(f"Layer {self.name}: `strides > 1` not supported in conjunction with `dilation_rate > 1`. "
                             f"Received: strides={self.strides} and dilation_rate={self.dilation_rate}")
        self._set_activation(activation)
        self.use_bias = bool(use_bias)

    def _spatial_output(self, input_shape):
        out = []
        for i in range(2):
            n = conv_output_length(input_shape[1 + i], self.kernel_size[i], self.strides[i], self.padding,
                                   self.dilation_rate[i])
            if n is not None and n <= 0:
                raise ValueError(f"Layer {self.name}: computed output size would be negative ({n}). Received "
                                 f"inputs shape={tuple(input_shape)}, kernel_size={self.kernel_size}, "
                                 f"strides={self.strides}, padding={self.padding!r}, dilation_rate={self.dilation_rate}")
            out.append(n)
        return tuple(out)

    def _forward(self, x, kernel, groups):
        name, op, alpha = self._act
        bias = self.bias.value if self.bias is not None else None
        y = z = ops.conv2d(x, kernel, bias, self.strides, self.padding, self.dilation_rate, groups,
                           activation=op, alpha=alpha)
        if name == "softmax":
            y = ops.softmax(z)
        self._cache = (x, y, z)
        return y

    def _backward(self, dz, kernel, groups):
        x = self._cache[0]
        dx, dk, db = ops.conv2d_backward(dz, x, kernel, self.strides, self.padding, self.dilation_rate, groups,
                                         need_input_grad=self._need_dx, need_bias_grad=self.use_bias)
        if self.use_bias:
            self._store_grad(self.bias, db)
        return dx, dk

    def call(self, x, training=False):
        return self._forward(x, *self._kernel_and_groups())

    def backward(self, dy):
        return self.backward_logits(self._activation_backward(dy, self._cache[1]))

    def can_infer_normalized(self):
        return self._act[1] is None and self._act[0] != "softmax"  # linear: the normalisation comes next

    def infer_normalized(self, x, norm, activation):
        """``norm`` (a BatchNormalization in inference) and then ``activation`` (ops
        name, alpha) applied to this layer's output, for inference: the normalisation
        is per output channel affine, so it folds into the kernel and bias, and the
        convolution's epilogue applies the activation. No pass over the output."""
        kernel, groups = self._kernel_and_groups()
        scale, offset = norm.inference_affine()
        if self.bias is not None:
            offset = offset + self.bias.value * scale
        op, alpha = activation
        return ops.conv2d(x, kernel * scale.astype(np.float32), offset.astype(np.float32), self.strides,
                          self.padding, self.dilation_rate, groups, activation=op, alpha=alpha)

    def get_config(self):
        return {**super().get_config(), "kernel_size": list(self.kernel_size), "strides": list(self.strides),
                "padding": self.padding, "data_format": "channels_last", "dilation_rate": list(self.dilation_rate),
                "activation": self.activation or "linear", "use_bias": self.use_bias}


class Conv2D(_Conv):
    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None, dilation_rate=(1, 1),
                 groups=1, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None, **kwargs):
        if isinstance(filters, bool) or not isinstance(filters, (int, np.integer)) or filters <= 0:
            raise ValueError(f"Invalid value for argument `filters`. Expected a strictly positive value. "
                             f"Received filters={filters!r}.")
        super().__init__(kernel_size, strides, padding, dilation_rate, activation, use_bias, data_format, **kwargs)
        self.filters = int(filters)
        self.groups = positive_int(groups, "groups", self.name)
        if self.filters % self.groups:
            raise ValueError(f"Layer {self.name}: the number of filters must be evenly divisible by the number of "
                             f"groups. Received: groups={self.groups}, filters={self.filters}.")
        self.kernel_initializer = serialize_initializer(kernel_initializer)
        self.bias_initializer = serialize_initializer(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        _no_extras(self.name, activity_regularizer=activity_regularizer, kernel_constraint=kernel_constraint,
                   bias_constraint=bias_constraint)

    def build(self, input_shape):
        self._require_rank(input_shape, 4, "batch, height, width, channels")
        channels = input_shape[-1]
        if channels is None or channels % self.groups:
            raise ValueError(f"Layer {self.name}: the number of input channels must be evenly divisible by the number "
                             f"of groups. Received groups={self.groups}, input_shape={tuple(input_shape)}.")
        shape = self.kernel_size + (channels // self.groups, self.filters)
        self.kernel = self.add_weight("kernel", shape, self.kernel_initializer, self.kernel_regularizer)
        self.bias = (self.add_weight("bias", (self.filters,), self.bias_initializer, self.bias_regularizer)
                     if self.use_bias else None)
        self._input_spec = (None, None, None, channels)
        self.built = True

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + self._spatial_output(input_shape) + (self.filters,)

    def _kernel_and_groups(self):
        return self.kernel.value, self.groups

    def can_infer_pooled(self):
        return self._act[0] != "softmax"  # softmax runs after the convolution, not inside it

    def infer_pooled(self, x, pool):
        """``pool`` (a MaxPooling2D) applied to this layer's output, for inference:
        one image at a time, the full-size output never materialised."""
        _, op, alpha = self._act
        bias = self.bias.value if self.bias is not None else None
        return ops.conv2d_max_pool2d(x, self.kernel.value, bias, self.strides, self.padding, self.dilation_rate,
                                     self.groups, activation=op, alpha=alpha, pool_size=pool.pool_size,
                                     pool_strides=pool.strides, pool_padding=pool.padding)

    def call_pooled(self, x, pool):
        """``pool`` (a MaxPooling2D) applied to this layer's output in a pass that
        backward follows, where the pooling differentiates this layer's activation:
        one image at a time, the full-size output never materialised. Leaves this
        layer the cache ``backward_logits`` reads and ``pool`` the one it reads."""
        _, op, alpha = self._act
        bias = self.bias.value if self.bias is not None else None
        y, argmax = ops.conv2d_max_pool2d(x, self.kernel.value, bias, self.strides, self.padding,
                                          self.dilation_rate, self.groups, activation=op, alpha=alpha,
                                          pool_size=pool.pool_size, pool_strides=pool.strides,
                                          pool_padding=pool.padding, return_argmax=True)
        self._cache = (x, None, None)
        pool._cache = (argmax, self.compute_output_shape(x.shape), y)
        return y

    def backward_logits(self, dz):
        dx, dk = self._backward(dz, self.kernel.value, self.groups)
        self._store_grad(self.kernel, dk)
        return dx

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "groups": self.groups,
                "kernel_initializer": self.kernel_initializer, "bias_initializer": self.bias_initializer,
                "kernel_regularizer": serialize_regularizer(self.kernel_regularizer),
                "bias_regularizer": serialize_regularizer(self.bias_regularizer)}


class DepthwiseConv2D(_Conv):
    def __init__(self, kernel_size, strides=(1, 1), padding="valid", depth_multiplier=1, data_format=None,
                 dilation_rate=(1, 1), activation=None, use_bias=True, depthwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, depthwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(kernel_size, strides, padding, dilation_rate, activation, use_bias, data_format, **kwargs)
        self.depth_multiplier = positive_int(depth_multiplier, "depth_multiplier", self.name)
        self.depthwise_initializer = serialize_initializer(depthwise_initializer)
        self.bias_initializer = serialize_initializer(bias_initializer)
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        _no_extras(self.name, activity_regularizer=activity_regularizer, depthwise_constraint=depthwise_constraint,
                   bias_constraint=bias_constraint)

    def build(self, input_shape):
        self._require_rank(input_shape, 4, "batch, height, width, channels")
        channels = input_shape[-1]
        if channels is None:
            raise ValueError(f"Layer {self.name}: the channel axis of the input must be defined, got {tuple(input_shape)}")
        shape = self.kernel_size + (channels, self.depth_multiplier)
        self.kernel = self.add_weight("kernel", shape, self.depthwise_initializer, self.depthwise_regularizer)
        self.bias = (self.add_weight("bias", (channels * self.depth_multiplier,), self.bias_initializer,
                                     self.bias_regularizer) if self.use_bias else None)
        self._channels = channels
        self._input_spec = (None, None, None, channels)
        self.built = True

    def _grouped_kernel(self):
        kh, kw, c, m = self.kernel.value.shape
        return self.kernel.value.reshape(kh, kw, 1, c * m)

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + self._spatial_output(input_shape) + (input_shape[-1] * self.depth_multiplier,)

    def _kernel_and_groups(self):
        return self._grouped_kernel(), self._channels

    def backward_logits(self, dz):
        dx, dk = self._backward(dz, self._grouped_kernel(), self._channels)
        self._store_grad(self.kernel, dk.reshape(self.kernel.value.shape))
        return dx

    def get_config(self):
        return {**super().get_config(), "depth_multiplier": self.depth_multiplier,
                "depthwise_initializer": self.depthwise_initializer, "bias_initializer": self.bias_initializer,
                "depthwise_regularizer": serialize_regularizer(self.depthwise_regularizer),
                "bias_regularizer": serialize_regularizer(self.bias_regularizer)}


class ZeroPadding2D(Layer):
    """Pads rows and columns with zeros: padding int, (rows, cols) or ((top, bottom), (left, right))."""

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(**kwargs)
        _check_data_format(self.name, data_format)
        if isinstance(padding, int):
            pads = ((padding, padding), (padding, padding))
        elif len(padding) == 2 and all(isinstance(p, int) for p in padding):
            pads = ((padding[0], padding[0]), (padding[1], padding[1]))
        elif len(padding) == 2:
            pads = tuple(standardize_tuple(p, 2, "padding", allow_zero=True) for p in padding)
        else:
            raise ValueError(f"`padding` should be an int, a tuple of 2 ints or a tuple of 2 tuples of 2 ints. "
                             f"Received: padding={padding!r}")
        for p in pads:
            standardize_tuple(p, 2, "padding", allow_zero=True)
        self.padding = pads

    def build(self, input_shape):
        self._require_rank(input_shape, 4, "batch, height, width, channels")
        self.built = True

    def compute_output_shape(self, input_shape):
        (t, b), (l, r) = self.padding
        h, w = input_shape[1], input_shape[2]
        return (input_shape[0], None if h is None else h + t + b, None if w is None else w + l + r, input_shape[3])

    def call(self, x, training=False):
        (t, b), (l, r) = self.padding
        return np.pad(x, ((0, 0), (t, b), (l, r), (0, 0)))

    def backward(self, dy):
        (t, b), (l, r) = self.padding
        return np.ascontiguousarray(dy[:, t:dy.shape[1] - b, l:dy.shape[2] - r, :])

    def get_config(self):
        return {**super().get_config(), "padding": [list(p) for p in self.padding], "data_format": "channels_last"}
