"""CTC head: a spectrogram's feature map -> per-frame character logits (Graves et al. 2006).

The backbone pools frequency and keeps time; the head folds what is left of the
frequency axis into channels, runs 1-D convolutions along time, and scores every
frame over blank + the alphabet.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from neocog.core.backbones import FeatureInfo
from neocog.core.heads import Head
from neocog.core.registry import HEADS

from .decode import greedy_decode

ALPHABET = " abcdefghijklmnopqrstuvwxyz'"  # label i + 1; label 0 is the CTC blank


@dataclass
class CTCConfig:
    n_mels: int = 64  # height of the input spectrogram, to size the folded channels
    alphabet: str = ALPHABET
    hidden: int = 128  # channels of the 1-D convolutions
    layers: int = 2
    kernel: int = 5  # frames each 1-D conv sees (odd)
    dropout: float = 0.1


@HEADS.register("ctc")
class CTCHead(Head):
    Config = CTCConfig
    name = "ctc"

    def __init__(self, config: CTCConfig, feature_info: list[FeatureInfo]) -> None:
        super().__init__(config, feature_info)
        last = feature_info[-1]
        self.time_stride = last.stride[1]
        height = -(-config.n_mels // last.stride[0])  # ceil: each strided conv rounds up
        c_in, layers = last.channels * height, []
        for _ in range(config.layers):
            layers += [nn.Conv1d(c_in, config.hidden, config.kernel, padding=config.kernel // 2,
                                 bias=False),
                       nn.BatchNorm1d(config.hidden), nn.ReLU(inplace=True),
                       nn.Dropout(config.dropout)]
            c_in = config.hidden
        self.convs = nn.Sequential(*layers)
        self.classifier = nn.Conv1d(c_in, len(config.alphabet) + 1, 1)

    def forward(self, features: list[Tensor]) -> Tensor:
        """[B, C, H', T'] -> logits Tensor[B, T', 1 + len(alphabet)]."""
        x = features[-1]
        x = x.flatten(1, 2)  # (B, C, H', T') -> (B, C*H', T'): frequency folded into channels
        x = self.classifier(self.convs(x))
        return x.transpose(1, 2)  # (B, K, T') -> (B, T', K)

    def output_frames(self, frames: Tensor) -> Tensor:
        """Spectrogram frames -> logit frames: each stride-s conv maps T to ceil(T / s)."""
        return (frames + self.time_stride - 1) // self.time_stride

    def loss(self, raw: Tensor, targets: dict[str, Tensor]) -> dict[str, Tensor]:
        """targets: "labels" (sum of lengths,) int64 in 1..len(alphabet), all items'
        transcripts concatenated; "target_lengths" (B,); "frames" (B,) spectrogram
        frames of each item before padding."""
        logp = raw.float().log_softmax(-1).transpose(0, 1)  # (B, T', K) -> (T', B, K) for ctc_loss
        lengths = self.output_frames(targets["frames"]).clamp_max(logp.shape[0])
        ctc = F.ctc_loss(logp, targets["labels"], lengths, targets["target_lengths"],
                         blank=0, reduction="mean", zero_infinity=True)
        return {"loss": ctc}

    @torch.no_grad()
    def predict(self, raw: Tensor) -> list[str]:
        """Greedy transcripts, one per item (padding frames decode to blank or nothing)."""
        logp = raw.float().log_softmax(-1)
        return [greedy_decode(row, self.config.alphabet) for row in logp]
