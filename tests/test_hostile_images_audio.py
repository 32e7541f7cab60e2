"""Careless or hostile image and audio files (issue 19): every Pillow mode reads as the
picture it shows, a decompression bomb is refused, and a WAV's header is not believed
blindly. All files are real ones, written here with Pillow and soundfile."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from PIL import Image

from neocog.core.errors import NeocogError
from neocog.datasets.audio import MAX_KERNEL, MAX_SAMPLES, kernel_rates, read_audio, resample
from neocog.datasets.images import read_image

# ---------------------------------------------------------------- images

RAMP = np.tile(np.linspace(0, 255, 32).round().astype(np.uint8), (24, 1))  # (24, 32) grey
BARS = np.zeros((24, 32, 3), np.uint8)  # (24, 32, 3): eight colour bars, 4 px wide
for i in range(8):
    BARS[:, 4 * i: 4 * i + 4] = [255 * (i & 1), 255 * (i >> 1 & 1), 160 * (i >> 2 & 1)]


def grey_rgb(grey: np.ndarray) -> np.ndarray:
    return np.repeat(grey[..., None], 3, axis=2)  # (H, W) -> (H, W, 3)


def opaque(channels: np.ndarray) -> np.ndarray:
    return np.dstack([channels, np.full(channels.shape[:2], 255, np.uint8)])  # + alpha 255


# mode -> (suffix, the picture in that mode, its 8-bit RGB rendering). Every file is the
# same picture: the grey ramp for grey modes, the colour bars for colour ones.
PICTURES = {
    "1": (".png", lambda: Image.fromarray(RAMP >= 128), lambda: grey_rgb((RAMP >= 128) * 255)),
    "L": (".png", lambda: Image.fromarray(RAMP), lambda: grey_rgb(RAMP)),
    "LA": (".png", lambda: Image.fromarray(opaque(RAMP), "LA"), lambda: grey_rgb(RAMP)),
    "P": (".png", lambda: Image.fromarray(BARS).quantize(8), lambda: BARS),
    "RGB": (".png", lambda: Image.fromarray(BARS), lambda: BARS),
    "RGBA": (".png", lambda: Image.fromarray(opaque(BARS), "RGBA"), lambda: BARS),
    "CMYK": (".tif", lambda: Image.fromarray(BARS).convert("CMYK"), lambda: BARS),
    # Wider than 8 bits: the same grey levels at 16-bit scale (v * 257: 255 -> 65535).
    "I;16": (".png", lambda: Image.fromarray(RAMP.astype(np.uint16) * 257), lambda: grey_rgb(RAMP)),
    "I": (".tif", lambda: Image.fromarray(RAMP.astype(np.int32) * 257), lambda: grey_rgb(RAMP)),
    "F": (".tif", lambda: Image.fromarray(RAMP.astype(np.float32)), lambda: grey_rgb(RAMP)),
}


def differs(a: np.ndarray, b: np.ndarray) -> int:
    return int(np.abs(a.astype(int) - b.astype(int)).max())


@pytest.mark.parametrize("mode", list(PICTURES))
def test_every_pillow_mode_reads_as_its_8bit_rgb_rendering(tmp_path, mode):
    suffix, make, rendering = PICTURES[mode]
    path = tmp_path / f"picture{suffix}"
    make().save(path)
    with Image.open(path) as img:
        assert img.mode == mode  # the file really holds this mode
    expected = rendering().astype(np.uint8)
    assert differs(read_image(path, 3), expected) <= 1
    grey = np.asarray(Image.fromarray(expected).convert("L"))
    assert differs(read_image(path, 1), grey) <= 1


def test_a_16_bit_mid_grey_is_scaled_not_clipped_to_white(tmp_path):
    path = tmp_path / "grey16.png"
    Image.fromarray(np.full((4, 4), 128 * 257, np.uint16)).save(path)  # 16-bit mid-grey
    assert set(read_image(path, 1).ravel()) == {128}


def ink_on_transparent_canvas() -> tuple[np.ndarray, np.ndarray]:
    """(black ink mask (24, 32) bool, what it reads as: black ink on white (24, 32, 3))."""
    ink = np.zeros((24, 32), bool)
    ink[4:20, 14:18] = True  # a "1"
    return ink, grey_rgb(np.where(ink, 0, 255).astype(np.uint8))


def transparent(mode: str, ink: np.ndarray) -> tuple[Image.Image, dict]:
    """Black ink on a fully transparent black canvas, in `mode` (+ save options)."""
    alpha = np.where(ink, 255, 0).astype(np.uint8)
    black = np.zeros_like(alpha)
    if mode == "LA":
        return Image.fromarray(np.dstack([black, alpha]), "LA"), {}
    if mode == "RGBA":
        return Image.fromarray(np.dstack([black, black, black, alpha]), "RGBA"), {}
    # P and L: the canvas is a transparent colour (a PNG tRNS chunk), not an alpha plane.
    image = Image.fromarray(np.where(ink, 0, 1).astype(np.uint8), "L")
    if mode == "P":
        image = image.convert("P")
    return image, {"transparency": 1}


@pytest.mark.parametrize("mode", ["RGBA", "LA", "P", "L"])
def test_ink_on_a_transparent_canvas_reads_as_ink_on_white(tmp_path, mode):
    ink, expected = ink_on_transparent_canvas()
    image, options = transparent(mode, ink)
    path = tmp_path / f"ink_{mode}.png"
    image.save(path, **options)
    assert differs(read_image(path, 3), expected) == 0
    assert differs(read_image(path, 1), expected[..., 0]) == 0


def png_claiming(width: int, height: int) -> bytes:
    """A real 1x1 PNG whose IHDR is rewritten to claim width x height (CRC fixed)."""
    raw = bytearray(b"\x89PNG\r\n\x1a\n")
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit grey
    for kind, body in ((b"IHDR", ihdr), (b"IDAT", zlib.compress(b"\x00\x00")), (b"IEND", b"")):
        raw += struct.pack(">I", len(body)) + kind + body
        raw += struct.pack(">I", zlib.crc32(kind + body))
    return bytes(raw)


def test_a_png_claiming_ten_billion_pixels_is_refused_in_one_line(tmp_path):
    path = tmp_path / "bomb.png"
    path.write_bytes(png_claiming(100_000, 100_000))
    with pytest.raises(NeocogError) as err:
        read_image(path)  # refused from the header: decoding 10 GB would not come back
    assert str(err.value).startswith(f"{path}: refused, too many pixels")
    assert "\n" not in str(err.value)


def test_an_image_just_over_the_pixel_limit_is_refused_not_only_warned(tmp_path, monkeypatch):
    path = tmp_path / "big.png"
    Image.fromarray(RAMP).save(path)  # 768 pixels
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 500)  # Pillow warns over 500, raises over 1000
    with pytest.raises(NeocogError, match="big.png: refused, too many pixels"):
        read_image(path)


# ---------------------------------------------------------------- audio


def tone(seconds: float = 0.5, rate: int = 8000) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)


def test_a_truncated_wav_is_refused_naming_the_file(tmp_path):
    path = tmp_path / "cut.wav"
    sf.write(path, tone(), 8000, subtype="PCM_16")
    whole = path.read_bytes()
    path.write_bytes(whole[: len(whole) // 2])  # the header still promises every sample
    with pytest.raises(NeocogError) as err:
        read_audio(path, 8000)
    assert str(err.value) == (f"{path}: truncated: its header promises 8000 bytes of samples, "
                              f"the file holds {len(whole) // 2 - 44}")


def test_a_wav_with_chunks_after_its_data_is_not_truncated(tmp_path):
    path = tmp_path / "tagged.wav"
    sf.write(path, tone(), 8000, subtype="PCM_16")
    with open(path, "ab") as f:  # a LIST chunk after the samples, as tagging tools append
        f.write(b"LIST" + struct.pack("<I", 4) + b"INFO")
    assert len(read_audio(path, 8000).samples) == 4000


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_or_infinite_samples_are_an_error_naming_the_file(tmp_path, bad):
    path = tmp_path / "nan.wav"
    wave = tone()
    wave[100:103] = bad
    sf.write(path, wave, 8000, subtype="FLOAT")
    with pytest.raises(NeocogError, match="nan.wav: 3 samples are NaN or infinite"):
        read_audio(path, 8000)


def test_anti_phase_stereo_reads_as_its_louder_channel_not_as_silence(tmp_path):
    path = tmp_path / "antiphase.wav"
    wave = tone()
    sf.write(path, np.stack([wave, -0.9 * wave], axis=1), 8000, subtype="FLOAT")
    audio = read_audio(path, 8000)
    assert np.allclose(audio.samples, wave)
    assert audio.note == (f"{path}: 2 channels cancelling in their mix (anti-phase), "
                          "channel 0 kept to mono 8000 Hz")


def test_stereo_with_one_channel_silent_is_still_mixed(tmp_path):
    path = tmp_path / "left.wav"
    wave = tone()
    sf.write(path, np.stack([wave, 0 * wave], axis=1), 8000, subtype="FLOAT")
    audio = read_audio(path, 8000)
    assert np.allclose(audio.samples, wave / 2)
    assert audio.note == f"{path}: 2 channels to mono 8000 Hz"


def test_a_header_claiming_1_hz_is_refused_before_resampling(tmp_path):
    path = tmp_path / "one_hz.wav"
    sf.write(path, tone(), 1, subtype="PCM_16")  # 4000 samples "at 1 Hz": 9 hours at 8 kHz
    with pytest.raises(NeocogError, match="one_hz.wav: a sample rate of 1 Hz, below 1000 Hz"):
        read_audio(path, 8000)


def test_a_file_longer_than_the_limit_is_refused_before_it_is_decoded(tmp_path, monkeypatch):
    import neocog.datasets.audio as audio

    path = tmp_path / "long.wav"
    sf.write(path, tone(1.0), 8000, subtype="PCM_16")
    monkeypatch.setattr(audio, "MAX_SAMPLES", 4000)
    monkeypatch.setattr(audio.sf, "read", None)  # decoding it at all would fail the test
    with pytest.raises(NeocogError, match="long.wav: 8000 frames x 1 channels is over the 4000"):
        read_audio(path, 8000)


def test_resampling_refuses_a_result_over_the_limit():
    wave = np.ones(MAX_SAMPLES // 4, np.float32)
    with pytest.raises(NeocogError, match="waveform: .* over the"):
        resample(wave, 1000, 8000, "waveform")  # 8x longer


def test_a_rate_with_no_small_ratio_to_the_target_resamples_quickly(tmp_path):
    """44101 -> 8000 Hz exactly needs a 8000 x 44101 kernel (12 s, 6 GB in torchaudio)."""
    path = tmp_path / "odd_rate.wav"
    sf.write(path, tone(1.0, 44101), 44101, subtype="PCM_16")
    low, high = kernel_rates(44101, 8000)  # what torchaudio is handed: a small kernel
    assert low * high <= MAX_KERNEL and abs(high / low - 8000 / 44101) < 5e-4 * 8000 / 44101
    audio = read_audio(path, 8000)
    assert abs(len(audio.samples) - 8000) <= 2
    spectrum = np.abs(np.fft.rfft(audio.samples))
    assert abs(int(spectrum.argmax()) - 440) <= 1  # still a 440 Hz tone (1 Hz bins)


def test_the_truncation_check_reads_headers_not_names(tmp_path: Path):
    """A FLAC file named .wav has no RIFF header to check: it reads as FLAC."""
    flac = tmp_path / "really_flac.wav"
    sf.write(flac, tone(), 8000, format="FLAC")
    assert len(read_audio(flac, 8000).samples) == 4000
