"""On-the-fly digit images built from MNIST, as `../shared/data/benchmarks` makes them.

A smooth two-colour gradient background with Gaussian noise (sigma 0-12) and 0-3
straight clutter strokes; a digit is an MNIST digit cropped to its ink, rotated by up
to 15 degrees, scaled to a height of 20-80 px, drawn in a random ink colour that
contrasts with the background. Its box is the tight box of its ink.

The reusable core is `digit_alpha` (a digit -> an ink mask of a given height and
angle) and `paste_digit` (draw the mask on a canvas, return its tight box): a
localization image pastes one digit, a detection scene can paste several.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset

# Mask values at or above this count as ink for the tight box (anti-aliased edges
# below it are too faint to see on a noisy background).
INK_THRESHOLD = 0.25


@dataclass
class SceneStyle:
    size: int = 128  # square canvas side in pixels
    # Digit height range in pixels (the benchmark says 20-80; its tight ink boxes run
    # from 12 px, so the range starts lower).
    min_height: int = 14
    max_height: int = 80
    max_angle: float = 15.0  # degrees, either way
    max_noise: float = 12.0  # Gaussian noise sigma upper bound (0-255 scale)
    max_strokes: int = 3  # clutter strokes per image, 0..max
    min_contrast: float = 90.0  # least luminance gap between ink and background


def crop_to_ink(digit: np.ndarray) -> np.ndarray:
    """uint8 (H, W) -> the sub-array holding its nonzero pixels (the whole array if blank)."""
    rows, cols = np.nonzero(digit)
    if len(rows) == 0:
        return digit
    return digit[rows.min(): rows.max() + 1, cols.min(): cols.max() + 1]


def digit_alpha(digit: np.ndarray, height: int, angle: float) -> np.ndarray:
    """uint8 MNIST digit (H, W) -> float32 ink mask (h, w) in [0, 1] whose ink is
    `height` px tall, rotated by `angle` degrees (counter-clockwise), cropped to ink."""
    ink = crop_to_ink(digit).astype(np.float32) / 255
    h, w = ink.shape
    # Rotate first (on a canvas big enough for any angle), then scale the rotated ink.
    side = int(np.ceil(np.hypot(h, w))) + 2
    canvas = np.zeros((side, side), np.float32)
    y0, x0 = (side - h) // 2, (side - w) // 2
    canvas[y0: y0 + h, x0: x0 + w] = ink
    matrix = cv2.getRotationMatrix2D((side / 2, side / 2), angle, 1.0)
    rotated = crop_to_ink(cv2.warpAffine(canvas, matrix, (side, side), flags=cv2.INTER_LINEAR))
    scale = height / rotated.shape[0]
    new_w = max(1, round(rotated.shape[1] * scale))
    mode = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    return np.clip(cv2.resize(rotated, (new_w, height), interpolation=mode), 0, 1)


def paste_digit(canvas: np.ndarray, alpha: np.ndarray, x: int, y: int,
                colour: np.ndarray) -> np.ndarray:
    """Blend `colour` into float32 canvas (H, W, 3) through `alpha` (h, w) at top-left
    (x, y), in place; return the ink's tight box, float32 (4,) xyxy (x2, y2 exclusive)."""
    h, w = alpha.shape
    region = canvas[y: y + h, x: x + w]
    region *= 1 - alpha[:, :, None]
    region += alpha[:, :, None] * colour
    rows, cols = np.nonzero(alpha >= INK_THRESHOLD)
    if len(rows) == 0:  # a faint mask: fall back to its frame
        return np.array([x, y, x + w, y + h], np.float32)
    return np.array([x + cols.min(), y + rows.min(), x + cols.max() + 1, y + rows.max() + 1],
                    np.float32)


def luminance(colour: np.ndarray) -> float:
    return float(colour @ np.array([0.299, 0.587, 0.114]))


