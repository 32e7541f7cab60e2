"""neocog studio's server, through FastAPI's test client (no browser): every page's API
on the shipped models and samples, and the refusals (bad uploads, the size limit,
paths outside the runs folder, checkpoints of another task) as 4xx JSON lines."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import warnings
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from PIL import Image

from neocog.apps.demo import AUDIO_SAMPLE, DETECT_ASSETS, SAMPLES, SPEECH_SAMPLES
from neocog.apps.detection import DEFAULT_WEIGHTS as DETECT_WEIGHTS
from neocog.core.shapes import volume_table, whd

from .conftest import PYTHON, cli_run

pytest.importorskip("fastapi")
with warnings.catch_warnings():  # starlette's notice about its own use of httpx
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from neocog.apps.studio import create_app  # noqa: E402
from neocog.apps.studio.server import is_loopback  # noqa: E402

SPOKEN = SPEECH_SAMPLES / "digits_jackson_seven_nine_zero_one.wav"


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("runs")


@pytest.fixture(scope="module")
def client(runs: Path) -> TestClient:
    return TestClient(create_app(runs, max_upload_mb=1))


def upload(client: TestClient, url: str, path: Path, name: str | None = None, **data):
    return client.post(url, files={"file": (name or path.name, path.read_bytes())}, data=data)


def png_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def test_classify_gives_label_probabilities_and_every_conv_layers_maps(client: TestClient) -> None:
    answer = upload(client, "/api/classify", SAMPLES / "digit_7_dark_on_light.png")
    assert answer.status_code == 200
    body = answer.json()
    assert body["label"] == "7"
    assert [p["name"] for p in body["probs"]] == [str(d) for d in range(10)]
    assert sum(p["p"] for p in body["probs"]) == pytest.approx(1, abs=1e-4)
    clf = client.app.state.studio.models.get("classify").predictor
    convs = [n for n, m in clf.model.backbone.named_modules() if type(m).__name__ == "Conv2d"]
    assert sorted(m["layer"] for m in body["maps"]) == sorted(convs)  # in the order they ran
    assert all(m["url"].startswith("data:image/png;base64,") for m in body["maps"])


def test_volume_table_is_the_inspect_arithmetic_of_the_chosen_model(client: TestClient) -> None:
    for weights, side in (("", 28), ("cifar10", 32)):
        body = client.get("/api/classify/volumes", params={"weights": weights}).json()
        model = client.app.state.studio.models.get("classify", weights).predictor.model
        channels = model.backbone.config.in_channels
        rows = volume_table(model, (channels, side, side))
        assert body["input"] == f"{side} x {side} x {channels}"
        assert [r["output"] for r in body["rows"]] == [whd(r.out_shape) for r in rows]
        assert body["params"] == sum(p.numel() for p in model.parameters())


def test_a_non_image_upload_is_a_400_naming_the_file_and_the_server_keeps_serving(
        client: TestClient) -> None:
    answer = upload(client, "/api/classify", SPOKEN, name="not_a_photo.png")
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error.startswith("not_a_photo.png: not a readable image") and "/tmp" not in error
    assert upload(client, "/api/classify", SAMPLES / "digit_3_dark_on_light.png").json()["label"] == "3"


def test_bodies_over_the_limit_are_413_whether_declared_or_not(client: TestClient) -> None:
    big = b"\0" * 1_500_000  # the test app's limit is 1 MB
    declared = client.post("/api/classify", files={"file": ("big.png", big)})
    assert declared.status_code == 413 and "limit is 1 MB" in declared.json()["error"]
    streamed = client.post("/api/classify", content=iter([big[:600_000], big[600_000:]]),
                           headers={"content-type": "multipart/form-data; boundary=x"})
    assert streamed.status_code == 413 and "limit" in streamed.json()["error"]
    assert upload(client, "/api/classify", SAMPLES / "digit_0.png").status_code == 200


def test_paths_in_requests_stay_inside_the_runs_folder(client: TestClient, runs: Path) -> None:
    (runs / "classify").mkdir(exist_ok=True)
    (runs / "classify" / "escape").symlink_to("/etc", target_is_directory=True)
    for path in ("../../etc/passwd", "/etc/passwd", "classify/escape/passwd", "classify/../../x.png",
                 "classify/a\0b.png"):
        answer = client.get("/api/runs/file", params={"path": path})
        assert answer.status_code == 403, path
        assert "runs folder" in answer.json()["error"]
    assert not [r for r in client.get("/api/runs").json() if r["name"] == "escape"]  # not listed
    answer = client.get("/api/classify/volumes", params={"weights": "../../model.safetensors"})
    assert answer.status_code == 403
    with client.websocket_connect("/api/detect/ws?weights=../../x.safetensors") as socket:
        assert "outside the runs folder" in socket.receive_json()["error"]


def test_a_checkpoint_of_another_task_is_a_400(client: TestClient, runs: Path) -> None:
    answer = client.get("/api/classify/volumes", params={"weights": "digits-detect"})
    assert answer.status_code == 400 and "a detect model, not a classify model" in answer.json()["error"]
    folder = runs / "classify" / "wrong"
    folder.mkdir(parents=True)
    shutil.copy(DETECT_WEIGHTS, folder / "best.safetensors")
    answer = upload(client, "/api/classify", SAMPLES / "digit_0.png",
                    weights="classify/wrong/best.safetensors")
    assert answer.status_code == 400
    assert "a 'detect' checkpoint, expected a 'classify' one" in answer.json()["error"]


def test_runs_lists_each_run_and_serves_its_pictures_not_its_weights(client: TestClient, runs: Path) -> None:
    from neocog.core.visualize import plot_curves

    folder = runs / "detect" / "exp"
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({"epochs": 2}))
    (folder / "metrics.csv").write_text("epoch,seconds,loss,map\n1,3.0,2.5,0.1\n2,3.1,1.5,0.4\n")
    plot_curves(folder / "metrics.csv", folder / "curves.png")
    shutil.copy(DETECT_WEIGHTS, folder / "best.safetensors")
    run = next(r for r in client.get("/api/runs").json() if r["path"] == "detect/exp")
    assert run["images"] == ["curves.png"] and run["checkpoints"] == ["best.safetensors"]
    assert run["config"] == {"epochs": 2} and run["metrics"][-1]["map"] == "0.4"
    picture = client.get("/api/runs/file", params={"path": "detect/exp/curves.png"})
    assert picture.status_code == 200 and picture.content[:4] == b"\x89PNG"
    assert client.get("/api/runs/file", params={"path": "detect/exp/best.safetensors"}).status_code == 403
    choices = [c["value"] for c in client.get("/api/models", params={"task": "detect"}).json()]
    assert choices == ["digits-detect", "detect/exp/best.safetensors"]
    answer = upload(client, "/api/detect", DETECT_ASSETS / "scene.jpg", weights="detect/exp/best.safetensors")
    assert answer.status_code == 200 and answer.json()["detections"]


def test_detect_socket_answers_each_frame_and_survives_a_bad_one(client: TestClient) -> None:
    jpeg = (DETECT_ASSETS / "scene.jpg").read_bytes()
    expected = upload(client, "/api/detect", DETECT_ASSETS / "scene.jpg").json()["detections"]
    with client.websocket_connect("/api/detect/ws") as socket:
        ready = socket.receive_json()
        assert ready["ready"] and ready["imgsz"] == 320
        socket.send_bytes(jpeg)
        assert socket.receive_json()["detections"] == expected
        socket.send_bytes(b"not a jpeg")
        assert "not a JPEG or PNG image" in socket.receive_json()["error"]
        socket.send_text("hello")
        assert "not text" in socket.receive_json()["error"]
        socket.send_bytes(png_bytes(np.zeros((5000, 4000), np.uint8)))  # a small file, 20 Mpx
        assert "over the 16777216 pixels" in socket.receive_json()["error"]
        socket.send_bytes(jpeg)
        assert socket.receive_json()["detections"] == expected


def test_a_page_that_goes_away_mid_stream_leaves_the_server_serving(client: TestClient) -> None:
    jpeg = (DETECT_ASSETS / "scene.jpg").read_bytes()
    with client.websocket_connect("/api/detect/ws") as socket:
        socket.receive_json()
        socket.send_bytes(jpeg)  # closed before its answer is read
    with client.websocket_connect("/api/detect/ws") as socket:
        socket.receive_json()
        socket.send_bytes(jpeg)
        assert socket.receive_json()["detections"]


def test_an_uploaded_video_gets_every_frames_boxes(client: TestClient) -> None:
    body = upload(client, "/api/detect/video", DETECT_ASSETS / "scenes.mp4").json()
    assert body["fps"] == 25 and len(body["frames"]) == 30
    assert sum(1 for frame in body["frames"] if frame) >= 25  # the scenes pan: a digit or more in view
    assert {d["label"] for frame in body["frames"] for d in frame} <= set("0123456789")
    answer = upload(client, "/api/detect/video", SPOKEN, name="clip.mp4")
    assert answer.status_code == 400 and answer.json()["error"].startswith("clip.mp4")


def test_transcribe_reads_the_sample_and_refuses_what_the_reader_rejects(client: TestClient,
                                                                        tmp_path: Path) -> None:
    body = upload(client, "/api/transcribe", SPOKEN).json()
    assert body["text"] == "seven nine zero one"
    assert body["spectrogram"].startswith("data:image/png;base64,")
    truncated = tmp_path / "cut.wav"
    truncated.write_bytes(SPOKEN.read_bytes()[:30])
    for path in (truncated, SAMPLES / "digit_0.png"):
        answer = upload(client, "/api/transcribe", path)
        assert answer.status_code == 400 and answer.json()["error"].startswith(path.name), path


def test_wavenet_generates_and_vocodes_playable_wav(client: TestClient) -> None:
    answer = client.post("/api/wavenet/generate", data={"seconds": "0.3", "label": "7", "seed": "1"})
    assert answer.status_code == 200 and answer.headers["content-type"] == "audio/wav"
    wave, rate = sf.read(io.BytesIO(answer.content))
    assert rate == 8000 and len(wave) == 2400
    bad = client.post("/api/wavenet/generate", data={"label": "eleven"})
    assert bad.status_code == 400 and "unknown label 'eleven'" in bad.json()["error"]
    assert client.post("/api/wavenet/generate", data={"seconds": "x"}).status_code == 422
    bad = client.post("/api/wavenet/generate", data={"seconds": "0.1", "seed": "-1"})
    assert bad.status_code == 400 and "seed -1" in bad.json()["error"]
    vocoded = upload(client, "/api/wavenet/vocode", AUDIO_SAMPLE, name="録音" * 200 + ".wav")
    assert vocoded.status_code == 200  # a name too long for a file, and not latin-1 for a header
    assert vocoded.headers["content-disposition"].isascii()
    assert len(sf.read(io.BytesIO(vocoded.content))[0]) == sf.info(AUDIO_SAMPLE).frames


def test_convolution_gives_the_digits_the_trained_filters_and_first_layer_maps(client: TestClient) -> None:
    body = client.get("/api/convolution").json()
    assert len(body["digits"]) == 10 and np.array(body["digits"][0]["pixels"]).shape == (28, 28)
    filters = np.array(body["filters"])
    maps = client.get("/api/convolution/maps", params={"digit": 7}).json()
    assert maps["shape"][0] == filters.shape[0] and filters.shape[1] == filters.shape[2]
    assert client.get("/api/convolution/maps", params={"digit": 10}).status_code == 400


def two_classes(count: int, seed: int = 0) -> dict[str, list[bytes]]:
    """`count` PNGs each of two looks a backbone tells apart: warm blobs, cool stripes."""
    rng = np.random.default_rng(seed)
    images: dict[str, list[bytes]] = {"warm": [], "cool": []}
    for _ in range(count):
        warm = np.zeros((64, 64, 3), np.uint8) + rng.integers(0, 40, 3).astype(np.uint8)
        y, x = rng.integers(16, 48, 2)
        yy, xx = np.mgrid[:64, :64]
        warm[(yy - y) ** 2 + (xx - x) ** 2 < rng.integers(100, 300)] = (230, rng.integers(60, 160), 30)
        cool = np.zeros((64, 64, 3), np.uint8)
        cool[:, :] = (20, 120, 200) if rng.random() < 0.5 else (30, 180, 140)
        cool[(yy // rng.integers(4, 9)) % 2 == 0] = 240
        images["warm"].append(png_bytes(warm))
        images["cool"].append(png_bytes(cool))
    return images


def test_teach_learns_two_classes_and_saves_a_checkpoint_classify_infer_reads(
        client: TestClient, runs: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    examples = two_classes(10)
    files = [("files", (f"{c}_{i}.png", data)) for c, images in examples.items()
             for i, data in enumerate(images[:6])]
    classes = [c for c, images in examples.items() for _ in images[:6]]
    answer = client.post("/api/teach/train", files=files, data={"classes": classes, "name": "mine"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["checkpoint"] == "classify/mine/best.safetensors"
    assert body["names"] == ["warm", "cool"] and body["backbone"] == "cifar10"
    assert body["train_accuracy"] == 1.0 and body["seconds"] < 30
    for cls, images in examples.items():
        for i, data in enumerate(images[6:]):
            got = client.post("/api/classify", files={"file": ("x.png", data)},
                              data={"weights": body["checkpoint"], "maps": "false"}).json()
            assert got["label"] == cls, (cls, i)
    held_out = tmp_path / "held_out.png"
    held_out.write_bytes(examples["cool"][-1])
    code, out, err = cli_run(capsys, ["classify", "infer", "--weights",
                                      str(runs / body["checkpoint"]), "--source", str(held_out)])
    assert code == 0, err
    assert "cool" in out
    one = client.post("/api/teach/train", files=files[:2], data={"classes": ["a", "a"]})
    assert one.status_code == 400 and "at least two" in one.json()["error"]
    trained = runs / "classify" / "trained"  # what `neocog classify train` leaves
    trained.mkdir(parents=True)
    (trained / "config.json").write_text("{}")
    taken = client.post("/api/teach/train", files=files, data={"classes": classes, "name": "trained"})
    assert taken.status_code == 400 and "a training run's folder" in taken.json()["error"]
    assert not (trained / "best.safetensors").exists()


def test_the_page_and_its_assets_are_local_files(client: TestClient) -> None:
    page = client.get("/").text
    assert "neocog studio" in page and "http://" not in page and "https://" not in page
    for asset in ("studio.js", "studio.css", "classify.js", "detect.js", "teach.js"):
        answer = client.get(f"/static/{asset}")
        assert answer.status_code == 200 and "https://" not in answer.text


def test_neocog_studio_serves_and_prints_its_url(tmp_path: Path) -> None:
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.4")
    process = subprocess.Popen([PYTHON, "-m", "neocog.apps.cli", "studio", "--port", "0",
                                "--runs", str(tmp_path / "runs")], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        assert line.startswith("neocog studio: http://127.0.0.1:"), process.stderr.read()
        url = line.split()[2]
        from urllib.request import urlopen

        with urlopen(url, timeout=10) as page:
            assert b"neocog studio" in page.read()
    finally:
        process.terminate()
        process.wait(10)
    assert (tmp_path / "runs").is_dir()


def test_a_non_loopback_host_warns(capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch,
                                   tmp_path: Path) -> None:
    from neocog.apps.studio import server

    async def no_serving(_server, _host) -> None:
        return None

    monkeypatch.setattr(server, "serve", no_serving)
    code, _, err = cli_run(capsys, ["studio", "--host", "0.0.0.0", "--runs", str(tmp_path)])
    assert code == 0 and "warning: --host 0.0.0.0 is not loopback" in err
    assert cli_run(capsys, ["studio", "--bogus"])[0] == 2
