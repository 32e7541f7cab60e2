"""COCO instances json (`annotations/instances_*.json`), checked before anything trains.

pycocotools' `COCO` indexes the file; before it does, every record is checked and the
first problem raises NeocogError naming the file and the record: a top-level list or a
record of the wrong JSON type, a missing key, an id that is neither an int nor a string,
a file_name climbing out of the images folder, a box that is not 4 finite numbers, a
negative (or zero) width or height, a box outside its image, an unknown image or
category id. `load_instances` and the record checks serve the detection reader too.
"""

from __future__ import annotations

import contextlib
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pycocotools.coco import COCO

from neocog.core.checkpoint import is_number, json_kind
from neocog.core.errors import NeocogError

from .images import inside

TOP_KEYS = ("images", "annotations", "categories")
IMAGE_KEYS = ("id", "file_name", "width", "height")
ANNOTATION_KEYS = ("id", "image_id", "category_id", "bbox")
# Real COCO boxes are floats and a few overshoot their image by rounding (x + w = 640.01).
EDGE_TOLERANCE = 1.0


@dataclass
class CocoImage:
    path: Path  # the image file (images folder / file_name)
    width: int
    height: int
    boxes: np.ndarray  # float32 (N, 4) xyxy in pixels; crowd annotations left out
    labels: np.ndarray  # int64 (N,) indices into CocoInstances.names
    areas: np.ndarray  # float32 (N,) box areas in pixels


@dataclass
class CocoInstances:
    images: list[CocoImage]  # in the file's order, images without boxes included
    names: list[str]  # class names, ordered by category id
    category_ids: list[int]  # the COCO id of each class index


