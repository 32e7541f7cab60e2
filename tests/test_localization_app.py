"""The localization app end to end: head, CLI (train, val, infer) and the shipped model."""

import json
import subprocess

import numpy as np
import pytest
import torch
from PIL import Image

from neocog.apps import demo
from neocog.apps.localization import DEFAULT_WEIGHTS, Localizer, evaluate
from neocog.apps.localization.data import coco_source, unseen_digits
from neocog.apps.localization.head import LocalizerConfig, LocalizerHead
from neocog.core.backbones import FeatureInfo
from neocog.core.boxes import paired_box_iou

from .conftest import PYTHON, SHARED

CLI = [PYTHON, "-m", "neocog.apps.cli", "locate"]
LOCATE_VAL = SHARED / "benchmarks" / "digit_locate_val"


def run(args, **kw):
    return subprocess.run(CLI + args, capture_output=True, text=True, **kw)


@pytest.fixture(scope="module")
def val_json():
    path = LOCATE_VAL / "annotations.json"
    if not path.is_file():
        pytest.skip("../shared/data/benchmarks/digit_locate_val is not here")
    return path


@pytest.fixture
def val_files(tmp_path, val_json):
    """Six benchmark images copied out, with their true labels and boxes."""
    data = json.loads(val_json.read_text())
    folder = tmp_path / "imgs"
    folder.mkdir()
    truth = {}
    for image, ann in list(zip(data["images"], data["annotations"], strict=True))[:6]:
        (folder / image["file_name"]).write_bytes((LOCATE_VAL / "images" / image["file_name"])
                                                   .read_bytes())
        x, y, w, h = ann["bbox"]
        truth[image["file_name"]] = (str(ann["category_id"] - 1), [x, y, x + w, y + h])
    return folder, truth


def test_head_returns_one_class_and_box_per_image_and_its_loss_falls():
    torch.manual_seed(0)
    info = [FeatureInfo(8, (4, 4)), FeatureInfo(16, (8, 8))]  # a 64 px input's maps
    head = LocalizerHead(LocalizerConfig(num_classes=3, channels=16), info)
    features = [torch.randn(4, 8, 16, 16), torch.randn(4, 16, 8, 8)]
    targets = {"boxes": torch.tensor([[4.0, 6, 30, 40], [30, 30, 60, 50], [0, 0, 64, 64],
                                      [10, 40, 20, 60]]), "labels": torch.tensor([0, 1, 2, 1])}
    image = torch.zeros(4, 3, 64, 64)  # each box filled with its class's shade
    for i, ((x1, y1, x2, y2), label) in enumerate(zip(targets["boxes"].int().tolist(),
                                                      targets["labels"], strict=True)):
        image[i, :, y1:y2, x1:x2] = label + 1
    opt = torch.optim.Adam(head.parameters(), 1e-2)
    losses = []
    for _ in range(300):  # 150 left 0.46x on a CPU without AVX-512
        out = head.loss(head(features, image), targets)
        opt.zero_grad()
        out["loss"].backward()
        opt.step()
        losses.append(out["loss"].item())
    assert set(out) == {"loss", "where", "cls", "giou", "l1", "giou2", "l1_2"}
    assert losses[-1] < 0.4 * losses[0]
    raw = head(features, image)
    preds = head.predict(raw)
    assert len(preds) == 4 and [p.index for p in preds] == [0, 1, 2, 1]
    assert all(p.box.shape == (4,) and 0 < p.score <= 1 for p in preds)
    # The chosen cell's first-stage box already fits (the second stage refines it).
    chosen = raw["boxes"][torch.arange(4), raw["where"].argmax(1)]
    assert paired_box_iou(chosen, targets["boxes"]).mean() > 0.7


def test_shipped_model_holds_its_benchmark_scores(val_json):
    # benchmarks/results/localization_digits.json: CorLoc 0.990, mean IoU 0.908; the
    # issue's targets are CorLoc >= 0.97 and mean IoU >= 0.85.
    loc = Localizer()
    report = evaluate(loc.model, loc.pre, coco_source(str(val_json), "largest")[0])
    assert report.corloc >= 0.97 and report.mean_iou >= 0.85, report.metrics()


def test_shipped_model_holds_the_targets_on_digits_it_never_saw(mnist_dir):
    # The benchmark's 2,000 images of the eighth of ../shared/data/mnist held out of the
    # shipped model's training: CorLoc 0.975, mean IoU 0.903.
    loc = Localizer()
    report = evaluate(loc.model, loc.pre, unseen_digits(str(mnist_dir), 2000))
    assert report.corloc >= 0.97 and report.mean_iou >= 0.85, report.metrics()


def test_shipped_weights_are_small_package_data():
    assert DEFAULT_WEIGHTS.is_file() and DEFAULT_WEIGHTS.stat().st_size < 1_000_000


def test_infer_json_gives_label_score_and_box_in_original_pixels(val_files, tmp_path):
    folder, truth = val_files
    res = run(["infer", "--source", str(folder), "--json", "--save", str(tmp_path / "out")],
              check=True)
    results = json.loads(res.stdout)
    assert len(results) == 6
    hits = 0
    for r in results:
        assert set(r) == {"file", "label", "score", "box"} and 0 < r["score"] <= 1
        label, box = truth[r["file"].rsplit("/", 1)[1]]
        iou = paired_box_iou(torch.tensor([r["box"]]), torch.tensor([box], dtype=torch.float))
        hits += r["label"] == label and iou.item() >= 0.5
    assert hits >= 5, results  # the shipped model's CorLoc is ~0.94
    assert len(list((tmp_path / "out").glob("*.png"))) == 6


