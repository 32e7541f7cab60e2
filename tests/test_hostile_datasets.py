"""Careless or hostile dataset files (issue 19): a path in a COCO json or a JSONL
manifest may not climb out of its folder, a box holds finite numbers, and a top-level
list or a record of the wrong JSON type is a one-line error naming the file. The files
are real ones: COCO json and YOLO txt written here, the images and WAVs with Pillow and
soundfile."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
from PIL import Image

from neocog.apps.wavenet.data import list_items
from neocog.core.errors import NeocogError
from neocog.datasets import coco as localization_coco
from neocog.datasets import detection
from neocog.datasets.speech import read_manifest

# Both COCO readers: the localization one (datasets/coco.py) and the detection one.
READERS: dict[str, Callable[[Path, Path], Any]] = {
    "coco": lambda ann, images: localization_coco.read_coco(ann, images),
    "detection": lambda ann, images: detection.read_coco(images, ann),
}


def coco_files(tmp_path: Path) -> tuple[Path, Path, dict[str, Any]]:
    """A real two-image COCO dataset: images/ with two PNGs, and its instances json."""
    images = tmp_path / "images"
    images.mkdir()
    for name in ("a.png", "b.png"):
        Image.fromarray(np.zeros((40, 60, 3), np.uint8)).save(images / name)
    data = {
        "images": [{"id": 1, "file_name": "a.png", "width": 60, "height": 40},
                   {"id": 2, "file_name": "b.png", "width": 60, "height": 40}],
        "annotations": [{"id": 10, "image_id": 1, "category_id": 1, "bbox": [5, 5, 20, 10],
                         "area": 200, "iscrowd": 0}],
        "categories": [{"id": 1, "name": "digit"}],
    }
    return tmp_path / "instances.json", images, data


def write(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data))
    return path


def test_the_clean_coco_files_read(tmp_path):
    ann, images, data = coco_files(tmp_path)
    write(ann, data)
    for read in READERS.values():
        read(ann, images)


COCO_CASES = {  # what is wrong -> (the edit, the message after "<json>: ")
    "file_name climbs out": (lambda d: d["images"][0].update(file_name="../../etc/passwd"),
                             "image 1: path '../../etc/passwd' climbs out of"),
    "file_name absolute": (lambda d: d["images"][1].update(file_name="/etc/passwd"),
                           "image 2: absolute path '/etc/passwd', expected a name inside"),
    "file_name a number": (lambda d: d["images"][0].update(file_name=7),
                           "image 1: path 7 is not a file name"),
    "bbox NaN": (lambda d: d["annotations"][0]["bbox"].__setitem__(2, float("nan")),
                 "annotation 10 has bbox [5, 5, nan, 10], expected [x, y, w, h] as four finite"),
    "bbox infinite": (lambda d: d["annotations"][0]["bbox"].__setitem__(0, float("-inf")),
                      "annotation 10 has bbox [-inf, 5, 20, 10], expected"),
    "bbox strings": (lambda d: d["annotations"][0].update(bbox=["5", "5", "20", "10"]),
                     "annotation 10 has bbox ['5', '5', '20', '10'], expected"),
    "annotations an object": (lambda d: d.update(annotations={"10": d["annotations"][0]}),
                              "'annotations' is a JSON object, expected a list"),
    "images a string": (lambda d: d.update(images="a.png"), "'images' is a JSON string, expected a list"),
    "categories null": (lambda d: d.update(categories=None), "'categories' is a JSON null, expected"),
    "an annotation a list": (lambda d: d["annotations"].append([1, 2]),
                             "annotations[1] is a JSON array, expected an object"),
    "an image id a list": (lambda d: d["images"][0].update(id=[1]),
                           "image [1] has id [1], expected an int or a string"),
    "a width a string": (lambda d: d["images"][0].update(width="60"),
                         "image 1 is '60' x 40 pixels, expected two numbers > 0"),
    "a category name a number": (lambda d: d["categories"][0].update(name=1),
                                 "category #0 has name 1, expected a string"),
}


@pytest.mark.parametrize("reader", list(READERS))
@pytest.mark.parametrize("case", list(COCO_CASES))
def test_a_bad_coco_file_is_one_line_naming_the_json_and_the_entry(tmp_path, reader, case):
    edit, message = COCO_CASES[case]
    ann, images, data = coco_files(tmp_path)
    edit(data)
    write(ann, data)
    with pytest.raises(NeocogError) as err:
        READERS[reader](ann, images)
    assert str(err.value).startswith(f"{ann}: {message}")
    assert "\n" not in str(err.value)


def test_a_json_that_is_a_list_is_one_line_for_both_readers(tmp_path):
    ann, images, data = coco_files(tmp_path)
    write(ann, [data])
    for read in READERS.values():
        with pytest.raises(NeocogError, match="instances.json: expected a JSON object with images"):
            read(ann, images)


def test_a_file_name_in_a_sub_folder_is_fine(tmp_path):
    ann, images, data = coco_files(tmp_path)
    (images / "sub").mkdir()
    (images / "a.png").rename(images / "sub" / "a.png")
    data["images"][0]["file_name"] = "sub/../sub/a.png"  # climbs, but stays inside
    write(ann, data)
    assert detection.read_coco(images, ann).images[0] == images / "sub/../sub/a.png"


def yolo_tree(tmp_path: Path, label: str) -> Path:
    """A real YOLO layout: images/x.png, labels/x.txt holding `label`, names.txt."""
    root = tmp_path / "yolo"
    (root / "images").mkdir(parents=True)
    (root / "labels").mkdir()
    Image.fromarray(np.zeros((40, 60, 3), np.uint8)).save(root / "images" / "x.png")
    (root / "labels" / "x.txt").write_text(label + "\n")
    (root / "names.txt").write_text("digit\n")
    return root


@pytest.mark.parametrize("number", ["nan", "inf", "-inf", "NaN"])
def test_a_yolo_box_that_is_not_finite_is_named(tmp_path, number):
    root = yolo_tree(tmp_path, f"0 0.5 0.5 {number} 0.1")
    with pytest.raises(NeocogError, match=r"x.txt: line 1 has a number that is not finite"):
        detection.read_yolo(root)


def test_a_finite_yolo_box_reads(tmp_path):
    records = detection.read_yolo(yolo_tree(tmp_path, "0 0.5 0.5 0.5 0.5"))
    assert records.boxes[0].tolist() == [[15.0, 10.0, 45.0, 30.0]]


# ---------------------------------------------------------------- JSONL manifests

# Both manifest readers: speech's (audio + text) and the WaveNet's (audio only).
MANIFESTS: dict[str, tuple[Callable[[Path], list[Any]], dict[str, str]]] = {
    "speech": (read_manifest, {"text": "one"}),
    "wavenet": (list_items, {}),
}


def manifest(tmp_path: Path, audio: Any, fields: dict[str, str]) -> Path:
    (tmp_path / "data").mkdir()
    sf.write(tmp_path / "data" / "x.wav", np.zeros(800, np.float32), 8000)
    path = tmp_path / "data" / "m.jsonl"
    path.write_text(json.dumps({"audio": "x.wav", **fields}) + "\n"
                    + json.dumps({"audio": audio, **fields}) + "\n")
    return path


@pytest.mark.parametrize("reader", list(MANIFESTS))
@pytest.mark.parametrize("audio,message", [
    ("../../etc/passwd", "line 2: path '../../etc/passwd' climbs out of"),
    ("sub/../../x.wav", "line 2: path 'sub/../../x.wav' climbs out of"),
    (7, "line 2 is not a JSON object with string audio"),
])
def test_a_manifest_path_may_not_climb_out_of_its_folder(tmp_path, reader, audio, message):
    read, fields = MANIFESTS[reader]
    path = manifest(tmp_path, audio, fields)
    with pytest.raises(NeocogError) as err:
        read(path)
    assert str(err.value).startswith(f"{path}: {message}")
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("reader", list(MANIFESTS))
def test_a_manifest_may_list_absolute_paths_and_sub_folders(tmp_path, reader):
    read, fields = MANIFESTS[reader]
    elsewhere = tmp_path / "store" / "y.wav"
    elsewhere.parent.mkdir()
    sf.write(elsewhere, np.zeros(800, np.float32), 8000)
    path = manifest(tmp_path, str(elsewhere), fields)
    items = read(path)
    found = [getattr(item, "audio", None) or item.path for item in items]
    assert found == [path.parent / "x.wav", elsewhere]


def test_a_speech_manifest_text_must_be_a_string(tmp_path):
    path = tmp_path / "m.jsonl"
    path.write_text(json.dumps({"audio": "x.wav", "text": 7}) + "\n")
    with pytest.raises(NeocogError, match="m.jsonl: line 1 is not a JSON object with string audio, text"):
        read_manifest(path)


@pytest.mark.parametrize("reader", list(MANIFESTS))
def test_a_manifest_line_that_is_a_list_is_one_line(tmp_path, reader):
    read, _ = MANIFESTS[reader]
    path = tmp_path / "m.jsonl"
    path.write_text('["x.wav", "one"]\n')
    with pytest.raises(NeocogError, match="m.jsonl: line 1 is not a JSON object"):
        read(path)
