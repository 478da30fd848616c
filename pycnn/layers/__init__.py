"""pycnn.layers — Keras 3 layer names, arguments and defaults."""

from pycnn.layers.activation import LeakyReLU, ReLU, Softmax
from pycnn.layers.convolutional import Conv2D, DepthwiseConv2D, ZeroPadding2D
from pycnn.layers.core import Activation, Dense, Dropout, Flatten, Reshape
from pycnn.layers.input_layer import Input, InputLayer
from pycnn.layers.layer import Layer, Variable
from pycnn.layers.merging import Add, Concatenate
from pycnn.layers.normalization import BatchNormalization
from pycnn.layers.pooling import (AveragePooling2D, AvgPool2D, GlobalAveragePooling2D, GlobalAvgPool2D,
                                  GlobalMaxPool2D, GlobalMaxPooling2D, MaxPool2D, MaxPooling2D)

Convolution2D = Conv2D

_LAYER_CLASSES = {cls.__name__: cls for cls in (
    Activation, Add, AveragePooling2D, BatchNormalization, Concatenate, Conv2D, Dense, DepthwiseConv2D, Dropout,
    Flatten, GlobalAveragePooling2D, GlobalMaxPooling2D, InputLayer, LeakyReLU, MaxPooling2D, ReLU, Reshape,
    Softmax, ZeroPadding2D)}


def get_layer_class(class_name):
    """The layer class registered under ``class_name`` (what saved configs name); never evaluates code."""
    try:
        return _LAYER_CLASSES[class_name]
    except KeyError:
        raise ValueError(f"Unknown layer class {class_name!r}. Known layers: {sorted(_LAYER_CLASSES)}") from None


__all__ = sorted(_LAYER_CLASSES) + ["AvgPool2D", "Convolution2D", "GlobalAvgPool2D", "GlobalMaxPool2D", "Input",
                                    "Layer", "MaxPool2D", "Variable", "get_layer_class"]
