"""neocog studio in a real browser: headless Chromium (Debian's chromium and
chromium-driver) with a fake camera playing digit scenes and a fake microphone playing
a spoken-digit recording, driven by Selenium. One server and one browser serve every
test; each test saves a screenshot of its page under the session's temp folder."""

from __future__ import annotations

import http.client
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import librosa
import numpy as np
import pytest
import soundfile as sf
import torch
from PIL import Image
from torchvision.ops import box_iou

from neocog.apps.demo import CIFAR_SAMPLES, DETECT_ASSETS, SAMPLES, SPEECH_SAMPLES
from neocog.apps.studio import create_app
from neocog.apps.studio.headless import digit_scene, missing_browser, serving, write_y4m

from .conftest import PYTHON

SPOKEN = SPEECH_SAMPLES / "digits_jackson_seven_nine_zero_one.wav"
SCENE_SEED = 0  # a scene whose four digits the shipped detector finds from the Python API
LIMIT_MB = 8  # the test server's upload limit


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The fake camera (30 frames of one digit scene at 640x480) and microphone (the
    shipped utterance at 48 kHz, framed in half a second of silence)."""
    folder = tmp_path_factory.mktemp("media")
    scene = digit_scene(640, 480, SCENE_SEED)
    camera = write_y4m(folder / "scene.y4m", [scene.image] * 30)
    wave, rate = sf.read(SPOKEN, dtype="float32")
    wave = librosa.resample(wave, orig_sr=rate, target_sr=48000)
    silence = np.zeros(24000, np.float32)
    microphone = folder / "digits.wav"
    sf.write(microphone, np.concatenate([silence, wave, silence]), 48000, subtype="PCM_16")
    return {"camera": camera, "microphone": microphone, "scene": scene}


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("screenshots")


@pytest.fixture(scope="module")
def studio(tmp_path_factory: pytest.TempPathFactory, media: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """{url, runs, driver}: the studio served from a thread, and one Chromium session."""
    reason = missing_browser()
    if reason:
        pytest.skip(f"browser tests need headless Chromium: {reason}")
    runs = tmp_path_factory.mktemp("runs")
    with serving(create_app(runs, max_upload_mb=LIMIT_MB)) as url:
        from neocog.apps.studio.headless import chromium

        driver = chromium(media["camera"], media["microphone"])
        driver.set_script_timeout(60)
        try:
            yield {"url": url, "runs": runs, "driver": driver}
        finally:
            driver.quit()


def open_page(studio: dict[str, Any], name: str) -> Any:
    driver = studio["driver"]
    if not driver.current_url.startswith(studio["url"]):
        driver.get(f"{studio['url']}/#{name}")
    else:
        driver.execute_script(f"location.hash = '{name}'")
    wait_for(driver, f"return document.querySelector('#page-{name}.active') !== null")
    return driver


def wait_for(driver: Any, script: str, timeout: float = 60) -> Any:
    """Poll `script` in the page until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = driver.execute_script(script)
        if value:
            return value
        time.sleep(0.2)
    errors = driver.execute_script("return window.studio.errors")
    raise AssertionError(f"timed out waiting for: {script} (page errors: {errors})")


def screenshot(driver: Any, shots: Path, name: str) -> None:
    driver.save_screenshot(str(shots / f"{name}.png"))
    assert (shots / f"{name}.png").stat().st_size > 5000


def text(driver: Any, element_id: str) -> str:
    return driver.find_element("id", element_id).text


def test_detect_page_boxes_the_fake_cameras_digits_live(studio: dict[str, Any], media: dict[str, Any],
                                                       shots: Path) -> None:
    driver = open_page(studio, "detect")
    driver.find_element("id", "detect-start").click()
    stats = wait_for(driver, "const s = window.studio.stats.detect; return s.frames >= 30 && s")
    screenshot(driver, shots, "detect")
    driver.find_element("id", "detect-stop").click()
    scene = media["scene"]
    assert stats["size"] == [640, 480] and stats["fps"] > 0 and stats["errors"] == 0
    found = stats["detections"]
    iou = box_iou(torch.from_numpy(scene.boxes), torch.tensor([d["box"] for d in found]))
    for i, label in enumerate(scene.labels):
        j = int(iou[i].argmax())
        assert iou[i, j] >= 0.5 and found[j]["label"] == str(label), (i, label, found)
    assert len(found) == len(scene.labels)
    assert "FPS end to end" in text(driver, "detect-stats")