def gradient_background(size: int, rng: np.random.Generator) -> np.ndarray:
    """float32 (size, size, 3): two random colours blended along a random direction."""
    a, b = rng.uniform(0, 255, 3).astype(np.float32), rng.uniform(0, 255, 3).astype(np.float32)
    theta = rng.uniform(0, 2 * np.pi)
    ramp = np.linspace(0, 1, size, dtype=np.float32)
    t = ramp[None, :] * np.cos(theta) + ramp[:, None] * np.sin(theta)  # (size, size)
    t = (t - t.min()) / max(1e-6, float(t.max() - t.min()))
    return a + (b - a) * t[:, :, None]


def contrasting_colour(background: np.ndarray, min_contrast: float,
                       rng: np.random.Generator) -> np.ndarray:
    """A random RGB colour whose luminance differs from the background's mean by at least
    `min_contrast` (after 50 tries: black or white, whichever is farther)."""
    base = luminance(background.reshape(-1, 3).mean(0))
    for _ in range(50):
        colour = rng.uniform(0, 255, 3)
        if abs(luminance(colour) - base) >= min_contrast:
            return colour
    return np.zeros(3) if base > 127 else np.full(3, 255.0)


def draw_strokes(canvas: np.ndarray, count: int, rng: np.random.Generator) -> None:
    """Draw `count` straight anti-aliased lines of random colour and width, in place."""
    size = canvas.shape[0]
    for _ in range(count):
        p1 = tuple(int(v) for v in rng.integers(0, size, 2))
        p2 = tuple(int(v) for v in rng.integers(0, size, 2))
        colour = tuple(float(v) for v in rng.uniform(0, 255, 3))
        cv2.line(canvas, p1, p2, colour, int(rng.integers(1, 4)), cv2.LINE_AA)


def finish(canvas: np.ndarray, noise: float, rng: np.random.Generator) -> np.ndarray:
    """Add Gaussian noise of std `noise`; float32 canvas -> uint8 image."""
    if noise > 0:
        canvas = canvas + noise * rng.standard_normal(canvas.shape, dtype=np.float32)
    return np.clip(canvas, 0, 255).round().astype(np.uint8)


def render_single_digit(digit: np.ndarray, style: SceneStyle,
                        rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """One localization image: uint8 (size, size, 3) RGB and the digit's box, float32 (4,) xyxy."""
    canvas = gradient_background(style.size, rng)
    draw_strokes(canvas, int(rng.integers(0, style.max_strokes + 1)), rng)
    height = int(rng.integers(style.min_height, style.max_height + 1))
    alpha = digit_alpha(digit, height, rng.uniform(-style.max_angle, style.max_angle))
    alpha = alpha[: style.size, : style.size]  # a wide, tall digit could overflow
    x = int(rng.integers(0, style.size - alpha.shape[1] + 1))
    y = int(rng.integers(0, style.size - alpha.shape[0] + 1))
    colour = contrasting_colour(canvas[y: y + alpha.shape[0], x: x + alpha.shape[1]],
                                style.min_contrast, rng)
    box = paste_digit(canvas, alpha, x, y, colour)
    return finish(canvas, rng.uniform(0, style.max_noise), rng), box


class DigitLocateDataset(Dataset):
    """`length` generated images -> (uint8 (S, S, 3), label int, box float32 (4,) xyxy).

    `fixed=True` draws image i from (seed, i) alone: the same set every pass (for
    validation). Otherwise image i also depends on torch's seed, which the trainer
    re-seeds every epoch (and DataLoader per worker), so each epoch sees new images.
    """

    def __init__(self, digits: np.ndarray, labels: np.ndarray, length: int,
                 style: SceneStyle | None = None, seed: int = 0, fixed: bool = False) -> None:
        self.digits, self.labels, self.length = digits, labels, length
        self.style = style or SceneStyle()
        self.seed, self.fixed = seed, fixed

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, i: int) -> tuple[np.ndarray, int, np.ndarray]:
        entropy = [self.seed, i] if self.fixed else [self.seed, i, torch.initial_seed()]
        rng = np.random.default_rng(entropy)
        k = int(rng.integers(len(self.digits)))
        image, box = render_single_digit(self.digits[k], self.style, rng)
        return image, int(self.labels[k]), box
