"""Detection data: COCO json and YOLO txt readers on the real files, their validation,
the digit-scene generator, letterbox round trips and COCOeval on ground truth."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from torchvision.ops import box_iou

from neocog.apps.detection.data import Augment, DetectionDataset
from neocog.apps.detection.head import Detections
from neocog.apps.detection.metrics import coco_eval, coco_results
from neocog.core.boxes import boxes_from_letterbox, boxes_to_letterbox, letterbox
from neocog.core.errors import NeocogError
from neocog.datasets.detection import read_coco, read_detection, read_yolo
from neocog.datasets.scenes import SceneConfig, make_scene

from .conftest import SHARED

COCO_MINI, COCO128 = SHARED / "coco_mini", SHARED / "coco128"


def need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} is not here")
    return path


def test_letterbox_maps_boxes_back_exactly() -> None:
    image = np.zeros((240, 427, 3), np.uint8)
    boxed, lb = letterbox(image, 320)
    assert boxed.shape == (320, 320, 3)
    boxes = torch.tensor([[0.0, 0.0, 427.0, 240.0], [10.5, 20.25, 100.0, 200.0]])
    back = boxes_from_letterbox(boxes_to_letterbox(boxes, lb), lb)
    assert torch.allclose(back, boxes, atol=1e-4)
    inside = boxes_to_letterbox(boxes, lb)[0]  # the whole image lands between the pads
    assert inside[0] == lb.pad_x and inside[1] == lb.pad_y


def test_coco_reader_keeps_the_files_ids() -> None:
    ann = need(COCO_MINI / "annotations" / "instances_val2017.json")
    data = json.loads(ann.read_text())
    records = read_coco(COCO_MINI / "val2017", ann)
    assert len(records) == len(data["images"]) == 79
    assert sorted(records.image_ids) == sorted(i["id"] for i in data["images"])
    assert records.category_ids == sorted(c["id"] for c in data["categories"])
    plain = sum(1 for a in data["annotations"] if not a.get("iscrowd"))
    assert sum(len(b) for b in records.boxes) == plain
    assert all(p.is_file() for p in records.images)


def test_official_coco_layout_is_found_by_split() -> None:
    need(COCO_MINI)
    assert len(read_detection(COCO_MINI, "train")) == 80
    assert len(read_detection(COCO_MINI, "val")) == 79


def test_yolo_reader_on_coco128() -> None:
    records = read_yolo(need(COCO128))
    assert len(records) == 128 and len(records.names) == 80 and records.names[0] == "person"
    first = np.concatenate(records.boxes)
    assert len(first) > 500 and (first[:, 2] > first[:, 0]).all()
    assert records.coco.getImgIds() == records.image_ids


def bad_copy(tmp_path: Path, change) -> Path:  # noqa: ANN001 - a function editing the dict
    data = json.loads(need(COCO_MINI / "annotations" / "instances_val2017.json").read_text())
    change(data)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize("change, message", [
    (lambda d: d["annotations"][0].pop("bbox"), "has no 'bbox'"),
    (lambda d: d["annotations"][0]["bbox"].__setitem__(2, -5.0), "negative width"),
    (lambda d: d["annotations"][0]["bbox"].__setitem__(0, 1e5), "outside its image"),
    (lambda d: d["annotations"][0].__setitem__("category_id", 999), "unknown category id 999"),
])
def test_bad_coco_annotations_are_named(tmp_path: Path, change, message: str) -> None:  # noqa: ANN001
    path = bad_copy(tmp_path, change)
    first_id = json.loads(path.read_text())["annotations"][0]["id"]
    with pytest.raises(NeocogError) as err:
        read_coco(COCO_MINI / "val2017", path)
    text = str(err.value)
    assert "bad.json" in text and f"annotation {first_id} " in text and message in text
    assert "\n" not in text


def test_bad_yolo_label_is_named(tmp_path: Path) -> None:
    root = tmp_path / "yolo"
    shutil.copytree(need(COCO128) / "images", root / "images")
    shutil.copytree(COCO128 / "labels", root / "labels")
    shutil.copy(COCO128 / "names.txt", root / "names.txt")
    label = sorted((root / "labels").rglob("*.txt"))[0]
    label.write_text("95 0.5 0.5 0.1 0.1\n")
    with pytest.raises(NeocogError, match=f"{label.name}: line 1 has class 95"):
        read_yolo(root)


def test_ground_truth_as_predictions_scores_map_one() -> None:
    ann = need(COCO_MINI / "annotations" / "instances_val2017.json")
    records = read_coco(COCO_MINI / "val2017", ann)
    perfect = [Detections(torch.from_numpy(b), torch.ones(len(b)), torch.from_numpy(lab))
               for b, lab in zip(records.boxes, records.labels, strict=True)]
    evaluator = coco_eval(records.coco, coco_results(records, perfect))
    assert evaluator.stats[0] == pytest.approx(1.0) and evaluator.stats[1] == pytest.approx(1.0)


@pytest.fixture(scope="module")
def digits() -> tuple[np.ndarray, np.ndarray]:
    from neocog.apps.detection.data import read_mnist

    return read_mnist(need(SHARED / "mnist"))


def test_scenes_match_the_benchmark_spec(digits) -> None:  # noqa: ANN001
    rng = np.random.default_rng(0)
    for _ in range(20):
        scene = make_scene(*digits, SceneConfig(), rng)
        assert scene.image.shape == (320, 320, 3) and scene.image.dtype == np.uint8
        assert 1 <= len(scene.boxes) <= 6 and len(scene.boxes) == len(scene.labels)
        heights = scene.boxes[:, 3] - scene.boxes[:, 1]
        assert (heights >= 15).all() and (heights <= 97).all()
        iou = box_iou(torch.from_numpy(scene.boxes), torch.from_numpy(scene.boxes))
        assert torch.equal(iou > 0, torch.eye(len(scene.boxes), dtype=torch.bool))  # no touching


def test_scenes_are_reproducible_from_the_seed(digits) -> None:  # noqa: ANN001
    a = make_scene(*digits, SceneConfig(), np.random.default_rng(7))
    b = make_scene(*digits, SceneConfig(), np.random.default_rng(7))
    assert np.array_equal(a.image, b.image) and np.array_equal(a.boxes, b.boxes)


def test_augmented_boxes_stay_inside_the_input() -> None:
    records = read_yolo(need(COCO128))
    records.images, records.boxes, records.labels = (records.images[:8], records.boxes[:8],
                                                     records.labels[:8])
    ds = DetectionDataset(records, 160, Augment(mosaic=1.0, scale=0.3, translate=0.1, hsv=0.3,
                                                 flip=0.5))
    np.random.seed(0)
    for i in range(8):
        image, target = ds[i]
        assert image.shape == (3, 160, 160)
        b = target["boxes"]
        assert len(b) == len(target["labels"])
        assert (b >= 0).all() and (b <= 160).all() and (b[:, 2:] > b[:, :2]).all()
