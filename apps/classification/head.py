"""Classification head: pooled features -> (hidden FC) -> class logits."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from neocog.core.backbones import FeatureInfo
from neocog.core.errors import NeocogError
from neocog.core.heads import Head
from neocog.core.registry import HEADS


@dataclass
class ClassifierConfig:
    num_classes: int = 10
    pool: int = 1  # adaptive-average-pool the last map to pool x pool (LeNet: 3 -> 3x3xD)
    hidden: int = 0  # width of a hidden FC layer (LeNet's first FC); 0 = one linear layer
    dropout: float = 0.1
    label_smoothing: float = 0.1  # softens the one-hot target (Szegedy et al. 2016)
    pooling: str = "avg"  # "avg" or "max" over the last map (airbench's CIFAR net: max)
    # Logits times this. Below 1 it slows the last layer's effective learning rate, as
    # the 1/8 of Page's DAWNBench ResNet and the 1/9 of airbench do.
    logit_scale: float = 1.0


POOLS = {"avg": nn.AdaptiveAvgPool2d, "max": nn.AdaptiveMaxPool2d}


@dataclass
class ClassPrediction:
    index: int
    score: float  # softmax probability of `index`
    probs: Tensor  # (num_classes,)


@HEADS.register("classify")
class ClassifierHead(Head):
    Config = ClassifierConfig
    name = "classify"

    def __init__(self, config: ClassifierConfig, feature_info: list[FeatureInfo]) -> None:
        super().__init__(config, feature_info)
        c = feature_info[-1].channels
        if config.pooling not in POOLS:
            raise NeocogError(f"head pooling '{config.pooling}': expected one of {sorted(POOLS)}")
        if not config.logit_scale > 0:  # 0 or less would rank every class the same or reversed
            raise NeocogError(f"head logit_scale {config.logit_scale}: must be above 0")
        self.pool = POOLS[config.pooling](config.pool)
        flat = c * config.pool * config.pool
        layers: list[nn.Module] = [nn.Flatten(), nn.Dropout(config.dropout)]
        if config.hidden:
            layers += [nn.Linear(flat, config.hidden), nn.ReLU(inplace=True),
                       nn.Dropout(config.dropout)]
            flat = config.hidden
        layers.append(nn.Linear(flat, config.num_classes))
        self.fc = nn.Sequential(*layers)

    def forward(self, features: list[Tensor]) -> Tensor:
        pooled = self.pool(features[-1])  # (B, C, H, W) -> (B, C, p, p)
        return self.fc(pooled) * self.config.logit_scale  # -> (B, K)

    def loss(self, raw: Tensor, targets: Tensor) -> dict[str, Tensor]:
        return {"loss": F.cross_entropy(raw, targets, label_smoothing=self.config.label_smoothing)}

    @torch.no_grad()
    def predict(self, raw: Tensor) -> list[ClassPrediction]:
        probs = raw.float().softmax(dim=1)
        scores, indices = probs.max(dim=1)
        return [ClassPrediction(int(i), float(s), p) for i, s, p in zip(indices, scores, probs,
                                                                          strict=True)]
