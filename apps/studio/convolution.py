"""Convolution page (the chapter's demo): the shipped MNIST digits as the model sees
them, its trained first-layer filters, and all the first layer's maps of a digit. The
page convolves a digit with the filter being edited itself, as the reader types."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request

from neocog.apps.classification import Classifier
from neocog.apps.demo import SAMPLES
from neocog.core.errors import NeocogError
from neocog.core.visualize import first_conv

from .classify import backbone_maps
from .encode import maps_url

router = APIRouter(prefix="/api/convolution")


def sample_digits() -> list[Path]:
    """The shipped MNIST sample files, in the order the page numbers them."""
    return sorted(SAMPLES.glob("*.png"))


@router.get("")
def digits_and_filters(request: Request, weights: str = "") -> dict[str, Any]:
    """Each sample digit as the model's normalised input (H x W, channels averaged) and
    each first-layer kernel (k x k, averaged over input channels, as `plot_filters` draws)."""
    loaded = request.app.state.studio.models.get("classify", weights)
    clf: Classifier = loaded.predictor
    conv = first_conv(clf.model)
    kernels = conv.weight.detach().float().cpu().mean(1)  # (C_out, C_in, k, k) -> (C_out, k, k)
    digits = [{"name": p.stem, "pixels": clf.prepare(p).mean(0).tolist()} for p in sample_digits()]
    return {"digits": digits, "filters": kernels.tolist(), "stride": list(conv.stride),
            "padding": list(conv.padding) if isinstance(conv.padding, tuple) else conv.padding}


@router.get("/maps")
def first_layer_maps(request: Request, digit: int = 0, weights: str = "") -> dict[str, Any]:
    """All of the first conv layer's activation maps of sample `digit`, as one grid."""
    files = sample_digits()
    if not 0 <= digit < len(files):
        raise NeocogError(f"digit {digit}: expected 0..{len(files) - 1}")
    loaded = request.app.state.studio.models.get("classify", weights)
    clf: Classifier = loaded.predictor
    with loaded.lock:
        maps = backbone_maps(clf, files[digit])
    name, first = next(iter(maps.items()))
    return {"layer": name, "shape": list(first.shape), "url": maps_url(first)}
