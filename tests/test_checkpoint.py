import json
import struct

import pytest
import torch

from neocog.apps.classification.head import ClassifierConfig
from neocog.core.backbones import BackboneConfig
from neocog.core.checkpoint import load_model, read_checkpoint, save_checkpoint
from neocog.core.errors import NeocogError
from neocog.core.heads import build_model


def tiny(num_classes: int = 10, width: int = 4):
    return build_model("classify", BackboneConfig(name="lenet", width=width), "classify",
                       ClassifierConfig(num_classes=num_classes))


def test_round_trip_rebuilds_the_model_from_the_file_alone(tmp_path):
    model = tiny().eval()
    path = tmp_path / "m.safetensors"
    save_checkpoint(path, model, {"names": list("0123456789")})
    loaded, header = load_model(path, "classify")
    x = torch.randn(2, 1, 28, 28)
    assert torch.equal(loaded(x), model(x))
    assert header["names"][3] == "3" and header["model"]["backbone"]["name"] == "lenet"
    assert header["version"]


def test_file_is_safetensors_with_a_json_header_not_a_pickle(tmp_path):
    path = tmp_path / "m.safetensors"
    save_checkpoint(path, tiny(), {})
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])  # safetensors: u64 header length, then JSON
    header = json.loads(raw[8: 8 + n])
    assert json.loads(header["__metadata__"]["neocog"])["model"]["task"] == "classify"
    assert not raw.startswith(b"\x80") and b"PK" != raw[:2]  # neither pickle nor zip


def test_corrupt_file_names_the_file(tmp_path):
    path = tmp_path / "bad.safetensors"
    path.write_bytes(b"this is not a checkpoint at all")
    with pytest.raises(NeocogError, match="bad.safetensors: not a readable safetensors"):
        read_checkpoint(path)


def test_truncated_file_names_the_file(tmp_path):
    path = tmp_path / "cut.safetensors"
    save_checkpoint(path, tiny(), {})
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(NeocogError, match="cut.safetensors"):
        load_model(path, "classify")


def test_checkpoint_of_another_task_is_refused(tmp_path):
    path = tmp_path / "m.safetensors"
    save_checkpoint(path, tiny(), {})
    with pytest.raises(NeocogError, match="a 'classify' checkpoint, expected a 'detect' one"):
        load_model(path, "detect")


def test_mismatched_shapes_give_one_line_naming_the_file(tmp_path):
    path = tmp_path / "m.safetensors"
    save_checkpoint(path, tiny(), {})
    tensors, header = read_checkpoint(path)
    header["model"]["head"]["config"]["num_classes"] = 7  # header no longer fits the weights
    from safetensors.torch import save_file
    save_file(tensors, str(path), metadata={"neocog": json.dumps(header)})
    with pytest.raises(NeocogError) as err:
        load_model(path, "classify")
    assert "m.safetensors: weights do not fit" in str(err.value)
    assert "\n" not in str(err.value)


def test_missing_file(tmp_path):
    with pytest.raises(NeocogError, match="nope.safetensors: no such checkpoint"):
        load_model(tmp_path / "nope.safetensors", "classify")


def test_write_is_atomic_a_failed_save_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "m.safetensors"
    save_checkpoint(path, tiny(), {"names": ["old"]})
    import neocog.core.checkpoint as ck

    def broken(tensors, filename, metadata=None):
        with open(filename, "wb") as f:
            f.write(b"half")
        raise OSError("disk full")

    monkeypatch.setattr(ck, "save_file", broken)
    with pytest.raises(OSError):
        save_checkpoint(path, tiny(), {"names": ["new"]})
    assert read_checkpoint(path)[1]["names"] == ["old"]
    assert [p.name for p in tmp_path.iterdir()] == ["m.safetensors"]  # no temp left behind