def load_instances(path: Path) -> dict[str, Any]:
    """A COCO instances json -> its dict, whose images, annotations and categories are
    lists of JSON objects (anything else raises NeocogError naming the file)."""
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise NeocogError(f"{path}: no such annotations file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as err:
        raise NeocogError(f"{path}: not a readable JSON file ({err})") from None
    if not isinstance(data, dict):
        raise NeocogError(f"{path}: expected a JSON object with {', '.join(TOP_KEYS)}")
    for key in TOP_KEYS:
        if key not in data:
            raise NeocogError(f"{path}: missing top-level key '{key}'")
        if not isinstance(data[key], list):
            raise NeocogError(f"{path}: '{key}' is a JSON {json_kind(data[key])}, expected a list")
        for i, record in enumerate(data[key]):
            if not isinstance(record, dict):
                raise NeocogError(f"{path}: {key}[{i}] is a JSON {json_kind(record)}, "
                                  "expected an object")
    return data


def check_keys(path: Path, record: dict[str, Any], keys: tuple[str, ...], what: str) -> None:
    for key in keys:
        if key not in record:
            raise NeocogError(f"{path}: {what} has no '{key}'")
    for key in ("id", "image_id", "category_id"):
        if key in record and not is_id(record[key]):
            raise NeocogError(f"{path}: {what} has {key} {record[key]!r}, expected an int or a string")


def is_id(value: Any) -> bool:
    return isinstance(value, int | str) and not isinstance(value, bool)


def check_image(path: Path, image: dict[str, Any], what: str) -> None:
    """An image record: id, file_name, and a width and height that are positive numbers."""
    check_keys(path, image, IMAGE_KEYS, what)
    if not all(is_number(image[k]) and image[k] > 0 for k in ("width", "height")):
        raise NeocogError(f"{path}: {what} is {image['width']!r} x {image['height']!r} pixels, "
                          "expected two numbers > 0")


def check_category(path: Path, category: dict[str, Any], what: str) -> None:
    check_keys(path, category, ("id", "name"), what)
    if not isinstance(category["name"], str):
        raise NeocogError(f"{path}: {what} has name {category['name']!r}, expected a string")


def check_bbox(path: Path, aid: Any, bbox: Any) -> None:
    """[x, y, w, h]: four finite numbers (NaN would pass every range check after it)."""
    if not (isinstance(bbox, list) and len(bbox) == 4 and all(map(is_number, bbox))):
        raise NeocogError(f"{path}: annotation {aid} has bbox {bbox!r}, expected [x, y, w, h] "
                          "as four finite numbers")


def check_annotation(path: Path, ann: dict[str, Any], images: dict[Any, dict[str, Any]],
                     categories: set[Any], empty_ok: bool = False) -> None:
    """An annotation record: its keys, ids known, a box of positive size inside its image
    (`empty_ok`: a zero width or height passes, for readers that leave such boxes to
    COCOeval as they do crowd boxes)."""
    check_keys(path, ann, ANNOTATION_KEYS, f"annotation {ann.get('id', '?')}")
    aid, bbox = ann["id"], ann["bbox"]
    check_bbox(path, aid, bbox)
    if ann["image_id"] not in images:
        raise NeocogError(f"{path}: annotation {aid} refers to unknown image id {ann['image_id']}")
    if ann["category_id"] not in categories:
        raise NeocogError(f"{path}: annotation {aid} has unknown category id {ann['category_id']}")
    x, y, w, h = bbox
    side, size = ("width", w) if w <= h else ("height", h)
    if size < 0 or (size == 0 and not empty_ok):
        kind = "negative" if size < 0 else "zero"
        raise NeocogError(f"{path}: annotation {aid} has a {kind} {side} (bbox {bbox})")
    image = images[ann["image_id"]]
    if (x < -EDGE_TOLERANCE or y < -EDGE_TOLERANCE or x + w > image["width"] + EDGE_TOLERANCE
            or y + h > image["height"] + EDGE_TOLERANCE):
        raise NeocogError(f"{path}: annotation {aid} box {bbox} lies outside its image "
                          f"{image['file_name']} ({image['width']}x{image['height']})")


def check_records(path: Path, data: dict[str, Any]) -> None:
    """Raise NeocogError at the first malformed image or category record."""
    for i, image in enumerate(data["images"]):
        check_image(path, image, f"image {image.get('id', f'#{i}')}")
    for i, cat in enumerate(data["categories"]):
        check_category(path, cat, f"category #{i}")


def validate_coco(path: Path, data: dict[str, Any]) -> None:
    """Raise NeocogError at the first malformed image, category or annotation."""
    check_records(path, data)
    images = {im["id"]: im for im in data["images"]}
    categories = {c["id"] for c in data["categories"]}
    for ann in data["annotations"]:
        check_annotation(path, ann, images, categories)


def read_coco(annotations: str | Path, images_dir: str | Path | None = None) -> CocoInstances:
    """Read and validate a COCO instances file; `images_dir` defaults to the `images/`
    folder beside it (the benchmark layout), else the json's own folder."""
    path = Path(annotations)
    data = load_instances(path)
    validate_coco(path, data)
    with contextlib.redirect_stdout(io.StringIO()):  # COCO() prints progress lines
        coco = COCO()
        coco.dataset = data
        coco.createIndex()
    folder = Path(images_dir) if images_dir else default_images_dir(path)
    category_ids = sorted(coco.getCatIds())
    index = {cid: i for i, cid in enumerate(category_ids)}
    images = [_image_record(coco, image_id, folder, index, path) for image_id in coco.getImgIds()]
    names = [coco.cats[cid]["name"] for cid in category_ids]
    return CocoInstances(images, names, category_ids)


def default_images_dir(annotations: Path) -> Path:
    beside = annotations.parent / "images"
    return beside if beside.is_dir() else annotations.parent


def _image_record(coco: COCO, image_id: int, folder: Path, index: dict[int, int],
                  path: Path) -> CocoImage:
    info = coco.imgs[image_id]
    file = inside(folder, info["file_name"], f"{path}: image {image_id}")
    anns = [a for a in coco.imgToAnns[image_id] if not a.get("iscrowd", 0)]
    xywh = np.array([a["bbox"] for a in anns], dtype=np.float32).reshape(-1, 4)
    boxes = np.concatenate([xywh[:, :2], xywh[:, :2] + xywh[:, 2:]], axis=1)  # xywh -> xyxy
    boxes[:, 0::2] = boxes[:, 0::2].clip(0, info["width"])
    boxes[:, 1::2] = boxes[:, 1::2].clip(0, info["height"])
    labels = np.array([index[a["category_id"]] for a in anns], dtype=np.int64)
    return CocoImage(file, int(info["width"]), int(info["height"]),
                     boxes, labels, xywh[:, 2] * xywh[:, 3])
