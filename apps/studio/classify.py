"""Classify page: an image (a drawing or a photo) -> label, probabilities, every conv
layer's activation maps; and the model's volume table (the `neocog inspect` arithmetic)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, UploadFile
from torch import Tensor

from neocog.apps.classification import Classifier
from neocog.apps.inspect import own_input, parse_shape
from neocog.core.shapes import volume_table, whd
from neocog.core.visualize import activation_maps
from neocog.datasets.images import read_image

from .encode import maps_url
from .safety import FormFlag, FormText, saved_upload

router = APIRouter(prefix="/api/classify")


def backbone_maps(clf: Classifier, image: Any) -> dict[str, Tensor]:
    """A path or uint8 image -> each conv layer's name -> its maps Tensor[C_out, H', W'],
    run in fp32 on whatever device the model is on."""
    device = next(clf.model.parameters()).device
    return activation_maps(clf.model.backbone, clf.prepare(image).to(device))


def layer_maps(clf: Classifier, image: Any) -> list[dict[str, Any]]:
    """Every conv layer's activation maps of the backbone for one image, as PNG grids."""
    maps = backbone_maps(clf, image)
    return [{"layer": name, "shape": list(m.shape), "url": maps_url(m)} for name, m in maps.items()]


@router.post("")
def classify(request: Request, file: UploadFile, weights: FormText = "",
             maps: FormFlag = True) -> dict[str, Any]:
    loaded = request.app.state.studio.models.get("classify", weights)
    clf: Classifier = loaded.predictor
    with saved_upload(file, "image.png") as path:
        image = read_image(path, clf.pre.channels)
    with loaded.lock:
        prediction = clf.predictions([image])[0]
        layers = layer_maps(clf, image) if maps else []
    probs = prediction.probs.tolist()
    return {"label": clf.names[prediction.index], "score": prediction.score,
            "probs": [{"name": n, "p": p} for n, p in zip(clf.names, probs, strict=True)],
            "maps": layers}


@router.get("/volumes")
def volumes(request: Request, weights: str = "") -> dict[str, Any]:
    """The whole model's rows for its own input: layer, kind, output W x H x D, params, MACs."""
    loaded = request.app.state.studio.models.get("classify", weights)
    model = loaded.predictor.model
    shape = parse_shape(own_input(loaded.predictor.header, model.backbone.config.in_channels))
    with loaded.lock:
        rows = volume_table(model, shape)
    return {"input": whd(shape), "params": sum(p.numel() for p in model.parameters()),
            "rows": [{"layer": r.name, "kind": r.kind, "output": whd(r.out_shape),
                      "params": r.params, "macs": r.macs} for r in rows]}