def test_detect_page_draws_an_uploaded_image(studio: dict[str, Any], shots: Path) -> None:
    driver = open_page(studio, "detect")
    driver.find_element("id", "detect-file").send_keys(str(DETECT_ASSETS / "scene.jpg"))
    wait_for(driver, "return document.getElementById('detect-stats').textContent.endsWith('detections')")
    assert len(driver.find_elements("css selector", "#detect-list li")) >= 3
    screenshot(driver, shots, "detect_upload")


def draw_seven(driver: Any) -> None:
    from selenium.webdriver import ActionChains

    canvas = driver.find_element("id", "classify-canvas")
    actions = ActionChains(driver, duration=10)
    actions.move_to_element_with_offset(canvas, -70, -90).click_and_hold()
    for _ in range(7):
        actions.move_by_offset(20, 0)
    for _ in range(10):
        actions.move_by_offset(-8, 18)
    actions.release().perform()


def test_classify_page_reads_a_digit_drawn_with_the_mouse(studio: dict[str, Any], shots: Path) -> None:
    driver = open_page(studio, "classify")
    wait_for(driver, "return window.studio.stats.classify.volumes")
    draw_seven(driver)
    # busy: a drawing is being classified or queued; once it clears, the answer shown is
    # the one for the whole seven, not for a stroke on the way
    stats = wait_for(driver, "const s = window.studio.stats.classify; "
                             "return s.requests > 0 && !s.busy && s.label !== null && s")
    assert stats["label"] == "7", stats["probs"]
    loaded = driver.execute_script(
        "return [...document.querySelectorAll('#classify-maps img')].filter(i => i.naturalWidth > 0).length")
    assert loaded == stats["maps"] >= 5
    assert len(driver.find_elements("css selector", "#classify-volumes tr")) == stats["volumes"] + 2
    screenshot(driver, shots, "classify")


def test_bad_uploads_get_4xx_and_the_page_says_why(studio: dict[str, Any], tmp_path: Path,
                                                  shots: Path) -> None:
    driver = open_page(studio, "classify")
    notes = tmp_path / "notes.txt"
    notes.write_text("not an image\n")
    driver.find_element("id", "classify-file").send_keys(str(notes))
    wait_for(driver, "return document.getElementById('classify-error').textContent")
    assert text(driver, "classify-error").startswith("notes.txt: not a readable image")
    huge = tmp_path / "huge.png"
    with open(huge, "wb") as f:
        f.truncate((LIMIT_MB + 2) * 1_000_000)
    driver.find_element("id", "classify-file").send_keys(str(huge))
    wait_for(driver, "return document.getElementById('classify-error').textContent.includes('limit')")
    statuses = [e["status"] for e in driver.execute_script("return window.studio.errors")]
    assert statuses[-2:] == [400, 413]
    screenshot(driver, shots, "classify_bad_upload")
    traversal = driver.execute_async_script(
        "const done = arguments[0]; fetch('/api/runs/file?path=' + encodeURIComponent('../../etc/passwd'))"
        ".then(r => r.json().then(b => done([r.status, b.error])))")
    assert traversal[0] == 403 and "outside the runs folder" in traversal[1]
    host, port = studio["url"].removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    connection.putrequest("POST", "/api/classify")  # says 200 MB, sends a few bytes
    connection.putheader("Content-Type", "multipart/form-data; boundary=x")
    connection.putheader("Content-Length", str(200_000_000))
    connection.endheaders(b"--x\r\n")
    answer = connection.getresponse()
    assert answer.status == 413 and b"limit is 8 MB" in answer.read()
    driver.find_element("id", "classify-file").send_keys(str(SAMPLES / "digit_4.png"))
    wait_for(driver, "return window.studio.stats.classify.label === '4'")


def test_transcribe_page_hears_the_fake_microphone(studio: dict[str, Any], shots: Path) -> None:
    driver = open_page(studio, "transcribe")
    seconds = driver.find_element("id", "transcribe-seconds")
    seconds.clear()
    seconds.send_keys("4.5")
    driver.find_element("id", "transcribe-record").click()
    wait_for(driver, "return window.studio.stats.transcribe.text !== null", timeout=30)
    assert text(driver, "transcribe-text") == "seven nine zero one", driver.execute_script(
        "return window.studio.stats.transcribe")
    width = "return document.getElementById('transcribe-spectrogram').naturalWidth"
    assert driver.execute_script(width) > 100
    screenshot(driver, shots, "transcribe")


