"""Detection data readers: COCO instances json (via pycocotools) and the YOLO txt layout.

Both give `DetectionRecords`: per image a file (or an in-memory array), its boxes as
float32 (N, 4) xyxy in original pixels and labels as int64 (N,) class indices 0..K-1,
plus a pycocotools `COCO` ground truth whose image and category ids are the source's
own (the annotation file's for COCO; 1..N and 1..K made up for YOLO txt), so COCOeval
and saved predictions speak the ids of the file the user gave.
"""

from __future__ import annotations

import contextlib
import io
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, UnidentifiedImageError
from pycocotools.coco import COCO

from neocog.core.errors import NeocogError

from .coco import check_annotation, check_records, load_instances
from .images import IMAGE_SUFFIXES, inside, require_files

NAMES_FILES = ("names.txt", "classes.txt", "obj.names")


@dataclass
class DetectionRecords:
    images: list[Any]  # Path per image, or a uint8 (H, W, 3) RGB array for generated data
    boxes: list[np.ndarray]  # float32 (N, 4) xyxy, original pixels
    labels: list[np.ndarray]  # int64 (N,) class index
    image_ids: list[int]  # the source's image id of each image
    names: list[str]  # class index -> name
    category_ids: list[int]  # class index -> the source's category id
    coco: COCO = field(repr=False, default=None)  # ground truth for COCOeval

    def __len__(self) -> int:
        return len(self.images)


def quiet_coco(dataset: dict[str, Any]) -> COCO:
    """A pycocotools COCO over an in-memory dict, without its progress prints."""
    coco = COCO()
    coco.dataset = dataset
    with contextlib.redirect_stdout(io.StringIO()):
        coco.createIndex()
    return coco


def read_coco(images_dir: str | Path, annotations: str | Path) -> DetectionRecords:
    """A COCO instances json + its image folder -> records (crowd boxes left to COCOeval)."""
    path, images_dir = Path(annotations), Path(images_dir)
    data = load_instances(path)
    check_records(path, data)
    categories = sorted(data["categories"], key=lambda c: c["id"])
    index = {c["id"]: i for i, c in enumerate(categories)}
    images = {img["id"]: img for img in data["images"]}
    per_image: dict[int, list[dict[str, Any]]] = {i: [] for i in images}
    for ann in data["annotations"]:
        check_annotation(path, ann, images, set(index), empty_ok=True)
        if not ann.get("iscrowd", 0) and ann["bbox"][2] > 0 and ann["bbox"][3] > 0:
            per_image[ann["image_id"]].append(ann)
    records = DetectionRecords([], [], [], [], [c["name"] for c in categories],
                               [c["id"] for c in categories], quiet_coco(data))
    for image_id, img in images.items():
        anns = per_image[image_id]
        xywh = np.array([a["bbox"] for a in anns], dtype=np.float32).reshape(-1, 4)
        records.images.append(inside(images_dir, img["file_name"], f"{path}: image {image_id}"))
        records.boxes.append(np.concatenate([xywh[:, :2], xywh[:, :2] + xywh[:, 2:]], axis=1))
        records.labels.append(np.array([index[a["category_id"]] for a in anns], dtype=np.int64))
        records.image_ids.append(image_id)
    require_files(path, records.images, "image")  # found now, not epochs into training
    return records


def find_names_file(root: Path) -> Path:
    for name in NAMES_FILES:
        if (root / name).is_file():
            return root / name
    raise NeocogError(f"{root}: no class names file ({', '.join(NAMES_FILES)})")


