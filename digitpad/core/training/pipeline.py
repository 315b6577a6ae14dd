"""The training input pipeline: a shuffled, batched ``tf.data`` pipeline with optional augmentation.

Pixels arrive already scaled (:func:`digitpad.core.data.to_model_input` is the one place that
scales them); this module only batches, augments and one-hot encodes.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from digitpad.core.archs import NUM_CLASSES
from digitpad.core.data.pixels import UNIT, model_pixels, to_model_input
from digitpad.core.errors import TrainingError
from digitpad.core.tfsetup import tf
from digitpad.core.training.config import augment_mode
from digitpad.core.training.drawn_augment import augment_drawn

# augmentation ranges (training pipeline only)
AUG_MAX_ROTATION_DEG = 10.0
AUG_MAX_ZOOM = 0.10
AUG_MAX_SHIFT_PX = 2.5


def augment_batch(x: Any, T: Any) -> Any:
    """Random rotation, zoom and shift of a float batch (B, 28, 28, 1) as one affine warp.

    ``T`` is the ``tensorflow`` module (passed in so the traced function calls no Python helpers).
    """
    b = T.shape(x)[0]
    angle = T.random.uniform([b], -1.0, 1.0) * (AUG_MAX_ROTATION_DEG * math.pi / 180.0)
    scale = T.random.uniform([b], 1.0 - AUG_MAX_ZOOM, 1.0 + AUG_MAX_ZOOM)
    tx = T.random.uniform([b], -AUG_MAX_SHIFT_PX, AUG_MAX_SHIFT_PX)
    ty = T.random.uniform([b], -AUG_MAX_SHIFT_PX, AUG_MAX_SHIFT_PX)
    c = 13.5
    cos = T.cos(angle) / scale
    sin = T.sin(angle) / scale
    zeros = T.zeros_like(angle)
    # output pixel (x, y) samples the input at R(angle)/scale * ((x, y) - c) + c - shift
    transforms = T.stack(
        [cos, -sin, c - cos * c + sin * c - tx, sin, cos, c - sin * c - cos * c - ty, zeros, zeros],
        axis=1,
    )
    return T.raw_ops.ImageProjectiveTransformV3(
        images=x, transforms=transforms, output_shape=[28, 28], fill_value=0.0,
        interpolation="BILINEAR", fill_mode="CONSTANT",
    )


def _aligned_empty(shape: tuple[int, ...], dtype: Any, align: int = 64) -> np.ndarray:
    """``np.empty`` whose data start on an ``align``-byte boundary (TensorFlow's alignment)."""
    dtype = np.dtype(dtype)
    nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    raw = np.empty(nbytes + align, dtype=np.uint8)
    offset = (-raw.ctypes.data) % align
    return raw[offset:offset + nbytes].view(dtype).reshape(shape)


def tensor_without_gil_stall(a: np.ndarray, T: Any) -> Any:
    """A CPU tensor holding ``a`` without holding the GIL for the whole copy.

    ``tf.constant`` copies a large array inside TensorFlow with the GIL held: 70-200 ms for the
    full MNIST training set, during which a GUI thread cannot run (measured with
    ``bench/bench_gui_training.py --trace``). Here numpy makes the copy (it releases the GIL) into
    a 64-byte-aligned buffer that TensorFlow then adopts without copying (DLPack). Should that
    fail, the tensor is built from chunks of a few MB, so the GIL is released between them.
    """
    a = np.asarray(a)
    try:
        buf = _aligned_empty(a.shape, a.dtype)
        np.copyto(buf, a)
        return T.experimental.dlpack.from_dlpack(buf.__dlpack__())
    except Exception:  # no DLPack support for this dtype/version: chunked copies
        chunk = max(1, (8 << 20) // max(1, a[:1].nbytes))
        parts = [T.constant(a[i:i + chunk]) for i in range(0, len(a), chunk)]
        return T.concat(parts, axis=0) if len(parts) > 1 else parts[0]


def make_train_dataset(
    x: np.ndarray, y: np.ndarray, *, batch_size: int, seed: int, augment: bool | str,
    one_hot: bool,
) -> Any:
    """A ``tf.data.Dataset`` of shuffled ``(images, labels)`` batches, reshuffled every epoch.

    Parameters
    ----------
    x, y
        float32 images ``(N, 28, 28, 1)`` in [0, 1] -- or uint8 pixels, scaled per batch by
        :data:`~digitpad.core.data.pixels.UNIT` -- and int64 labels ``(N,)``; copied once into
        CPU tensors (the caller may free its arrays afterwards).
    batch_size
        Images per batch (the last batch may be smaller).
    seed
        Shuffle seed.
    augment
        ``True``/``"mnist"``: :func:`augment_batch` on every batch; ``"drawn"``:
        :func:`~digitpad.core.training.drawn_augment.augment_drawn`; ``False``/``"none"``: none.
    one_hot
        Labels as one-hot float vectors (for a loss with label smoothing) instead of integers.
    """
    T = tf()
    mode = augment_mode(augment)
    eight_bit = np.asarray(x).dtype == np.uint8
    with T.device("/CPU:0"):
        X = tensor_without_gil_stall(x, T)
        Y = T.constant(y)

    @T.autograph.experimental.do_not_convert  # plain tensor code: skip autograph's rewrite
    def gather(idx):
        xb = T.gather(X, idx)
        if eight_bit:
            xb = T.cast(xb, T.float32) * UNIT
        yb = T.gather(Y, idx)
        if mode == "mnist":
            xb = augment_batch(xb, T)
        elif mode == "drawn":
            xb = augment_drawn(xb, T)
        if one_hot:
            yb = T.one_hot(yb, NUM_CLASSES)
        return xb, yb

    n = len(x)
    ds = T.data.Dataset.range(n).shuffle(n, seed=int(seed), reshuffle_each_iteration=True)
    ds = ds.batch(int(batch_size)).map(gather, num_parallel_calls=T.data.AUTOTUNE)
    return ds.prefetch(T.data.AUTOTUNE)


def training_arrays(ds: Any, val_split: float, seed: int
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Check a data set's training part and split it: ``(x_train, y_train, x_val, y_val)``.

    ``x_train`` keeps uint8 pixels 8-bit (:func:`make_train_dataset` scales each batch, so the
    split and the tensor copy move a quarter of the bytes); ``x_val`` is the float32 model input
    (``None`` when nothing is held out); labels are int64.

    Raises
    ------
    TrainingError
        No images, a count mismatch, or labels outside 0..9.
    DataError
        Images that are not 28x28, or pixels that are neither uint8 nor floats in [0, 1].
    """
    x = model_pixels(ds.x_train)
    y = np.asarray(ds.y_train).astype(np.int64).ravel()
    if len(x) == 0:
        raise TrainingError("the training data holds no images.")
    if len(x) != len(y):
        raise TrainingError(f"the training data has {len(x)} images but {len(y)} labels.")
    if y.min() < 0 or y.max() > 9:
        raise TrainingError("training labels must be whole numbers 0 to 9.")
    x_train, y_train, x_val, y_val = split_data(x, y, val_split, seed)
    return x_train, y_train, (None if x_val is None else to_model_input(x_val)), y_val


def split_data(x: np.ndarray, y: np.ndarray, val_split: float, seed: int
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Hold out ``val_split`` of the images (at least one, never all) as a validation set.

    Returns ``(x_train, y_train, x_val, y_val)``; the validation pair is ``None`` when nothing
    is held out. The split is a seeded permutation; both parts keep the original order.
    """
    n_val = int(round(len(x) * val_split))
    if val_split > 0 and n_val == 0 and len(x) >= 2:
        n_val = 1
    if n_val >= len(x):
        n_val = 0
    if not n_val:  # no copy: the pipeline shuffles anyway
        return x, y, None, None
    perm = np.random.default_rng(seed).permutation(len(x))
    val_idx, train_idx = np.sort(perm[:n_val]), np.sort(perm[n_val:])
    return x[train_idx], y[train_idx], x[val_idx], y[val_idx]
