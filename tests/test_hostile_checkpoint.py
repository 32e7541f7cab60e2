"""Careless or hostile checkpoint headers (issue 19): the JSON header and the tensors of
a real safetensors file are checked before anything is built from them; each failure is
one NeocogError line naming the file."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import save_file

from neocog.apps.classification.data import Preprocess
from neocog.apps.classification.head import ClassifierConfig
from neocog.apps.wavenet import model as wavenet
from neocog.core.backbones import BackboneConfig
from neocog.core.checkpoint import load_model, read_checkpoint, save_checkpoint
from neocog.core.errors import NeocogError
from neocog.core.heads import build_model

from .conftest import PYTHON

WAVENET = Path(wavenet.__file__).parent / "assets" / "fsdd_default.safetensors"  # the shipped one

Edit = Callable[[dict[str, Any], dict[str, torch.Tensor]], Any]


def crafted(tmp_path: Path, edit: Edit) -> Path:
    """A real classifier checkpoint whose header and tensors `edit` has changed in place
    (or replaced: whatever `edit` returns, if not None, is written as the header)."""
    model = build_model("classify", BackboneConfig(name="lenet", width=4), "classify",
                        ClassifierConfig(num_classes=10))
    path = tmp_path / "bad.safetensors"
    save_checkpoint(path, model, {"names": list("0123456789"), "preprocess": Preprocess().to_dict()})
    tensors, header = read_checkpoint(path)
    replaced = edit(header, tensors)
    header = header if replaced is None else replaced
    save_file(tensors, str(path), metadata={"neocog": json.dumps(header)})
    return path


def set_in(keys: str, value: Any) -> Edit:
    """An edit setting header[k1][k2]... = value, keys dotted: "model.backbone.width"."""
    def edit(header: dict[str, Any], tensors: dict[str, torch.Tensor]) -> None:
        *path, last = keys.split(".")
        for key in path:
            header = header[key]
        header[last] = value
    return edit


def drop(key: str, where: str = "header") -> Edit:
    """An edit removing `key` from the header, or from the tensors (where="tensors")."""
    def edit(header: dict[str, Any], tensors: dict[str, torch.Tensor]) -> None:
        (header if where == "header" else tensors).pop(key)
    return edit


def retype(name: str, dtype: torch.dtype) -> Edit:
    return lambda header, tensors: tensors.update({name: tensors[name].to(dtype)})


def reshape(name: str) -> Edit:
    return lambda header, tensors: tensors.update({name: torch.zeros(3, 1, 5, 5)})


CASES = {  # what is wrong -> (the edit, the message after "<file>: ")
    "header is a list": (lambda h, t: [h], "header is a JSON array, expected an object"),
    "no model spec": (drop("model"), "header.model is not an object with a 'task' string"),
    "too few names": (set_in("names", list("012345678")),
                      "header lists 9 class names, the head predicts 10 classes"),
    "names not strings": (set_in("names", list(range(10))),
                          "header.names is [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], expected a list of strings"),
    "size 0": (set_in("preprocess.size", 0), "header.preprocess.size is 0, expected an int in 1..4096"),
    "size huge": (set_in("preprocess.size", 100_000),
                  "header.preprocess.size is 100000, expected an int in 1..4096"),
    "std 0": (set_in("preprocess.std", 0.0),
              "header.preprocess.std is 0.0, expected a finite number > 0"),
    "std NaN": (set_in("preprocess.std", float("nan")),
                "header.preprocess.std is NaN, expected a finite number > 0"),
    "mean a string": (set_in("preprocess.mean", "0.13"),
                      'header.preprocess.mean is "0.13", expected a finite number'),
    "preprocess unknown key": (set_in("preprocess.gamma", 2.2),
                               "header.preprocess has an unknown key 'gamma'; known: size, "),
    "width a string": (set_in("model.backbone.width", "4"),
                       'header.model.backbone.width is "4", expected an int'),
    "classes a bool": (set_in("model.head.config.num_classes", True),
                       "header.model.head.config.num_classes is true, expected an int"),
    "width astronomical": (set_in("model.backbone.width", 10**12),
                           "header.model.backbone.width is 1000000000000, expected an int in 0..4096"),
    "unknown head": (set_in("model.head.name", "segment"), "unknown head 'segment'; known: "),
    "stride 0": (set_in("model.backbone.strides", [1, 0, 2, 2]),
                 "header.model.backbone.strides is [1, 0, 2, 2], expected a list of ints >= 1"),
    "channels differ": (set_in("preprocess.channels", 3),
                        "header.preprocess makes 3-channel images, the backbone reads 1-channel"),
    "imgsz 0": (set_in("imgsz", 0), "header.imgsz is 0, expected an int in 1..4096"),
    "val_fraction 1": (set_in("val_fraction", 1.0),
                       "header.val_fraction is 1.0, expected a number between 0 and 1"),
    "pooling unknown": (set_in("model.head.config.pooling", "median"),
                        "head pooling 'median': expected one of ['avg', 'max']"),
    "mel at 1 Hz": (set_in("mel", {"sample_rate": 1}),
                    "header.mel.sample_rate is 1, expected an int in 1000..384000"),
    "int tensor": (retype("head.fc.2.weight", torch.int32), "weights do not fit the model in its "
                   "header: 'head.fc.2.weight' is torch.int32 in the file, torch.float32 in the model"),
    "wrong shape": (reshape("backbone.stages.0.0.weight"),
                    "weights do not fit the model in its header: 'backbone.stages.0.0.weight' is "
                    "(3, 1, 5, 5) in the file, (4, 1, 5, 5) in the model"),
    "missing tensor": (drop("head.fc.2.bias", "tensors"),
                       "weights do not fit the model in its header: the file has no tensor "
                       "'head.fc.2.bias' (1 missing)"),
    "extra tensor": (lambda h, t: t.update({"spare": torch.zeros(1)}),
                     "weights do not fit the model in its header: the file's tensor 'spare' is "
                     "not in the model (1 such)"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_bad_header_or_tensor_is_one_line_naming_the_file(tmp_path, case):
    edit, message = CASES[case]
    path = crafted(tmp_path, edit)
    with pytest.raises(NeocogError) as err:
        load_model(path, "classify")
    assert str(err.value).startswith(f"{path}: {message}")
    assert "\n" not in str(err.value)


def test_a_crafted_huge_width_is_never_allocated(tmp_path):
    """A resnet of width 4096 (the most a header may say) has 12e9 parameters in its
    last stage (48 GB): built on the meta device it costs nothing, then fails to fit."""
    path = crafted(tmp_path, set_in("model.backbone", {"name": "resnet", "width": 4096}))
    with pytest.raises(NeocogError, match="bad.safetensors: weights do not fit the model"):
        load_model(path, "classify")  # 48 GB on a 24 GB machine: it would not come back


def test_a_crafted_huge_depth_stops_at_the_files_tensor_count(tmp_path):
    path = crafted(tmp_path, set_in("model.backbone", {"name": "resnet", "depth": 4096}))
    with pytest.raises(NeocogError, match="bad.safetensors: the model in its header has over"):
        load_model(path, "classify")


def test_a_constructor_that_fails_on_odd_numbers_is_one_line(tmp_path):
    path = crafted(tmp_path, set_in("model.head.config.dropout", 5.0))  # nn.Dropout refuses
    with pytest.raises(NeocogError, match="bad.safetensors: the model in its header cannot be built"):
        load_model(path, "classify")


def test_float16_weights_still_load(tmp_path):
    """The shipped models store float tensors as float16: another float type is no error."""
    def halve(header: dict[str, Any], tensors: dict[str, torch.Tensor]) -> None:
        tensors.update({k: v.half() for k, v in tensors.items() if v.is_floating_point()})

    model, _ = load_model(crafted(tmp_path, halve), "classify")
    assert next(model.parameters()).dtype == torch.float32


def test_the_cli_prints_one_line_and_exits_1_for_a_bad_checkpoint(tmp_path):
    path = crafted(tmp_path, retype("head.fc.2.weight", torch.int64))
    image = tmp_path / "digit.png"
    Image.fromarray(np.zeros((28, 28), np.uint8)).save(image)
    res = subprocess.run([PYTHON, "-m", "neocog.apps.cli", "classify", "infer", "--weights",
                          str(path), "--source", str(image)], capture_output=True, text=True)
    assert res.returncode == 1, res.stderr
    assert res.stderr.count("\n") == 1 and "Traceback" not in res.stderr
    assert res.stderr.startswith(f"error: {path}: weights do not fit the model in its header")


@pytest.mark.parametrize("edit,message", [
    (set_in("speakers", ["a", "b", "c", "d", "e"]), "header lists 5 speakers, the model has 4 speakers rows"),
    (set_in("model.config.layers_per_stack", 10**9),
     "header.model.config.layers_per_stack is 1000000000, expected an int in 0..4096"),
    (set_in("model.config.mel.window", "kaiser"),
     "header.model.config.mel.window is 'kaiser', expected one of hann, hamming"),
    (set_in("model.config.mel.hop_length", 0), "header.model.config.mel: n_fft, hop_length and n_mels"),
])
def test_a_bad_wavenet_header_is_one_line_naming_the_file(tmp_path, edit, message):
    """A whole registered model's spec ({task, model, config}) and its nested mel."""
    tensors, header = read_checkpoint(WAVENET)
    edit(header, tensors)
    path = tmp_path / "bad.safetensors"
    save_file(tensors, str(path), metadata={"neocog": json.dumps(header)})
    with pytest.raises(NeocogError) as err:
        load_model(path, "wavenet")
    assert str(err.value).startswith(f"{path}: {message}")
