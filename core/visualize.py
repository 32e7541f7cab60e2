"""Pictures the chapter teaches with: training curves, confusion matrices, first-layer
filters, a linear classifier's class templates and activation maps. All write PNG files
(matplotlib's Agg backend: no screen)."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 - the backend must be chosen first
import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import Tensor, nn  # noqa: E402


def plot_curves(metrics_csv: Path, out: Path) -> None:
    """One small plot per numeric column of metrics.csv against the epoch."""
    with open(metrics_csv, newline="") as f:
        rows = list(csv.DictReader(f))
    columns = [c for c in rows[0] if c not in ("epoch", "seconds")]
    epochs = [int(r["epoch"]) for r in rows]
    cols = min(3, len(columns))
    nrows = math.ceil(len(columns) / cols)
    fig, axes = plt.subplots(nrows, cols, figsize=(4 * cols, 3 * nrows), squeeze=False)
    for ax, name in zip(axes.flat, columns, strict=False):
        ax.plot(epochs, [float(r[name]) for r in rows], marker="o")
        ax.set_title(name)
        ax.set_xlabel("epoch")
    for ax in axes.flat[len(columns):]:
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(out, dpi=80, format="png")  # `out` may be a temp name without .png
    plt.close(fig)


def plot_confusion(matrix: np.ndarray, names: list[str], out: Path, title: str = "") -> None:
    """Confusion matrix, rows = true class, columns = predicted, counts in the cells."""
    n = len(names)
    fig, ax = plt.subplots(figsize=(max(4, 0.5 * n + 2), max(4, 0.5 * n + 2)))
    ax.imshow(matrix, cmap="Blues")
    # Names of more than a few letters ("automobile") run into each other side by side;
    # slanted, each ends under its own column.
    slant = 90 if n > 12 else 45 if max(map(len, names), default=0) > 4 else 0
    ax.set_xticks(range(n), names, rotation=slant, ha="right" if slant else "center",
                  va="center" if slant else "top", rotation_mode="anchor")
    ax.set_yticks(range(n), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    if n <= 30:
        high = matrix.max() / 2 if matrix.size else 0
        for i in range(n):
            for j in range(n):
                ax.text(j, i, int(matrix[i, j]), ha="center", va="center", fontsize=7,
                        color="white" if matrix[i, j] > high else "black")
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)


def tile(maps: Tensor, cols: int | None = None, shared_scale: bool = False) -> np.ndarray:
    """Tensor[N, H, W] (grey) or Tensor[N, H, W, 3] (RGB) -> one grid image
    (rows*(H+1)-1, cols*(W+1)-1[, 3]), each map scaled to [0, 1] on its own, or all by
    one scale with `shared_scale` (so that RGB kernels' colours compare)."""
    n, h, w = maps.shape[:3]
    cols = cols or math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    flat = maps.flatten(1)
    lo, hi = flat.min(1).values, flat.max(1).values
    if shared_scale:
        lo, hi = lo.min().expand(n), hi.max().expand(n)
    per_map = (n,) + (1,) * (maps.ndim - 1)  # broadcast one value over each map
    maps = (maps - lo.view(per_map)) / (hi - lo).clamp_min(1e-8).view(per_map)
    grid = np.ones((rows * (h + 1) - 1, cols * (w + 1) - 1, *maps.shape[3:]), dtype=np.float32)
    for i, m in enumerate(maps):
        r, c = divmod(i, cols)
        grid[r * (h + 1): r * (h + 1) + h, c * (w + 1): c * (w + 1) + w] = m.numpy()
    return grid


def save_grid(image: np.ndarray, out: Path, title: str) -> None:
    fig, ax = plt.subplots(figsize=(6, 6 * image.shape[0] / max(1, image.shape[1]) + 0.4))
    ax.imshow(image, cmap="gray" if image.ndim == 2 else None, interpolation="nearest")
    ax.set_title(title)
    ax.axis("off")
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)


def first_conv(model: nn.Module) -> nn.Conv2d:
    return next(m for m in model.modules() if isinstance(m, nn.Conv2d))


def plot_filters(model: nn.Module, out: Path) -> None:
    """The first conv layer's kernels, one tile per filter (input channels averaged
    for colour models; an RGB kernel is shown in colour)."""
    weight = first_conv(model).weight.detach().float().cpu()  # (C_out, C_in, k, k)
    if weight.shape[1] == 3:
        image = tile(weight.permute(0, 2, 3, 1), shared_scale=True)  # (C_out, k, k, 3)
    else:
        image = tile(weight.mean(1))
    save_grid(image, out, f"first-layer filters {tuple(weight.shape)}")


def plot_templates(weights: Tensor, names: list[str], out: Path, title: str = "") -> np.ndarray:
    """One panel per class of a linear classifier's weights Tensor[K, C, H, W] (C = 1
    grey, C = 3 RGB), titled with its name. Each panel is scaled on its own with 0 at
    mid-grey: brighter where a pixel's value votes for the class, darker where it votes
    against. Returns the panels drawn, in [0, 1]: (K, H, W) or (K, H, W, 3)."""
    weights = weights.detach().float().cpu()
    peak = weights.flatten(1).abs().max(1).values.clamp_min(1e-8)[:, None, None, None]
    panels = 0.5 + weights / (2 * peak)
    # (K, 1, H, W) -> (K, H, W) grey; (K, 3, H, W) -> (K, H, W, 3) as imshow wants RGB
    panels = panels[:, 0] if panels.shape[1] == 1 else panels.permute(0, 2, 3, 1)
    cols = min(len(names), 5)
    rows = math.ceil(len(names) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(2 * cols, 2 * rows + 0.4), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, panel, name in zip(axes.flat, panels.numpy(), names, strict=False):
        # vmin/vmax keep 0 at mid-grey (imshow would stretch a grey panel again); an RGB
        # panel ignores cmap and limits and is drawn as it is.
        ax.imshow(panel, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        ax.set_title(name)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return panels.numpy()


@torch.no_grad()
def activation_maps(model: nn.Module, image: Tensor) -> dict[str, Tensor]:
    """Output of every Conv2d for one input `image` (C, H, W): name -> Tensor[C_out, H', W']."""
    maps: dict[str, Tensor] = {}
    hooks = [m.register_forward_hook(lambda mod, inp, out, n=name: maps.__setitem__(n, out[0]))
             for name, m in model.named_modules() if isinstance(m, nn.Conv2d)]
    try:
        model.eval()(image[None])
    finally:
        for h in hooks:
            h.remove()
    return maps


def plot_activations(model: nn.Module, image: Tensor, out_dir: Path) -> list[Path]:
    """One PNG per conv layer with all its activation maps for `image`; returns the paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, (name, maps) in enumerate(activation_maps(model, image).items()):
        path = out_dir / f"activations_{i:02d}_{name.replace('.', '_')}.png"
        save_grid(tile(maps.float().cpu()), path, f"{name}: {tuple(maps.shape)}")
        paths.append(path)
    return paths
