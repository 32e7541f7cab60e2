"""On-the-fly multi-digit detection scenes, made like ../shared/data/benchmarks/digit_scenes_val.

A scene is a smooth two-colour gradient with Gaussian noise (sigma 0-12) and 0-3 straight
clutter strokes; on it 1-6 MNIST digits, each cropped to its ink, rotated by up to 15
degrees, scaled to a height of 24-96 px, drawn in a random ink colour that contrasts with
the background, and placed without touching another digit. A box is the tight ink box.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

INK_THRESHOLD = 0.25  # alpha above which a pixel counts as ink for the tight box
MIN_CONTRAST = 90.0  # least |luma(ink) - luma(background)| on a 0-255 scale


@dataclass
class SceneConfig:
    size: int = 320  # square scene side in pixels
    min_digits: int = 1
    max_digits: int = 6
    min_height: int = 24  # digit height range in pixels
    max_height: int = 96
    max_rotation: float = 15.0  # degrees
    max_noise: float = 12.0  # Gaussian noise sigma range 0..max_noise
    max_strokes: int = 3
    jpeg: bool = True  # round-trip through JPEG (quality 75-95) like the benchmark files


@dataclass
class Scene:
    image: np.ndarray  # uint8 (size, size, 3) RGB
    boxes: np.ndarray  # float32 (N, 4) xyxy in pixels, tight ink boxes
    labels: np.ndarray  # int64 (N,) digit 0-9


def luma(rgb: np.ndarray) -> np.ndarray:
    return rgb @ np.array([0.299, 0.587, 0.114])


def gradient(size: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A smooth linear blend of two random colours -> (float32 (S, S, 3), the two colours)."""
    colours = rng.uniform(0, 255, (2, 3))
    angle = rng.uniform(0, 2 * np.pi)
    axis = np.arange(size, dtype=np.float32) / max(1, size - 1)
    t = axis[None, :] * np.float32(np.cos(angle)) + axis[:, None] * np.float32(np.sin(angle))
    t = (t - t.min()) / max(1e-6, float(t.max() - t.min()))  # (S, S) in [0, 1]
    c0, c1 = colours.astype(np.float32)
    return c0 + t[..., None] * (c1 - c0), colours


def contrasting_ink(background: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A random RGB colour whose luma differs from every colour in `background` (K, 3)
    by at least MIN_CONTRAST; the extreme (black or white) if none is found."""
    for _ in range(50):
        ink = rng.uniform(0, 255, 3)
        if np.all(np.abs(luma(background) - luma(ink)) >= MIN_CONTRAST):
            return ink
    return np.zeros(3) if luma(background).mean() > 127 else np.full(3, 255.0)


def crop_to_ink(alpha: np.ndarray) -> np.ndarray:
    """Crop a float (H, W) alpha map to the rows/columns holding ink."""
    rows, cols = np.nonzero(alpha > INK_THRESHOLD)
    if len(rows) == 0:
        return alpha
    return alpha[rows.min(): rows.max() + 1, cols.min(): cols.max() + 1]


def prepare_digit(digit: np.ndarray, height: int, angle: float) -> np.ndarray:
    """uint8 MNIST (28, 28) -> float alpha (h, w): cropped, rotated by `angle`, scaled so
    its ink is `height` px high, cropped again."""
    alpha = crop_to_ink(digit.astype(np.float32) / 255)
    h, w = alpha.shape
    pad = int(np.ceil(0.5 * np.hypot(h, w))) + 1
    alpha = cv2.copyMakeBorder(alpha, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0)
    centre = (alpha.shape[1] / 2, alpha.shape[0] / 2)
    rot = cv2.getRotationMatrix2D(centre, angle, 1.0)
    alpha = crop_to_ink(cv2.warpAffine(alpha, rot, alpha.shape[::-1], flags=cv2.INTER_LINEAR))
    scale = height / alpha.shape[0]
    size = (max(1, round(alpha.shape[1] * scale)), height)
    return np.clip(cv2.resize(alpha, size, interpolation=cv2.INTER_LINEAR), 0, 1)


def place(shape: tuple[int, int], size: int, taken: list[np.ndarray],
          rng: np.random.Generator) -> tuple[int, int] | None:
    """Top-left (x, y) for a (h, w) patch that keeps >= 2 px from every taken box."""
    h, w = shape
    if h > size or w > size:
        return None
    for _ in range(30):
        x, y = int(rng.integers(0, size - w + 1)), int(rng.integers(0, size - h + 1))
        box = np.array([x - 2, y - 2, x + w + 2, y + h + 2])
        if all(box[0] >= t[2] or box[2] <= t[0] or box[1] >= t[3] or box[3] <= t[1]
               for t in taken):
            return x, y
    return None


def add_clutter(image: np.ndarray, cfg: SceneConfig, rng: np.random.Generator) -> None:
    """Draw 0-max_strokes straight lines of random colour and width, in place."""
    for _ in range(int(rng.integers(0, cfg.max_strokes + 1))):
        p1 = tuple(int(v) for v in rng.integers(0, cfg.size, 2))
        p2 = tuple(int(v) for v in rng.integers(0, cfg.size, 2))
        colour = tuple(float(c) for c in rng.uniform(0, 255, 3))
        cv2.line(image, p1, p2, colour, int(rng.integers(1, 3)), cv2.LINE_AA)


def make_scene(digits: np.ndarray, labels: np.ndarray, cfg: SceneConfig,
               rng: np.random.Generator) -> Scene:
    """One scene from MNIST `digits` uint8 (N, 28, 28) with `labels` (N,)."""
    image, colours = gradient(cfg.size, rng)
    strokes_on_top = rng.random() < 0.5  # clutter may cross the digits too
    if not strokes_on_top:
        add_clutter(image, cfg, rng)
    boxes, classes = [], []
    for _ in range(int(rng.integers(cfg.min_digits, cfg.max_digits + 1))):
        i = int(rng.integers(len(digits)))
        alpha = prepare_digit(digits[i], int(rng.integers(cfg.min_height, cfg.max_height + 1)),
                              float(rng.uniform(-cfg.max_rotation, cfg.max_rotation)))
        spot = place(alpha.shape, cfg.size, boxes, rng)
        if spot is None:
            continue
        x, y = spot
        h, w = alpha.shape
        ink = contrasting_ink(colours, rng)
        rows, cols = np.nonzero(alpha > INK_THRESHOLD)
        # Soften the strokes a little: upscaled MNIST in the benchmark scenes looks blurred.
        soft = cv2.GaussianBlur(alpha, (0, 0), float(rng.uniform(0.3, 1.2)))
        region = image[y: y + h, x: x + w]
        region[:] = region * (1 - soft[..., None]) + ink * soft[..., None]
        boxes.append(np.array([x + cols.min(), y + rows.min(), x + cols.max() + 1,
                               y + rows.max() + 1], dtype=np.float32))
        classes.append(int(labels[i]))
    if strokes_on_top:
        add_clutter(image, cfg, rng)
    noise = np.empty_like(image)
    cv2.setRNGSeed(int(rng.integers(2**31)))  # cv2's own generator, seeded from ours
    cv2.randn(noise, 0.0, float(rng.uniform(0, cfg.max_noise)))  # much faster than numpy's
    image += noise
    out = np.clip(image, 0, 255).astype(np.uint8)
    if cfg.jpeg:
        ok, buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(75, 96))])
        out = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)  # channel order is kept as given
    return Scene(out, np.array(boxes, dtype=np.float32).reshape(-1, 4),
                 np.array(classes, dtype=np.int64))
