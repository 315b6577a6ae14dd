"""digitpad's own Keras layer, used when adapting a model's output (see :mod:`.adapt`).

``SumNormalization`` turns independent sigmoid scores into probabilities by dividing by their sum
(a softmax on top would flatten them). It is registered as ``digitpad>SumNormalization`` so an
adapted model saved by digitpad loads again; :mod:`.safety` allows exactly this one object from
outside Keras - a config can only *name* it, the code is digitpad's.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from digitpad.core.tfsetup import keras

PACKAGE = "digitpad"
SUM_NORMALIZATION = "SumNormalization"
#: ``registered_name`` -> Python module of digitpad's own layers a model config may name.
OWN_LAYERS = {f"{PACKAGE}>{SUM_NORMALIZATION}": __name__}


@lru_cache(maxsize=1)
def sum_normalization() -> Any:
    """The ``SumNormalization`` layer class (defined and registered with Keras on first use)."""
    k = keras()

    @k.saving.register_keras_serializable(package=PACKAGE, name=SUM_NORMALIZATION)
    class SumNormalization(k.layers.Layer):
        """Scores ``s >= 0`` along the last axis divided by their sum (all zero stays zero)."""

        def call(self, inputs: Any) -> Any:
            scores = k.ops.maximum(k.ops.cast(inputs, "float32"), 0.0)
            total = k.ops.sum(scores, axis=-1, keepdims=True)
            return scores / k.ops.maximum(total, 1e-12)

        def compute_output_shape(self, input_shape: Any) -> Any:
            return input_shape

    SumNormalization.__module__ = __name__
    return SumNormalization


__all__ = ["OWN_LAYERS", "sum_normalization"]
