"""The Train tab's data choice adds the personal drawings; the augmentation combo."""

from __future__ import annotations

import numpy as np
import pytest
from gui_train_support import finish, make_tab, wait_idle

from digitpad.core.personal import DrawingStore
from digitpad.core.strokes import draw_digit
from digitpad.core.training.config import AUGMENT_MODES
from digitpad.gui.settings import app_settings


def save_drawings(root, styles=("1_flag", "7_crossed", "4_open", "9_straight")):
    store = DrawingStore(root)
    rng = np.random.default_rng(11)
    for style in styles:
        d = draw_digit(style, "clean", rng)
        store.save(d.label, d.canvas)
    return store


@pytest.mark.slow
def test_mnist_plus_my_drawings_trains_on_both(qtbot):
    store = save_drawings(DrawingStore().root)  # the personal data set of this (isolated) user
    tab = make_tab(qtbot)
    try:
        choice = tab.form.data_choice
        assert choice.store.root == store.root
        choice.set_adds_personal(True)
        assert "(4)" in choice.personal_check.text()
        assert tab.form.data_sources() == [None, str(store.root)]
        tab.start_training()
        wait_idle(qtbot, tab)
        assert tab.errors == []
        session = tab.session.session
        ds = session.dataset
        assert len(ds.x_train) == 60_000 + 4  # all of MNIST, then the drawings
        assert ds.y_train[-4:].tolist() == sorted([1, 7, 4, 9])  # the store lists by digit
        assert str(store.root) in ds.source and "MNIST" in ds.source
        assert session.result.status.value == "completed"
        assert session.config.data == f"mnist + {store.root}"
        assert session.records[-1]["config"]["data"] == f"mnist + {store.root}"
    finally:
        finish(qtbot, tab)


def test_empty_personal_set_gives_a_clear_message(qtbot):
    tab = make_tab(qtbot)
    try:
        tab.form.data_choice.set_adds_personal(True)
        assert "(0)" in tab.form.data_choice.personal_check.text()
        tab.start_training()
        assert not tab.is_training()
        ((title, text),) = tab.errors
        assert title == "Cannot start training"
        assert "no labelled drawings yet" in text and "\n" not in text
        tab.form.data_choice.set_adds_personal(False)
        assert tab.form.build_config().data is None
    finally:
        finish(qtbot, tab)


def test_adding_drawings_persists_and_keeps_the_main_source(qtbot, tmp_path):
    tab = make_tab(qtbot)
    tab.set_data_source(str(tmp_path / "mine.npz"))
    tab.form.data_choice.set_adds_personal(True)
    finish(qtbot, tab)
    again = make_tab(qtbot, configure=False)
    try:
        choice = again.form.data_choice
        assert choice.adds_personal() and again.data_source() == str(tmp_path / "mine.npz")
        assert again.form.data_sources() == [str(tmp_path / "mine.npz"), str(choice.store.root)]
    finally:
        finish(qtbot, again)


def test_augment_combo_maps_to_config_and_follows_the_arch(qtbot):
    from digitpad.core.archs import ARCHS

    tab = make_tab(qtbot, configure=False)
    try:
        form = tab.form
        combo = form.augment_combo
        assert [combo.itemData(i) for i in range(combo.count())] == list(AUGMENT_MODES)
        for mode, resolved in (("none", False), ("mnist", True), ("drawn", "drawn")):
            combo.set_mode(mode)
            config = form.build_config()
            assert config.augment == mode and config.resolved().augment == resolved
        form.arch_combo.setCurrentIndex(form.arch_combo.findData("best"))
        assert ARCHS["best"].augment == "drawn" and combo.mode() == "drawn"
        form.arch_combo.setCurrentIndex(form.arch_combo.findData("baseline"))
        assert combo.mode() == {False: "none", True: "mnist"}.get(ARCHS["baseline"].augment,
                                                                  ARCHS["baseline"].augment)
        assert not combo.set_mode("sideways") and combo.mode() in AUGMENT_MODES
    finally:
        finish(qtbot, tab)


@pytest.mark.parametrize(("stored", "expected"), [("drawn", "drawn"), ("none", "none"),
                                                  (True, "mnist"), (False, "none")])
def test_augment_setting_persists_and_old_bool_loads(qtbot, stored, expected):
    first = make_tab(qtbot)
    first.form.augment_combo.set_mode("drawn" if expected != "drawn" else "none")
    finish(qtbot, first)  # saves the form: train/epochs etc. exist now
    s = app_settings()
    s.setValue("train/augment", stored)  # an old settings file held a bool here
    s.sync()
    again = make_tab(qtbot, configure=False)
    try:
        assert again.form.augment_combo.mode() == expected
        again.form.save()
        assert app_settings().value("train/augment", "", type=str) == expected
    finally:
        finish(qtbot, again)
