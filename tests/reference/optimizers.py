"""Float64 NumPy implementations of the Keras 3 optimizer steps.

Each step updates the given float64 arrays in place, for one parameter;
formulas from keras/src/optimizers/{sgd,rmsprop,adam}.py and the decoupled
weight decay of keras/src/optimizers/base_optimizer.py.
"""

import numpy as np


def sgd_step(p, g, v, lr, momentum=0.0, nesterov=False):
    if momentum == 0:
        p -= g * lr
        return
    v[...] = v * momentum - g * lr
    if nesterov:
        p += v * momentum - g * lr
    else:
        p += v


def rmsprop_step(p, g, vel, lr, rho=0.9, epsilon=1e-7, momentum=0.0, mom=None, centered=False, avg=None):
    vel[...] = rho * vel + (1 - rho) * g * g
    if centered:
        avg[...] = rho * avg + (1 - rho) * g
        denom = vel - avg * avg + epsilon
    else:
        denom = vel + epsilon
    inc = lr * g / np.sqrt(denom)
    if momentum > 0:
        mom[...] = momentum * mom + inc
        p -= mom
    else:
        p -= inc


def adam_step(p, g, m, v, lr, step, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False, v_hat=None,
              weight_decay=0.0):
    if weight_decay:
        p -= p * weight_decay * lr
    alpha = lr * np.sqrt(1 - beta_2 ** step) / (1 - beta_1 ** step)
    m += (g - m) * (1 - beta_1)
    v += (g * g - v) * (1 - beta_2)
    if amsgrad:
        v_hat[...] = np.maximum(v_hat, v)
        v = v_hat
    p -= m * alpha / (np.sqrt(v) + epsilon)
