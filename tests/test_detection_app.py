"""Detection app: head/loss/NMS behaviour, train -> val -> infer -> export on real files,
the frame-source errors of cameras and streams (with a fake capture), and the shipped model."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from neocog.apps.cli import main as cli
from neocog.apps.detection import DEFAULT_WEIGHTS, DetectConfig, Detector, sources
from neocog.apps.detection.head import postprocess
from neocog.apps.detection.train import DetectTrainConfig, build_detector

from .conftest import SHARED

COCO_MINI = SHARED / "coco_mini"


def need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} is not here")
    return path


def test_nms_is_class_aware() -> None:
    box = [10.0, 10.0, 50.0, 50.0]
    near = [12.0, 11.0, 51.0, 50.0]
    # (B=1, A=3, 4 + K=2): two overlapping boxes of class 0, one copy of class 1.
    decoded = torch.tensor([[box + [0.9, 0.0], near + [0.8, 0.0], near + [0.0, 0.7]]])
    result = postprocess(decoded, 0.25, 0.5, 100)[0]
    assert result.labels.tolist() == [0, 1]
    assert result.scores.tolist() == pytest.approx([0.9, 0.7])


def tiny_model(num_classes: int = 3):  # noqa: ANN201
    torch.manual_seed(0)
    return build_detector(DetectTrainConfig(width=8, neck_channels=16), num_classes)


def test_raw_output_covers_strides_8_16_32() -> None:
    raw = tiny_model().eval()(torch.zeros(2, 3, 128, 96))
    cells = (16 * 12) + (8 * 6) + (4 * 3)
    assert raw.out.shape == (2, cells, 4 + 3)
    assert raw.strides.unique().tolist() == [8.0, 16.0, 32.0]
    assert (raw.out[..., :4] >= 0).all()  # distances to the sides are never negative


def test_loss_is_normalised_and_falls_while_fitting_a_box() -> None:
    model = tiny_model()
    image = torch.rand(2, 3, 64, 64)
    targets = [{"boxes": torch.tensor([[10.0, 12.0, 40.0, 50.0]]), "labels": torch.tensor([1])},
               {"boxes": torch.zeros(0, 4), "labels": torch.zeros(0, dtype=torch.long)}]
    opt = torch.optim.AdamW(model.parameters(), 5e-3)
    history = []
    for _ in range(8):
        losses = model.loss(model(image), targets)
        history.append({k: float(v.detach()) for k, v in losses.items()})
        opt.zero_grad()
        losses["loss"].backward()
        opt.step()
    assert set(losses) == {"loss", "cls", "box"}
    assert history[-1]["loss"] < 0.7 * history[0]["loss"]
    assert history[-1]["box"] < history[0]["box"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny detector trained for one short epoch on the real coco_mini val2017 pair."""
    root = need(COCO_MINI)
    project = tmp_path_factory.mktemp("runs")
    code = cli(["detect", "train", "--images", str(root / "val2017"), "--annotations",
                str(root / "annotations" / "instances_val2017.json"), "--imgsz", "96",
                "--width", "8", "--neck-channels", "16", "--epochs", "1", "--batch-size", "16",
                "--project", str(project), "--name", "t"])
    assert code == 0
    return project / "detect" / "t" / "best.safetensors"


def test_val_writes_coco_results_with_the_files_ids(trained: Path, tmp_path: Path) -> None:
    ann = COCO_MINI / "annotations" / "instances_val2017.json"
    out = tmp_path / "preds.json"
    code = cli(["detect", "val", "--weights", str(trained), "--images", str(COCO_MINI / "val2017"),
                "--annotations", str(ann), "--save-predictions", str(out),
                "--project", str(tmp_path), "--name", "v"])
    assert code == 0
    data = json.loads(ann.read_text())
    preds = json.loads(out.read_text())
    assert preds and set(preds[0]) == {"image_id", "category_id", "bbox", "score"}
    assert {p["image_id"] for p in preds} <= {i["id"] for i in data["images"]}
    assert {p["category_id"] for p in preds} <= {c["id"] for c in data["categories"]}
    sizes = {i["id"]: (i["width"], i["height"]) for i in data["images"]}
    for p in preds[:200]:  # boxes are in original pixels, inside their image
        x, y, w, h = p["bbox"]
        assert 0 <= x and 0 <= y and x + w <= sizes[p["image_id"]][0] + 0.01
    for name in ("pr_curve.png", "confusion.png", "metrics.json"):
        assert (tmp_path / "detect" / "v" / name).stat().st_size > 0


