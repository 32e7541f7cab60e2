"""The head contract and TaskModel = backbone + head.

A head has three explicit methods and never changes a return type with
`self.training` (the split of torchvision's `fcos.py`, without its mode switch):

- `forward(features: list[Tensor]) -> raw`: raw outputs (logits, box regressions...);
  a head whose `sees_input` is True is called `forward(features, image)`, for a second
  stage that crops the input pixels (as Faster R-CNN's RoI heads are given the images)
- `loss(raw, targets) -> dict[str, Tensor]`: named losses; the key "loss" is the total
- `predict(raw) -> list`: one result per input, in the task's own result type
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import asdict
from typing import Any, ClassVar

from torch import Tensor, nn

from .backbones import Backbone, BackboneConfig, FeatureInfo, build_backbone
from .errors import NeocogError
from .registry import HEADS, MODELS


class Head(nn.Module, ABC):
    """Base class of every task head; subclasses set `Config` (a dataclass) and `name`."""

    Config: ClassVar[type]
    name: ClassVar[str]
    sees_input: ClassVar[bool] = False

    def __init__(self, config: Any, feature_info: list[FeatureInfo]) -> None:
        super().__init__()
        self.config = config
        self.feature_info = feature_info

    @abstractmethod
    def forward(self, features: list[Tensor]) -> Any: ...

    @abstractmethod
    def loss(self, raw: Any, targets: Any) -> dict[str, Tensor]: ...

    @abstractmethod
    def predict(self, raw: Any) -> list[Any]: ...


class TaskModel(nn.Module):
    """backbone -> head. `spec()` is the JSON that rebuilds it (stored in checkpoints)."""

    def __init__(self, task: str, backbone: Backbone, head: Head) -> None:
        super().__init__()
        self.task = task
        self.backbone = backbone
        self.head = head

    def forward(self, x: Tensor) -> Any:
        features = self.backbone(x)
        return self.head(features, x) if self.head.sees_input else self.head(features)

    def loss(self, raw: Any, targets: Any) -> dict[str, Tensor]:
        return self.head.loss(raw, targets)

    def predict(self, raw: Any) -> list[Any]:
        return self.head.predict(raw)

    def spec(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "backbone": self.backbone.config.to_dict(),
            "head": {"name": self.head.name, "config": asdict(self.head.config)},
        }


def build_model(task: str, backbone: BackboneConfig, head_name: str, head_config: Any) -> TaskModel:
    """Build a TaskModel from configs; the head sizes itself from `feature_info`."""
    net = build_backbone(backbone)
    head_cls = HEADS.get(head_name)
    return TaskModel(task, net, head_cls(head_config, net.feature_info))


def model_from_spec(spec: dict[str, Any]) -> TaskModel:
    """Inverse of `TaskModel.spec()`; never downloads weights (they come from the file).
    A spec with a "model" key names a whole model registered in MODELS instead."""
    if "model" in spec:
        try:
            return MODELS.get(spec["model"]).from_spec(spec)
        except (KeyError, TypeError) as err:
            raise NeocogError(f"model spec is incomplete or unknown: {err}") from None
    try:
        backbone = BackboneConfig(**{**spec["backbone"], "pretrained": False})
        head_cls = HEADS.get(spec["head"]["name"])
        head_config = head_cls.Config(**spec["head"]["config"])
    except (KeyError, TypeError) as err:
        raise NeocogError(f"model spec is incomplete or unknown: {err}") from None
    return build_model(spec["task"], backbone, spec["head"]["name"], head_config)
