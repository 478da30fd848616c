"""pycnn.models — Sequential and functional models, saving and loading."""

from pycnn.models.model import Model
from pycnn.models.saving import load_model, model_from_config
from pycnn.models.sequential import Sequential


def clone_model(model):
    """A new model with the same architecture and freshly initialised weights."""
    return model_from_config(model.get_config())


__all__ = ["Model", "Sequential", "clone_model", "load_model", "model_from_config"]