def test_onnx_export_matches_pytorch(trained: Path, tmp_path: Path) -> None:
    ort = pytest.importorskip("onnxruntime")
    out = tmp_path / "det.onnx"
    assert cli(["detect", "export", "--weights", str(trained), "--output", str(out)]) == 0
    det = Detector(trained)
    x = torch.rand(2, 3, det.size, det.size)
    with torch.no_grad():
        expected = det.model.head.decode(det.model(x)).numpy()
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    got = session.run(None, {"images": x.numpy()})[0]
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-3, atol=1e-3)


@pytest.fixture
def video(tmp_path: Path) -> Path:
    path = tmp_path / "clip.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 10.0, (160, 120))
    for i in range(5):
        frame = np.full((120, 160, 3), 40 * i, np.uint8)
        cv2.putText(frame, str(i), (60, 90), cv2.FONT_HERSHEY_SIMPLEX, 2.5, (255, 255, 255), 6)
        writer.write(frame)
    writer.release()
    return path


def test_stream_yields_one_result_per_video_frame(trained: Path, video: Path) -> None:
    results = list(Detector(trained).stream(str(video)))
    assert [r.index for r in results] == [0, 1, 2, 3, 4]
    assert results[0].image.shape == (120, 160, 3) and results[0].name == f"{video}#0"


def test_infer_json_and_saved_video(trained: Path, video: Path, tmp_path: Path,
                                    capsys: pytest.CaptureFixture) -> None:
    code = cli(["detect", "infer", "--weights", str(trained), "--source", str(video), "--json",
                "--save", "--conf", "0.01", "--project", str(tmp_path), "--name", "i"])
    assert code == 0
    lines = [json.loads(s) for s in capsys.readouterr().out.splitlines()]
    assert [line["frame"] for line in lines] == [0, 1, 2, 3, 4]
    saved = cv2.VideoCapture(str(tmp_path / "detect" / "i" / "clip.mp4"))
    assert int(saved.get(cv2.CAP_PROP_FRAME_COUNT)) == 5


def test_infer_on_a_glob_of_images(trained: Path, tmp_path: Path,
                                   capsys: pytest.CaptureFixture) -> None:
    pattern = str(COCO_MINI / "val2017" / "0000000001*.jpg")
    assert cli(["detect", "infer", "--weights", str(trained), "--source", pattern, "--json"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(sources.glob_images(pattern)) > 0


class FakeCapture:
    """Stands in for cv2.VideoCapture: opens or not, then gives `frames` frames and fails."""

    def __init__(self, opened: bool, frames: int) -> None:
        self.opened, self.left = opened, frames

    def isOpened(self) -> bool:  # noqa: N802 - cv2's name
        return self.opened

    def read(self) -> tuple[bool, np.ndarray | None]:
        self.left -= 1
        return (True, np.zeros((48, 64, 3), np.uint8)) if self.left >= 0 else (False, None)

    def release(self) -> None:
        pass


@pytest.mark.parametrize("opened, frames, message", [
    (False, 0, "camera 0: cannot be opened"),
    (True, 3, "camera 0: stream dropped after 3 frames"),
])
def test_camera_failures_exit_non_zero(trained: Path, monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture, opened: bool, frames: int,
                                       message: str) -> None:
    monkeypatch.setattr(sources, "open_capture", lambda source: FakeCapture(opened, frames))
    code = cli(["detect", "infer", "--weights", str(trained), "--source", "0", "--json"])
    captured = capsys.readouterr()
    assert code == 1 and message in captured.err
    assert len(captured.out.splitlines()) == frames  # the frames before the drop were reported


def test_stream_url_that_fails_names_the_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sources, "open_capture", lambda source: FakeCapture(False, 0))
    with pytest.raises(Exception, match="rtsp://camera.local/live: cannot be opened"):
        list(sources.frames("rtsp://camera.local/live"))


def test_shipped_detector_finds_digits_in_the_sample_scene() -> None:
    if not DEFAULT_WEIGHTS.is_file():
        pytest.skip("no shipped detector yet")
    det = Detector()
    assert det.names == [str(d) for d in range(10)] and det.size == 320
    assert DEFAULT_WEIGHTS.stat().st_size < 1_000_000
    assert isinstance(det.model.head.config, DetectConfig)
    found = det([DEFAULT_WEIGHTS.parent / "scene.jpg"])[0]
    assert len(found) >= 1 and all(d.label in det.names for d in found)


def test_entrypoints_run_as_modules() -> None:
    import subprocess
    import sys

    for mode in ("train", "infer"):
        out = subprocess.run([sys.executable, "-m", f"neocog.apps.detection.{mode}", "--help"],
                             capture_output=True, text=True, check=True).stdout
        assert "--source" in out if mode == "infer" else "--annotations" in out
