"""Max and average pooling, local and global (NHWC)."""

from pycnn import ops
from pycnn.layers.convolutional import _check_data_format, conv_output_length
from pycnn.layers.layer import Layer
from pycnn.utils.argument_validation import standardize_padding, standardize_tuple


class _Pooling2D(Layer):
    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(**kwargs)
        _check_data_format(self.name, data_format)
        self.pool_size = standardize_tuple(pool_size, 2, "pool_size")
        self.strides = standardize_tuple(strides if strides is not None else self.pool_size, 2, "strides")
        self.padding = standardize_padding(padding)

    def build(self, input_shape):
        self._require_rank(input_shape, 4, "batch, height, width, channels")
        self.built = True

    def compute_output_shape(self, input_shape):
        out = []
        for i in range(2):
            n = conv_output_length(input_shape[1 + i], self.pool_size[i], self.strides[i], self.padding, 1)
            if n is not None and n <= 0:
                raise ValueError(f"Layer {self.name}: computed output size would be negative ({n}). Received inputs "
                                 f"shape={tuple(input_shape)}, pool_size={self.pool_size}, padding={self.padding!r}")
            out.append(n)
        return (input_shape[0], out[0], out[1], input_shape[3])

    def get_config(self):
        return {**super().get_config(), "pool_size": list(self.pool_size), "strides": list(self.strides),
                "padding": self.padding, "data_format": "channels_last"}


class MaxPooling2D(_Pooling2D):
    def call(self, x, training=False):
        y, argmax = ops.max_pool2d(x, self.pool_size, self.strides, self.padding)
        self._cache = (argmax, x.shape, y)
        return y

    def infer(self, x):
        """The output when no backward pass follows (predict): no argmax is made."""
        return ops.max_pool2d(x, self.pool_size, self.strides, self.padding, return_argmax=False)

    def backward(self, dy):
        return self.backward_through_activation(dy, (None, None))

    def backward_through_activation(self, dy, activation):
        """The gradient of the input of the activation (ops name, alpha) that produced this layer's input.

        The pooled output is that activation's output at each argmax, so its
        derivative is taken on the pooled tensor while scattering; the
        producer then skips its own activation backward (see models.graph).
        """
        argmax, shape, y = self._cache
        op, alpha = activation
        return ops.max_pool2d_backward(dy, argmax, shape, self.pool_size, self.strides, self.padding,
                                       activation=op, alpha=alpha, y=y)


class AveragePooling2D(_Pooling2D):
    def call(self, x, training=False):
        self._cache = x.shape
        return ops.avg_pool2d(x, self.pool_size, self.strides, self.padding)

    def backward(self, dy):
        return ops.avg_pool2d_backward(dy, self._cache, self.pool_size, self.strides, self.padding)


class _GlobalPooling2D(Layer):
    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        _check_data_format(self.name, data_format)
        self.keepdims = bool(keepdims)

    def build(self, input_shape):
        self._require_rank(input_shape, 4, "batch, height, width, channels")
        self.built = True

    def compute_output_shape(self, input_shape):
        if self.keepdims:
            return (input_shape[0], 1, 1, input_shape[3])
        return (input_shape[0], input_shape[3])

    def _shape_out(self, y):
        return y.reshape(y.shape[0], 1, 1, y.shape[1]) if self.keepdims else y

    def _shape_in(self, dy):
        return dy.reshape(dy.shape[0], dy.shape[-1]) if self.keepdims else dy

    def get_config(self):
        return {**super().get_config(), "data_format": "channels_last", "keepdims": self.keepdims}


class GlobalAveragePooling2D(_GlobalPooling2D):
    def call(self, x, training=False):
        self._cache = x.shape
        return self._shape_out(ops.global_avg_pool2d(x))

    def backward(self, dy):
        return ops.global_avg_pool2d_backward(self._shape_in(dy), self._cache)


class GlobalMaxPooling2D(_GlobalPooling2D):
    def call(self, x, training=False):
        y, argmax = ops.global_max_pool2d(x)
        self._cache = (argmax, x.shape)
        return self._shape_out(y)

    def backward(self, dy):
        argmax, shape = self._cache
        return ops.global_max_pool2d_backward(self._shape_in(dy), argmax, shape)


MaxPool2D = MaxPooling2D
AvgPool2D = AveragePooling2D
GlobalAvgPool2D = GlobalAveragePooling2D
GlobalMaxPool2D = GlobalMaxPooling2D