def test_boxes_map_back_to_a_bigger_non_square_image(val_files, tmp_path):
    folder, truth = val_files
    name = sorted(truth)[1]
    label, (x1, y1, x2, y2) = truth[name]
    # The 128 px image pasted, scaled x2, into a 512 x 300 grey photo at (100, 20).
    image = np.asarray(Image.open(folder / name).convert("RGB").resize((256, 256)))
    canvas = np.full((300, 512, 3), 128, np.uint8)
    canvas[20:276, 100:356] = image
    result = Localizer()([canvas])[0]
    expected = torch.tensor([[100 + 2 * x1, 20 + 2 * y1, 100 + 2 * x2, 20 + 2 * y2]],
                            dtype=torch.float)
    assert result.label == label
    assert paired_box_iou(torch.tensor([result.box]), expected).item() > 0.7


def test_val_reports_corloc_iou_top1_and_saves_a_box_grid(val_files, tmp_path):
    folder, truth = val_files
    data = json.loads((LOCATE_VAL / "annotations.json").read_text())
    keep = [im["id"] for im in data["images"] if im["file_name"] in truth]
    data["images"] = [im for im in data["images"] if im["id"] in keep]
    data["annotations"] = [a for a in data["annotations"] if a["image_id"] in keep]
    (tmp_path / "annotations.json").write_text(json.dumps(data))
    (tmp_path / "images").symlink_to(folder)
    res = run(["val", "--data", str(tmp_path / "annotations.json"), "--project",
               str(tmp_path / "runs")], check=True)
    assert "CorLoc" in res.stdout and "mean IoU" in res.stdout and "top-1" in res.stdout
    out = tmp_path / "runs" / "locate" / "val"
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["images"] == 6 and metrics["corloc"] >= 0.8 and metrics["mean_iou"] > 0.75
    assert Image.open(out / "boxes.png").size[0] > 300


def test_a_broken_coco_file_fails_on_one_line(tmp_path, val_json):
    data = json.loads(val_json.read_text())
    data["annotations"][2]["bbox"][2] = -5
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    res = run(["val", "--data", str(bad), "--project", str(tmp_path)])
    assert res.returncode == 1 and len(res.stderr.strip().splitlines()) == 1
    assert "bad.json: annotation 3 has a negative width" in res.stderr


def test_missing_image_files_fail_before_anything_runs(tmp_path, val_json):
    (tmp_path / "annotations.json").write_text(val_json.read_text())  # no images/ beside it
    res = run(["val", "--data", str(tmp_path / "annotations.json"), "--project", str(tmp_path)])
    assert res.returncode == 1
    assert "500 image files are missing, first " in res.stderr and "00000.jpg" in res.stderr


def test_train_a_few_steps_then_infer_with_the_new_weights(mnist_dir, tmp_path, val_files):
    run(["train", "--data", str(mnist_dir), "--project", str(tmp_path), "--epochs", "1",
         "--train-images", "64", "--val-images", "16", "--batch-size", "16", "--width", "8",
         "--channels", "16"], check=True)
    weights = tmp_path / "locate" / "exp" / "best.safetensors"
    res = run(["infer", "--source", str(val_files[0]), "--weights", str(weights), "--json"],
              check=True)
    assert len(json.loads(res.stdout)) == 6
    assert (tmp_path / "locate" / "exp" / "metrics.csv").read_text().count("\n") == 2


def test_train_on_a_coco_file_of_real_photos(tmp_path):
    annotations = SHARED / "coco_mini" / "annotations" / "instances_val2017.json"
    if not annotations.is_file():
        pytest.skip("../shared/data/coco_mini is not here")
    data = json.loads(annotations.read_text())
    data["images"] = data["images"][:8]  # 8 photos keep it to seconds
    keep = {im["id"] for im in data["images"]}
    data["annotations"] = [a for a in data["annotations"] if a["image_id"] in keep]
    small = tmp_path / "instances.json"
    small.write_text(json.dumps(data))
    (tmp_path / "images").symlink_to(annotations.parents[1] / "val2017")
    # no --val: a fixed share of the photos is held out for validation
    res = run(["train", "--data", str(small), "--primary", "largest",
               "--project", str(tmp_path), "--epochs", "1", "--batch-size", "4", "--width", "8",
               "--channels", "16", "--imgsz", "64"], check=True)
    assert "best: {'corloc'" in res.stdout
    loc = Localizer(tmp_path / "locate" / "exp" / "best.safetensors")
    assert len(loc.names) == 80 and loc.pre.size == 64


def test_unknown_option_and_mode_list_the_valid_ones():
    res = run(["train", "--primry", "largest"])
    assert res.returncode == 2 and "--primary" in res.stderr
    res = run(["fly"])
    assert res.returncode == 2 and "valid: train, val, infer" in res.stderr


def test_demo_localizes_the_shipped_samples_and_writes_annotated_copies(tmp_path, capsys):
    demo.localization(str(tmp_path))
    out = capsys.readouterr().out
    samples = sorted((DEFAULT_WEIGHTS.parent / "samples").glob("*.jpg"))
    for sample in samples:  # named digit_<label>_<size>.jpg
        assert f"{sample}: {sample.stem.split('_')[1]} (" in out
    written = sorted(p.stem for p in (tmp_path / "locate").glob("*.png"))
    assert written == [s.stem for s in samples]
