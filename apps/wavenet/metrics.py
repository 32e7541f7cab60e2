"""Negative log-likelihood of whole recordings, in bits per sample."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from neocog.core.precision import Runtime

from .data import Clip, previous
from .model import WaveNet


@torch.no_grad()
def bits_per_sample(model: WaveNet, clips: list[Clip], use_global: bool = True,
                    runtime: Runtime | None = None) -> float:
    """Mean -log2 p(sample | past, mel[, speaker, label]) over every sample of `clips`,
    each recording scored whole (teacher forcing, one forward pass per clip). For an LPC
    model the code scored is the excitation's (the sample minus its prediction)."""
    runtime = runtime or Runtime.as_placed(model)
    model.eval()
    total, count = 0.0, 0
    for clip in clips:
        inputs = {"codes": previous(clip.codes)[None], "mel": clip.mel[None]}  # batch of 1
        if clip.excitation is not None:
            inputs |= {"pred": clip.pred[None], "excitation": previous(clip.excitation)[None]}
        if use_global:
            inputs |= {"speaker": torch.tensor([clip.speaker]), "label": torch.tensor([clip.label])}
        logits = runtime.forward(model, inputs)  # (1, 256, T) fp32
        total += float(F.cross_entropy(logits, clip.targets.unsqueeze(0).to(logits.device),
                                     reduction="sum"))
        count += clip.codes.shape[0]
    return total / max(1, count) / math.log(2)