def test_convolution_page_maps_follow_the_filter(studio: dict[str, Any], shots: Path) -> None:
    driver = open_page(studio, "convolution")
    wait_for(driver, "return window.studio.stats.convolution.outputs > 0")
    wait_for(driver, "return document.querySelector('#conv-maps img')?.naturalWidth > 0")
    before = driver.execute_script("return window.studio.stats.convolution.range")
    cell = driver.find_elements("css selector", "#conv-kernel input")[4]
    cell.clear()
    cell.send_keys("6")
    after = driver.execute_script("return window.studio.stats.convolution")
    assert after["kernel"][1][1] == 6 and after["range"] != before
    from selenium.webdriver.support.ui import Select

    Select(driver.find_element("id", "conv-preset")).select_by_value("trained 0")
    trained = driver.execute_script("return window.studio.stats.convolution.kernel")
    assert len(trained) == len(trained[0]) >= 3
    screenshot(driver, shots, "convolution")


def test_wavenet_page_generates_a_wav_to_play_and_download(studio: dict[str, Any], shots: Path) -> None:
    driver = open_page(studio, "wavenet")
    wait_for(driver, "return document.getElementById('wavenet-label').options.length > 1")
    driver.find_element("id", "wavenet-generate").click()
    wait_for(driver, "return window.studio.stats.wavenet.made === 1", timeout=30)
    assert driver.execute_script("return window.studio.stats.wavenet.bytes") > 9000
    link = driver.find_element("id", "wavenet-download")
    assert link.get_attribute("download").endswith(".wav") and link.get_attribute("href").startswith("blob:")
    screenshot(driver, shots, "wavenet")


def test_teach_learns_the_camera_from_photos_and_saves_a_checkpoint(
        studio: dict[str, Any], media: dict[str, Any], shots: Path, tmp_path: Path) -> None:
    driver = open_page(studio, "teach")
    photos = sorted(CIFAR_SAMPLES.glob("*.jpg"))
    name = driver.find_element("id", "teach-class")
    name.clear()
    name.send_keys("photo")
    driver.find_element("id", "teach-files").send_keys("\n".join(str(p) for p in photos[:8]))
    name.clear()
    name.send_keys("camera")
    driver.find_element("id", "teach-capture").click()
    wait_for(driver, "return window.studio.stats.teach.examples === 13")
    driver.find_element("id", "teach-name").send_keys("mine")
    driver.find_element("id", "teach-train").click()
    stats = wait_for(driver, "const s = window.studio.stats.teach; return s.checkpoint && s")
    assert stats["checkpoint"] == "classify/mine/best.safetensors" and stats["names"] == ["photo", "camera"]
    driver.find_element("id", "teach-live").click()
    live = wait_for(driver, "const l = window.studio.stats.teach.live; return l.frames >= 3 && l")
    assert live["label"] == "camera"
    screenshot(driver, shots, "teach")
    driver.execute_script("location.hash = 'classify'")  # stops the live loop and the camera
    checkpoint = studio["runs"] / stats["checkpoint"]
    folder = tmp_path / "sources"
    folder.mkdir()
    shutil.copy(photos[0], folder / "photo.jpg")
    Image.fromarray(media["scene"].image).save(folder / "camera.png")
    out = subprocess.run([PYTHON, "-m", "neocog.apps.cli", "classify", "infer", "--weights",
                          str(checkpoint), "--source", str(folder)],
                         capture_output=True, text=True, check=True).stdout
    for name, label in (("photo.jpg", "photo"), ("camera.png", "camera")):
        assert f"{folder / name}: {label} (" in out, out


def test_runs_page_shows_runs_and_picks_a_checkpoint(studio: dict[str, Any], shots: Path) -> None:
    from neocog.core.visualize import plot_curves

    folder = studio["runs"] / "detect" / "exp"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "metrics.csv").write_text("epoch,seconds,loss,map\n1,3.0,2.5,0.1\n2,3.1,1.5,0.4\n")
    plot_curves(folder / "metrics.csv", folder / "curves.png")
    shutil.copy(DETECT_ASSETS / "digits_default.safetensors", folder / "best.safetensors")
    # Opening the page lists the runs folder as it is now (start() on a first visit, show()
    # on a later one): once, so the buttons found below are not replaced by a second listing.
    driver = open_page(studio, "runs")
    wait_for(driver, "return [...document.querySelectorAll('.run')].some(r => r.querySelector('h3')"
             ".textContent === 'detect / exp' && r.querySelector('img')?.naturalWidth > 0)")
    button = next(b for b in driver.find_elements("css selector", ".run button")
                  if "on Detect" in b.text)
    button.click()
    wait_for(driver, "return document.getElementById('detect-model').value === 'detect/exp/best.safetensors'")
    screenshot(driver, shots, "runs")
    print(f"screenshots: {shots}")
