"""Negative log-likelihood of whole recordings, in bits per sample."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .data import SILENCE, Clip
from .model import WaveNet


@torch.no_grad()
def bits_per_sample(model: WaveNet, clips: list[Clip], use_global: bool = True) -> float:
    """Mean -log2 p(sample | past, mel[, speaker, label]) over every sample of `clips`,
    each recording scored whole (teacher forcing, one forward pass per clip). For an LPC
    model the code scored is the excitation's (the sample minus its prediction)."""
    model.eval()
    total, count = 0.0, 0
    for clip in clips:
        codes = clip.codes.unsqueeze(0)  # (T,) -> (1, T)
        previous = torch.cat([torch.full((1, 1), SILENCE), codes[:, :-1]], dim=1)
        inputs = {"codes": previous, "mel": clip.mel.unsqueeze(0)}
        if clip.excitation is not None:
            excitation = clip.excitation.unsqueeze(0)
            inputs |= {"pred": clip.pred.unsqueeze(0),
                       "excitation": torch.cat([torch.full((1, 1), SILENCE), excitation[:, :-1]], 1)}
        if use_global:
            inputs |= {"speaker": torch.tensor([clip.speaker]), "label": torch.tensor([clip.label])}
        logits = model(inputs)  # (1, 256, T)
        total += float(F.cross_entropy(logits, clip.targets.unsqueeze(0), reduction="sum"))
        count += codes.shape[1]
    return total / max(1, count) / math.log(2)
