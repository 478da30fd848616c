"""Float64 references for the activations family (forward, then backward from x)."""

import numpy as np


def relu(x):
    return np.maximum(x, 0.0)


def relu_backward(dy, x):
    return np.where(x > 0, dy, 0.0)


def leaky_relu(x, negative_slope=0.2):
    return np.where(x > 0, x, negative_slope * x)


def leaky_relu_backward(dy, x, negative_slope=0.2):
    return np.where(x > 0, dy, negative_slope * dy)


def elu(x, alpha=1.0):
    return np.where(x >= 0, x, alpha * np.expm1(np.minimum(x, 0.0)))


def elu_backward(dy, x, alpha=1.0):
    return np.where(x >= 0, dy, dy * alpha * np.exp(np.minimum(x, 0.0)))


def sigmoid(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def sigmoid_backward(dy, x):
    s = sigmoid(x)
    return dy * s * (1.0 - s)


def tanh(x):
    return np.tanh(x)


def tanh_backward(dy, x):
    return dy * (1.0 - np.tanh(x) ** 2)


def softmax(x, axis=-1):
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def softmax_backward(dy, x, axis=-1):
    y = softmax(x, axis)
    return y * (dy - np.sum(dy * y, axis=axis, keepdims=True))


FORWARD = {"linear": lambda x, a: x, "relu": lambda x, a: relu(x), "leaky_relu": leaky_relu, "elu": elu,
           "sigmoid": lambda x, a: sigmoid(x), "tanh": lambda x, a: tanh(x)}
BACKWARD = {"linear": lambda dy, x, a: dy, "relu": lambda dy, x, a: relu_backward(dy, x),
            "leaky_relu": leaky_relu_backward, "elu": elu_backward,
            "sigmoid": lambda dy, x, a: sigmoid_backward(dy, x), "tanh": lambda dy, x, a: tanh_backward(dy, x)}
