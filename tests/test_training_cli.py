"""`digitpad train` settings: the augmentation modes on the command line and in the summary."""

from __future__ import annotations

import argparse

import pytest

from digitpad.cli import train as train_cli
from digitpad.core.training.config import AUGMENT_MODES


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    train_cli.add_parser(parser.add_subparsers())
    return parser.parse_args(["train", *argv])


@pytest.mark.parametrize("mode", AUGMENT_MODES)
def test_augment_offers_every_mode_and_the_summary_names_it(mode):
    args = parse("--arch", "fast", "--augment", mode.upper())
    cfg = train_cli.train_config(args).resolved()
    assert f"augmentation {mode}," in train_cli.describe_config(cfg)


def test_augment_defaults_to_the_architecture_and_no_augment_means_none():
    best = train_cli.train_config(parse("--arch", "best")).resolved()
    fast = train_cli.train_config(parse("--arch", "fast")).resolved()
    assert "augmentation drawn," in train_cli.describe_config(best)
    assert "augmentation none," in train_cli.describe_config(fast)
    off = train_cli.train_config(parse("--arch", "best", "--no-augment")).resolved()
    assert off.augment is False and "augmentation none," in train_cli.describe_config(off)


def test_an_unknown_augment_mode_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exc:
        parse("--augment", "sideways")
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "sideways" in err and all(m in err for m in AUGMENT_MODES)
