import subprocess

import pytest

from neocog.core.backbones import BackboneConfig, backbone_names, build_backbone
from neocog.core.shapes import conv_out, volume_table

from .conftest import PYTHON


def test_conv_out_is_the_chapter_formula():
    assert conv_out(28, 5, 1, 0) == 24  # (28 - 5 + 0)/1 + 1
    assert conv_out(24, 2, 2, 0) == 12
    assert conv_out(32, 3, 2, 1) == 16
    assert conv_out(100, 2, 1, 0, dilation=8) == 92


@pytest.mark.parametrize("name", backbone_names())
@pytest.mark.parametrize("shape", [(1, 28, 28), (3, 64, 80), (1, 40, 101)])
def test_formula_agrees_with_real_shapes_for_every_backbone(name, shape):
    net = build_backbone(BackboneConfig(name=name, in_channels=shape[0], width=8))
    rows = volume_table(net, shape)
    assert rows, "no conv layers recorded"
    for row in rows:
        assert row.out_shape == row.real_shape, row


def test_inspect_lenet_prints_the_seed_volumes():
    out = subprocess.run([PYTHON, "-m", "neocog.apps.cli", "inspect", "--backbone", "lenet",
                          "--input", "1x28x28"], capture_output=True, text=True, check=True).stdout
    conv1, pool1 = [line for line in out.splitlines() if line.startswith("stages.0.")][:2]
    assert "Conv2d 5x5" in conv1 and "24 x 24 x 8" in conv1 and " 208 " in conv1
    assert "MaxPool2d" in pool1 and "12 x 12 x 8" in pool1
    assert out.count("Conv2d") == 3 and out.count("MaxPool2d") == 3


def test_inspect_rejects_a_bad_input_shape():
    res = subprocess.run([PYTHON, "-m", "neocog.apps.cli", "inspect", "--input", "28x28"],
                         capture_output=True, text=True)
    assert res.returncode == 1
    assert "expected C x H x W" in res.stderr


def test_inspect_a_checkpoint_shows_backbone_and_head_layers():
    from neocog.apps.classification import DEFAULT_WEIGHTS

    out = subprocess.run([PYTHON, "-m", "neocog.apps.cli", "inspect", "--weights",
                          str(DEFAULT_WEIGHTS), "--input", "1x28x28"],
                         capture_output=True, text=True, check=True).stdout
    assert "(classify)" in out.splitlines()[0]
    assert "head.fc.2" in out and "Linear 64->10" in out


def test_inspect_a_checkpoint_with_the_wrong_input_channels_says_which():
    from neocog.apps.localization import DEFAULT_WEIGHTS

    res = subprocess.run([PYTHON, "-m", "neocog.apps.cli", "inspect", "--weights",
                          str(DEFAULT_WEIGHTS), "--input", "1x128x128"], capture_output=True, text=True)
    assert res.returncode == 1 and len(res.stderr.strip().splitlines()) == 1
    assert "reads 3-channel inputs, e.g. --input 3x128x128" in res.stderr
