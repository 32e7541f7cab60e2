"""COCO instances reading with validation, and the on-the-fly digit image generator."""

import json

import numpy as np
import pytest
import torch

from neocog.apps.localization.data import CocoLocateSource
from neocog.core.errors import NeocogError
from neocog.datasets.coco import read_coco
from neocog.datasets.digit_scenes import (
    INK_THRESHOLD,
    DigitLocateDataset,
    SceneStyle,
    digit_alpha,
    paste_digit,
)

from .conftest import SHARED

LOCATE_VAL = SHARED / "benchmarks" / "digit_locate_val"
COCO_MINI = SHARED / "coco_mini" / "annotations" / "instances_val2017.json"


@pytest.fixture
def locate_json():
    path = LOCATE_VAL / "annotations.json"
    if not path.is_file():
        pytest.skip("../shared/data/benchmarks/digit_locate_val is not here")
    return json.loads(path.read_text())


def test_reads_the_real_benchmark_file(locate_json):
    coco = read_coco(LOCATE_VAL / "annotations.json")
    assert len(coco.images) == 500 and coco.names == [str(d) for d in range(10)]
    first, ann = coco.images[0], locate_json["annotations"][0]
    x, y, w, h = ann["bbox"]
    assert first.path == LOCATE_VAL / "images" / "00000.jpg" and first.path.is_file()
    assert first.boxes.tolist() == [[x, y, x + w, y + h]]  # xywh -> xyxy
    assert first.labels.tolist() == [ann["category_id"] - 1]  # ids 1-10 -> classes 0-9


def write_broken(tmp_path, data, edit):
    edit(data)
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize(("edit", "message"), [
    (lambda d: d["annotations"][3].pop("bbox"), "annotation 4 has no 'bbox'"),
    (lambda d: d["annotations"][4].update(bbox=[10, 10, -3, 20]),
     "annotation 5 has a negative width"),
    (lambda d: d["annotations"][5].update(bbox=[100, 100, 40, 20]),
     "annotation 6 box [100, 100, 40, 20] lies outside its image 00005.jpg (128x128)"),
    (lambda d: d["annotations"][6].update(category_id=42),
     "annotation 7 has unknown category id 42"),
    (lambda d: d["annotations"][7].update(image_id=9999), "annotation 8 refers to unknown image"),
    (lambda d: d.pop("categories"), "missing top-level key 'categories'"),
])
def test_a_bad_annotation_is_named_with_its_file(tmp_path, locate_json, edit, message):
    path = write_broken(tmp_path, locate_json, edit)
    with pytest.raises(NeocogError) as err:
        read_coco(path)
    assert str(err.value).startswith(f"{path}: ") and message in str(err.value)


def test_not_json_is_a_clear_error(tmp_path):
    path = tmp_path / "a.json"
    path.write_text("{nope")
    with pytest.raises(NeocogError, match="a.json: not a readable JSON file"):
        read_coco(path)


def test_primary_largest_picks_the_biggest_box_of_a_real_coco_image():
    if not COCO_MINI.is_file():
        pytest.skip("../shared/data/coco_mini is not here")
    coco = read_coco(COCO_MINI, COCO_MINI.parents[1] / "val2017")
    record = next(r for r in coco.images if len(r.boxes) >= 3)
    index = {r.path: i for i, r in enumerate(CocoLocateSource(coco.images, "largest").records)}
    source = CocoLocateSource(coco.images, "largest")
    image, label, box = source[index[record.path]]
    k = int(np.argmax(record.areas))
    assert image.shape == (record.height, record.width, 3)
    assert label == record.labels[k] and np.array_equal(box, record.boxes[k])
    first = CocoLocateSource(coco.images, "first")[index[record.path]]
    assert np.array_equal(first[2], record.boxes[0])


def test_pasted_digit_box_is_the_tight_box_of_its_ink(mnist_arrays):
    digits, _ = mnist_arrays
    alpha = digit_alpha(digits[0], height=40, angle=12.0)
    assert alpha.shape[0] == 40 and alpha.min() >= 0 and alpha.max() <= 1
    canvas = np.zeros((128, 128, 3), np.float32)
    x1, y1, x2, y2 = paste_digit(canvas, alpha, 30, 50, np.array([255.0, 255, 255])).astype(int)
    ink = canvas[:, :, 0] >= INK_THRESHOLD * 255
    rows, cols = np.nonzero(ink)
    assert (x1, y1, x2, y2) == (cols.min(), rows.min(), cols.max() + 1, rows.max() + 1)
    assert 30 <= x1 and 50 <= y1 and y2 - y1 >= 36  # ink fills (nearly) the asked height


def test_generated_images_match_the_benchmark_format(mnist_arrays):
    digits, labels = mnist_arrays
    data = DigitLocateDataset(digits[:100], labels[:100], 40, SceneStyle(), seed=3, fixed=True)
    for i in range(40):
        image, label, box = data[i]
        assert image.shape == (128, 128, 3) and image.dtype == np.uint8 and 0 <= label <= 9
        assert 0 <= box[0] < box[2] <= 128 and 0 <= box[1] < box[3] <= 128
        assert 8 <= box[3] - box[1] <= 80
    assert np.array_equal(data[5][0], data[5][0])  # fixed: the same image every time


def test_training_images_change_with_the_epoch_seed(mnist_arrays):
    digits, labels = mnist_arrays
    data = DigitLocateDataset(digits[:100], labels[:100], 10, seed=3)
    torch.manual_seed(1)
    a = data[0][0]
    assert np.array_equal(a, data[0][0])
    torch.manual_seed(2)
    assert not np.array_equal(a, data[0][0])