def read_yolo_labels(path: Path, width: int, height: int, num_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """One YOLO txt file (`class cx cy w h`, normalised) -> (xyxy pixels (N, 4), labels (N,))."""
    rows = []
    for n, line in enumerate(path.read_text().splitlines(), 1) if path.is_file() else []:
        parts = line.split()
        if not parts:
            continue
        try:
            cls, cx, cy, w, h = int(parts[0]), *(float(v) for v in parts[1:])
        except ValueError:
            raise NeocogError(f"{path}: line {n} is not 'class cx cy w h': {line!r}") from None
        if not all(map(math.isfinite, (cx, cy, w, h))):  # float() reads "nan" and "inf"
            raise NeocogError(f"{path}: line {n} has a number that is not finite: {line!r}")
        if not 0 <= cls < num_classes:
            raise NeocogError(f"{path}: line {n} has class {cls}, outside 0..{num_classes - 1}")
        if w < 0 or h < 0 or not all(-0.01 <= v <= 1.01 for v in (cx, cy, w, h)):
            raise NeocogError(f"{path}: line {n} has a box outside the image: {line!r}")
        rows.append((cls, cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2))
    table = np.array(rows, dtype=np.float32).reshape(-1, 5)
    boxes = np.clip(table[:, 1:] * np.array([width, height, width, height], np.float32), 0,
                    [width, height, width, height])
    return boxes.astype(np.float32), table[:, 0].astype(np.int64)


def read_yolo(root: str | Path) -> DetectionRecords:
    """`root/images/**` beside `root/labels/**` (same relative paths, .txt) + a names file."""
    root = Path(root)
    if not (root / "images").is_dir():
        raise NeocogError(f"{root}: no images/ folder (YOLO layout: images/, labels/, names.txt)")
    names = [n.strip() for n in find_names_file(root).read_text().splitlines() if n.strip()]
    files = sorted(p for p in (root / "images").rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise NeocogError(f"{root / 'images'}: holds no images")
    records = DetectionRecords([], [], [], [], names, list(range(1, len(names) + 1)))
    sizes = []
    for i, file in enumerate(files, 1):
        width, height = image_size(file)
        sizes.append((width, height))
        label_file = root / "labels" / file.relative_to(root / "images").with_suffix(".txt")
        boxes, labels = read_yolo_labels(label_file, width, height, len(names))
        records.images.append(file)
        records.boxes.append(boxes)
        records.labels.append(labels)
        records.image_ids.append(i)
    records.coco = coco_ground_truth(records, sizes)
    return records


def image_size(path: Path) -> tuple[int, int]:
    """(width, height) from an image file's header, without decoding its pixels."""
    try:
        with Image.open(path) as im:
            return im.size
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError) as err:
        raise NeocogError(f"{path}: not a readable image ({err})") from None


def coco_ground_truth(records: DetectionRecords, sizes: list[tuple[int, int]]) -> COCO:
    """A COCO ground truth built from `records` (sizes: (width, height) per image)."""
    images, anns = [], []
    for image_id, (w, h), boxes, labels in zip(records.image_ids, sizes, records.boxes,
                                               records.labels, strict=True):
        images.append({"id": image_id, "width": w, "height": h, "file_name": str(image_id)})
        for box, label in zip(boxes.tolist(), labels.tolist(), strict=True):
            bw, bh = box[2] - box[0], box[3] - box[1]
            anns.append({"id": len(anns) + 1, "image_id": image_id, "iscrowd": 0, "area": bw * bh,
                         "category_id": records.category_ids[label],
                         "bbox": [box[0], box[1], bw, bh]})
    cats = [{"id": c, "name": n} for c, n in zip(records.category_ids, records.names, strict=True)]
    return quiet_coco({"images": images, "annotations": anns, "categories": cats})


def read_detection(data: str | Path, split: str = "train") -> DetectionRecords:
    """A folder in either layout: COCO official (`annotations/instances_<split>2017.json`
    + `<split>2017/`) or YOLO txt (`images/`, `labels/`, names file)."""
    root = Path(data)
    if not root.is_dir():
        raise NeocogError(f"{root}: no such data folder")
    ann = root / "annotations" / f"instances_{split}2017.json"
    if ann.is_file():
        return read_coco(root / f"{split}2017", ann)
    if (root / "images").is_dir():
        return read_yolo(root)
    raise NeocogError(f"{root}: neither COCO layout (annotations/instances_{split}2017.json) "
                      "nor YOLO layout (images/ + labels/ + names.txt)")
