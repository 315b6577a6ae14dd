"""Registry of named model architectures with their default training hyper-parameters.

Every builder returns an *uncompiled* Keras model whose input is ``(28, 28, 1)`` float in [0, 1]
and whose output is softmax probabilities ``(None, 10)``. The registry holds the classic MNIST
tutorials' models (done properly) plus two of digitpad's own: ``fast`` (passes 99.0 % test accuracy
in one short CPU epoch) and ``best`` (the highest accuracy; the bundled default model).

Keras is imported lazily inside the builders.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from digitpad.core.errors import ArchitectureError
from digitpad.core.tfsetup import keras

INPUT_SHAPE = (28, 28, 1)
NUM_CLASSES = 10


@dataclass(frozen=True)
class ArchSpec:
    """A named architecture and the hyper-parameters it trains best with by default."""

    name: str
    description: str
    builder: Callable[..., Any]
    optimizer: str
    learning_rate: float
    batch_size: int
    epochs: int
    schedule: str
    augment: bool | str  # False, True (MNIST shift/rotate/zoom) or "drawn" (pad-like strokes)
    label_smoothing: float = 0.0
    optimizer_kwargs: dict = field(default_factory=dict)
    origin: str = ""
    dropout: tuple[float, ...] = ()  # the default rates of its Dropout layers; () = no dropout
    batchnorm: bool = False  # has batch-normalisation layers


# --------------------------------------------------------------------------------------------
# builders
# --------------------------------------------------------------------------------------------


def _input(k):
    return k.Input(shape=INPUT_SHAPE, name="image")


def _rate(dropout: float | None, default: float) -> float:
    """The rate of one Dropout layer: ``default``, or ``dropout`` for every layer when given."""
    if dropout is None:
        return default
    if isinstance(dropout, bool) or not isinstance(dropout, int | float) or not 0 <= dropout < 1:
        raise ArchitectureError(f"the dropout rate must be a number in [0, 1), not {dropout!r}.")
    return float(dropout)


def _baseline(*, batchnorm: bool = False, name: str = "baseline"):
    k = keras()
    L = k.layers
    inp = _input(k)
    x = L.Conv2D(32, 3, activation="relu", kernel_initializer="he_uniform", name="conv1")(inp)
    if batchnorm:
        x = L.BatchNormalization(name="bn1")(x)
    x = L.MaxPooling2D(2, name="pool1")(x)
    x = L.Flatten(name="flatten")(x)
    x = L.Dense(100, activation="relu", kernel_initializer="he_uniform", name="dense1")(x)
    if batchnorm:
        x = L.BatchNormalization(name="bn2")(x)
    out = L.Dense(NUM_CLASSES, activation="softmax", name="probs")(x)
    return k.Model(inp, out, name=name)


def _baseline_bn():
    return _baseline(batchnorm=True, name="baseline_bn")


def _vgg():
    k = keras()
    L = k.layers
    he = "he_uniform"
    inp = _input(k)
    x = L.Conv2D(32, 3, activation="relu", kernel_initializer=he, name="conv1")(inp)
    x = L.MaxPooling2D(2, name="pool1")(x)
    x = L.Conv2D(64, 3, activation="relu", kernel_initializer=he, name="conv2")(x)
    x = L.Conv2D(64, 3, activation="relu", kernel_initializer=he, name="conv3")(x)
    x = L.MaxPooling2D(2, name="pool2")(x)
    x = L.Flatten(name="flatten")(x)
    x = L.Dense(100, activation="relu", kernel_initializer=he, name="dense1")(x)
    out = L.Dense(NUM_CLASSES, activation="softmax", name="probs")(x)
    return k.Model(inp, out, name="vgg")


def _mnist_cnn(*, dropout: float | None = None):
    k = keras()
    L = k.layers
    inp = _input(k)
    x = L.Conv2D(32, 3, activation="relu", name="conv1")(inp)
    x = L.Conv2D(64, 3, activation="relu", name="conv2")(x)
    x = L.MaxPooling2D(2, name="pool1")(x)
    x = L.Dropout(_rate(dropout, 0.25), name="drop1")(x)
    x = L.Flatten(name="flatten")(x)
    x = L.Dense(128, activation="relu", name="dense1")(x)
    x = L.Dropout(_rate(dropout, 0.5), name="drop2")(x)
    out = L.Dense(NUM_CLASSES, activation="softmax", name="probs")(x)
    return k.Model(inp, out, name="mnist_cnn")


# (filters per conv layer, pool after this layer?) for the notebook's 3/5/7-layer convnets
_CONV_PLANS: dict[int, list[tuple[int, bool]]] = {
    3: [(32, True), (64, True), (64, False)],
    5: [(32, False), (32, True), (64, False), (64, True), (128, False)],
    7: [(32, False), (32, True), (64, False), (64, True), (128, False), (128, False), (128, True)],
}


def _convn(depth: int, *, dropout: bool | float = True, batchnorm: bool = False):
    # dropout: True = the default rates, False = no Dropout layers, a number = that rate everywhere
    rate = None if isinstance(dropout, bool) else dropout
    k = keras()
    L = k.layers
    inp = _input(k)
    x = inp
    for i, (filters, pool) in enumerate(_CONV_PLANS[depth], start=1):
        x = L.Conv2D(filters, 3, padding="same", use_bias=not batchnorm, name=f"conv{i}")(x)
        if batchnorm:
            x = L.BatchNormalization(name=f"bn{i}")(x)
        x = L.Activation("relu", name=f"relu{i}")(x)
        if pool:
            x = L.MaxPooling2D(2, name=f"pool{i}")(x)
            if dropout:
                x = L.Dropout(_rate(rate, 0.25), name=f"drop{i}")(x)
    x = L.Flatten(name="flatten")(x)
    x = L.Dense(128, use_bias=not batchnorm, name="dense1")(x)
    if batchnorm:
        x = L.BatchNormalization(name="bn_dense")(x)
    x = L.Activation("relu", name="relu_dense")(x)
    if dropout:
        x = L.Dropout(_rate(rate, 0.5), name="drop_dense")(x)
    out = L.Dense(NUM_CLASSES, activation="softmax", name="probs")(x)
    suffix = ("_bn" if batchnorm else "") + ("" if dropout else "_nodrop")
    return k.Model(inp, out, name=f"conv{depth}{suffix}")


def _conv3(*, dropout: bool | float = True, batchnorm: bool = False):
    return _convn(3, dropout=dropout, batchnorm=batchnorm)


def _conv5(*, dropout: bool | float = True, batchnorm: bool = False):
    return _convn(5, dropout=dropout, batchnorm=batchnorm)


def _conv7(*, dropout: bool | float = True, batchnorm: bool = False):
    return _convn(7, dropout=dropout, batchnorm=batchnorm)


def _flat(*, dropout: float | None = None):
    # The TensorFlow "deep MNIST" tutorial fed flat 784-vectors and reshaped them inside the
    # model. digitpad keeps one input convention (28, 28, 1); Flatten + Reshape document the
    # tutorial's flat layout inside the graph.
    k = keras()
    L = k.layers
    inp = _input(k)
    x = L.Flatten(name="flat784")(inp)
    x = L.Reshape((28, 28, 1), name="reshape")(x)
    x = L.Conv2D(32, 5, padding="same", activation="relu", name="conv1")(x)
    x = L.MaxPooling2D(2, name="pool1")(x)
    x = L.Conv2D(64, 5, padding="same", activation="relu", name="conv2")(x)
    x = L.MaxPooling2D(2, name="pool2")(x)
    x = L.Flatten(name="flatten")(x)
    x = L.Dense(1024, activation="relu", name="dense1")(x)
    x = L.Dropout(_rate(dropout, 0.4), name="drop1")(x)
    out = L.Dense(NUM_CLASSES, activation="softmax", name="probs")(x)
    return k.Model(inp, out, name="flat")


def _fast():
    k = keras()
    L = k.layers
    inp = _input(k)
    x = L.Conv2D(16, 5, strides=2, padding="same", activation="relu", name="conv1")(inp)  # 14x14
    x = L.Conv2D(32, 3, padding="same", activation="relu", name="conv2")(x)
    x = L.MaxPooling2D(2, name="pool1")(x)  # 7x7x32
    x = L.Flatten(name="flatten")(x)
    x = L.Dense(128, activation="relu", name="dense1")(x)
    out = L.Dense(NUM_CLASSES, activation="softmax", name="probs")(x)
    return k.Model(inp, out, name="fast")


def _best(*, dropout: float | None = None):
    # Light enough for live drawing (about 5.1 M multiply-adds per image), strong with
    # augmentation (done by the training pipeline), batch-norm and dropout.
    k = keras()
    L = k.layers
    inp = _input(k)

    def conv(x, filters, size, name, strides=1):
        x = L.Conv2D(filters, size, strides=strides, padding="same", use_bias=False, name=name)(x)
        x = L.BatchNormalization(name=f"{name}_bn")(x)
        return L.Activation("relu", name=f"{name}_relu")(x)

    x = conv(inp, 32, 5, "conv1", strides=2)  # 14x14x32
    x = conv(x, 32, 3, "conv2")
    x = L.MaxPooling2D(2, name="pool1")(x)  # 7x7x32
    x = conv(x, 64, 3, "conv3")  # 7x7x64
    x = conv(x, 64, 3, "conv4")
    x = L.Flatten(name="flatten")(x)
    x = L.Dropout(_rate(dropout, 0.25), name="drop1")(x)
    x = L.Dense(128, use_bias=False, name="dense1")(x)
    x = L.BatchNormalization(name="dense1_bn")(x)
    x = L.Activation("relu", name="dense1_relu")(x)
    x = L.Dropout(_rate(dropout, 0.4), name="drop2")(x)
    out = L.Dense(NUM_CLASSES, activation="softmax", name="probs")(x)
    return k.Model(inp, out, name="best")


# --------------------------------------------------------------------------------------------
# registry
# --------------------------------------------------------------------------------------------

_TUTORIAL = (
    "machinelearningmastery 'How to Develop a CNN for MNIST Handwritten Digit Classification'"
)
_NOTEBOOK = (
    "the Kaggle-style notebook comparing 3-, 5- and 7-layer convnets with dropout / batch-norm"
)

ARCHS: dict[str, ArchSpec] = {
    spec.name: spec
    for spec in [
        ArchSpec(
            "baseline",
            "Tutorial baseline: Conv32 3x3 -> MaxPool -> Dense100 (He init), SGD momentum.",
            _baseline, "sgd", 0.01, 32, 10, "constant", False,
            optimizer_kwargs={"momentum": 0.9}, origin=_TUTORIAL,
        ),
        ArchSpec(
            "baseline_bn",
            "Tutorial baseline with batch normalisation after the conv and dense layers.",
            _baseline_bn, "sgd", 0.01, 32, 10, "constant", False,
            optimizer_kwargs={"momentum": 0.9}, origin=_TUTORIAL + " (batch-norm variant)",
            batchnorm=True,
        ),
        ArchSpec(
            "vgg",
            "Tutorial's deeper VGG-like variant: Conv32, pool, Conv64, Conv64, pool, Dense100.",
            _vgg, "sgd", 0.01, 32, 10, "constant", False,
            optimizer_kwargs={"momentum": 0.9}, origin=_TUTORIAL + " (increased depth)",
        ),
        ArchSpec(
            "mnist_cnn",
            "Classic Keras example: Conv32, Conv64, pool, Dropout .25, Dense128, Dropout .5.",
            _mnist_cnn, "adadelta", 1.0, 128, 12, "constant", False,
            origin="keras-team/keras examples/mnist_cnn.py (Adadelta lr 1.0)",
            dropout=(0.25, 0.5),
        ),
        ArchSpec(
            "conv3",
            "3-layer convnet (32-64-64) with dropout; options dropout=, batchnorm=.",
            _conv3, "adam", 1e-3, 64, 10, "constant", False, origin=_NOTEBOOK,
            dropout=(0.25, 0.25, 0.5),
        ),
        ArchSpec(
            "conv5",
            "5-layer convnet (32-32-64-64-128) with dropout; options dropout=, batchnorm=.",
            _conv5, "adam", 1e-3, 64, 10, "constant", False, origin=_NOTEBOOK,
            dropout=(0.25, 0.25, 0.5),
        ),
        ArchSpec(
            "conv7",
            "7-layer convnet (32-32-64-64-128x3) with dropout; options dropout=, batchnorm=.",
            _conv7, "adam", 1e-3, 64, 10, "constant", False, origin=_NOTEBOOK,
            dropout=(0.25, 0.25, 0.25, 0.5),
        ),
        ArchSpec(
            "flat",
            "Flat-784 tutorial model: Reshape to 28x28, 5x5 Conv32/Conv64, Dense1024, dropout.",
            _flat, "adam", 1e-3, 100, 5, "constant", False,
            origin="TensorFlow 'Deep MNIST for experts' (flat 784 input reshaped, 5x5 kernels)",
            dropout=(0.4,),
        ),
        # batch 96 (not 128): 99.02-99.21 % over seeds 0-5 with the default 10 % validation
        ArchSpec(
            "fast",
            "digitpad's fast model: passes 99 % test accuracy in one short CPU epoch.",
            _fast, "adam", 8e-3, 96, 1, "onecycle", False, label_smoothing=0.1,
            optimizer_kwargs={"beta_1": 0.7, "beta_2": 0.9},
            origin="digitpad: strided 5x5 conv, Adam one-cycle, label smoothing",
        ),
        ArchSpec(
            "best",
            "digitpad's most accurate model: BN + dropout, drawn-input augmentation, one-cycle.",
            _best, "adam", 4e-3, 128, 20, "onecycle", "drawn", label_smoothing=0.1,
            optimizer_kwargs={"beta_1": 0.9, "beta_2": 0.99},
            origin="digitpad: light BN convnet trained with pad-like stroke augmentation",
            dropout=(0.25, 0.4), batchnorm=True,
        ),
    ]
}


def get_arch(name: str) -> ArchSpec:
    """Return the :class:`ArchSpec` called ``name``.

    Raises
    ------
    ArchitectureError
        ``name`` is not in the registry (the message lists the valid names).
    """
    try:
        return ARCHS[str(name).strip().lower()]
    except KeyError:
        raise ArchitectureError(
            f"unknown architecture {name!r}; choose one of: {', '.join(ARCHS)}."
        ) from None


def check_classifier(model: Any) -> None:
    """Check that ``model`` maps a batch of images to 10 class probabilities ``(None, 10)``.

    Raises
    ------
    ArchitectureError
        The output shape is not ``(None, 10)``. A 4-D output ending in 10 is the tutorial pitfall
        of a Dense layer applied to a feature map without Flatten, and the message says so.
    """
    shape = tuple(model.output_shape) if not isinstance(model.output_shape, list) else None
    if shape is None:
        raise ArchitectureError(
            "the model has several outputs; a digit classifier needs exactly one."
        )
    if len(shape) == 2 and shape[-1] == NUM_CLASSES:
        return
    if len(shape) > 2 and shape[-1] == NUM_CLASSES:
        raise ArchitectureError(
            f"the model's output has shape {shape} instead of (None, 10): a Dense layer was "
            "applied to a feature map without Flatten (add a Flatten layer before the Dense "
            "layers)."
        )
    raise ArchitectureError(
        f"the model's output has shape {shape} but a digit classifier must output (None, 10)."
    )


def build_model(name: str, **opts: Any) -> Any:
    """Build a fresh, uncompiled model of architecture ``name``.

    Parameters
    ----------
    name
        A registry name (see :data:`ARCHS`).
    **opts
        Builder options, e.g. ``dropout=False`` or ``batchnorm=True`` for ``conv3/5/7``;
        ``dropout=RATE`` sets every Dropout layer's rate of the architectures that have dropout
        (``ArchSpec.dropout`` lists their default rates).

    Returns
    -------
    keras.Model
        Input ``(None, 28, 28, 1)``, output ``(None, 10)`` softmax.

    Raises
    ------
    ArchitectureError
        Unknown name, an option the architecture does not take, or a bad output shape.
    """
    spec = get_arch(name)
    try:
        model = spec.builder(**opts)
    except TypeError as exc:
        if opts:
            raise ArchitectureError(
                f"architecture {spec.name!r} does not take the options {sorted(opts)} ({exc})."
            ) from None
        raise
    check_classifier(model)
    return model


def param_count(name: str, **opts: Any) -> int:
    """Number of parameters of architecture ``name`` (built, never trained)."""
    return int(build_model(name, **opts).count_params())


def mac_count(model: Any) -> int:
    """Approximate multiply-accumulate operations per image of a built model (conv + dense)."""
    total = 0
    for layer in model.layers:
        cls = type(layer).__name__
        if cls == "Conv2D":
            out = layer.output.shape
            kh, kw = layer.kernel_size
            total += int(out[1] * out[2] * out[3] * kh * kw * layer.input.shape[-1])
        elif cls == "Dense":
            total += int(layer.input.shape[-1] * layer.units)
    return total
