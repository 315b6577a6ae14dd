"""Architecture registry: every model builds as a 28x28 -> 10 classifier; pitfalls are caught."""

from __future__ import annotations

import pytest

from digitpad.core import archs
from digitpad.core.errors import ArchitectureError

# Parameter counts worked out from the layer definitions (kernel*cin*cout + biases, ...).
EXPECTED_PARAMS = {
    # conv 3*3*32+32=320; flatten 13*13*32=5408 -> dense 5408*100+100; 100*10+10
    "baseline": 320 + 540_900 + 1_010,
    # + BN(32) 4*32 and BN(100) 4*100
    "baseline_bn": 320 + 540_900 + 1_010 + 128 + 400,
    # conv32 320; conv64 18_496; conv64 36_928; flatten 4*4*64=1024 -> 102_500; 1_010
    "vgg": 320 + 18_496 + 36_928 + 102_500 + 1_010,
    # conv32 320; conv64 18_496; flatten 12*12*64=9216 -> 128: 1_179_776; 1_290
    "mnist_cnn": 320 + 18_496 + 1_179_776 + 1_290,
    # conv16 5x5 s2: 416; conv32 3x3: 4_640; 7*7*32=1568 -> 128: 200_832; 1_290
    "fast": 416 + 4_640 + 200_832 + 1_290,
    # conv32 5x5: 832; conv64 5x5: 51_264; 7*7*64=3136 -> 1024: 3_212_288; 10_250
    "flat": 832 + 51_264 + 3_212_288 + 10_250,
}


@pytest.mark.parametrize("name", list(archs.ARCHS))
def test_every_arch_builds_a_classifier(name):
    spec = archs.get_arch(name)
    model = archs.build_model(name)
    assert tuple(model.input_shape) == (None, 28, 28, 1)
    assert tuple(model.output_shape) == (None, 10)
    assert model.layers[-1].get_config().get("activation") == "softmax"
    assert archs.param_count(name) == model.count_params() > 1000
    assert spec.description and "\n" not in spec.description
    assert spec.optimizer in ("sgd", "adam", "adadelta", "rmsprop", "adamw", "nadam")
    assert spec.schedule in ("constant", "onecycle", "cosine", "step")
    assert spec.learning_rate > 0 and spec.batch_size >= 1 and spec.epochs >= 1
    assert not model.compiled  # builders return uncompiled models


@pytest.mark.parametrize("name,expected", sorted(EXPECTED_PARAMS.items()))
def test_param_counts_match_the_layer_arithmetic(name, expected):
    assert archs.param_count(name) == expected


def test_tutorial_defaults():
    base = archs.get_arch("baseline")
    assert (base.optimizer, base.learning_rate, base.batch_size, base.epochs) == ("sgd", 0.01, 32, 10)
    assert base.optimizer_kwargs == {"momentum": 0.9}
    cnn = archs.get_arch("mnist_cnn")
    assert (cnn.optimizer, cnn.learning_rate, cnn.batch_size, cnn.epochs) == ("adadelta", 1.0, 128, 12)
    fast = archs.get_arch("fast")
    assert fast.epochs == 1 and fast.label_smoothing == 0.1 and fast.schedule == "onecycle"
    assert archs.get_arch("best").augment == "drawn"  # pad-stroke augmentation (issue 9)


def test_baseline_uses_he_init_and_vgg_is_deeper():
    model = archs.build_model("baseline")
    conv = model.get_layer("conv1")
    assert type(conv.kernel_initializer).__name__ == "HeUniform"
    vgg = archs.build_model("vgg")
    convs = [layer for layer in vgg.layers if type(layer).__name__ == "Conv2D"]
    assert [c.filters for c in convs] == [32, 64, 64]


def test_baseline_bn_has_batchnorm():
    names = [type(layer).__name__ for layer in archs.build_model("baseline_bn").layers]
    assert names.count("BatchNormalization") == 2


@pytest.mark.parametrize("depth", [3, 5, 7])
def test_convn_options(depth):
    name = f"conv{depth}"
    plain = archs.build_model(name)
    kinds = [type(layer).__name__ for layer in plain.layers]
    assert kinds.count("Conv2D") == depth
    assert "Dropout" in kinds and "BatchNormalization" not in kinds
    bn = archs.build_model(name, dropout=False, batchnorm=True)
    kinds = [type(layer).__name__ for layer in bn.layers]
    assert "Dropout" not in kinds and kinds.count("BatchNormalization") == depth + 1
    assert tuple(bn.output_shape) == (None, 10)


def test_flat_model_reshapes_a_784_vector():
    model = archs.build_model("flat")
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds[1:3] == ["Flatten", "Reshape"]
    assert tuple(model.get_layer("flat784").output.shape) == (None, 784)
    assert model.get_layer("conv1").kernel_size == (5, 5)


def test_dense_without_flatten_is_caught_with_a_clear_message():
    from digitpad.core.tfsetup import keras

    k = keras()
    inp = k.Input((28, 28, 1))
    x = k.layers.Conv2D(32, 3, activation="relu")(inp)
    out = k.layers.Dense(10, activation="softmax")(x)  # the tutorial pitfall: no Flatten
    model = k.Model(inp, out)
    assert tuple(model.output_shape) == (None, 26, 26, 10)
    with pytest.raises(ArchitectureError, match="without Flatten"):
        archs.check_classifier(model)


def test_wrong_class_count_is_refused():
    from digitpad.core.tfsetup import keras

    k = keras()
    inp = k.Input((28, 28, 1))
    out = k.layers.Dense(5, activation="softmax")(k.layers.Flatten()(inp))
    with pytest.raises(ArchitectureError, match=r"\(None, 10\)"):
        archs.check_classifier(k.Model(inp, out))


def test_builder_producing_bad_output_is_refused_by_build_model(monkeypatch):
    from dataclasses import replace

    from digitpad.core.tfsetup import keras

    def broken():
        k = keras()
        inp = k.Input((28, 28, 1))
        return k.Model(inp, k.layers.Dense(10)(inp))

    monkeypatch.setitem(archs.ARCHS, "broken", replace(archs.ARCHS["fast"], name="broken", builder=broken))
    with pytest.raises(ArchitectureError, match="Flatten"):
        archs.build_model("broken")


def test_unknown_name_lists_the_valid_names():
    with pytest.raises(ArchitectureError) as info:
        archs.get_arch("resnet9000")
    message = str(info.value)
    for name in archs.ARCHS:
        assert name in message
    with pytest.raises(ArchitectureError):
        archs.build_model("nope")


def test_unknown_option_is_an_architecture_error():
    with pytest.raises(ArchitectureError, match="does not take"):
        archs.build_model("fast", batchnorm=True)


def test_names_are_case_insensitive():
    assert archs.get_arch(" FAST ").name == "fast"


def test_best_is_light_enough_for_live_drawing():
    model = archs.build_model("best")
    assert model.count_params() < 600_000
    assert archs.mac_count(model) < 6_000_000
    assert archs.mac_count(archs.build_model("fast")) < archs.mac_count(model)
