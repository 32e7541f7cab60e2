"""A small WaveNet (van den Oord et al. 2016) from the core's causal dilated conv.

256-way mu-law output; stacks of dilated causal convs (dilations 1, 2, ..., 2^(k-1),
repeated), gated tanh x sigmoid units, residual and skip connections; global
conditioning (speaker and label embeddings) and local conditioning on log-mel frames
upsampled to the sample rate, so one model generates and vocodes.

The model reads `inputs = {"codes": LongTensor[B, T], "mel": Tensor[B, n_mels, F],
"speaker": LongTensor[B], "label": LongTensor[B]}`: codes[:, t] is the mu-law code of
the sample BEFORE target t, mel frame t // hop_length describes target t. Index 0 of
the speaker and label tables means "none" (unconditioned).

With `lpc_order > 0` it is an LPCNet-style WaveNet (Valin & Skoglund 2019): the 256
outputs are the codes of the excitation (target minus its linear prediction from the
samples before it, over the level the mel implies; `core/lpc.py`), and as in LPCNet the
inputs also hold "pred", LongTensor[B, T], the code of target t's prediction, and
"excitation", LongTensor[B, T], the excitation code of the sample before target t (the
glottal pulses are plainer there than in the samples). The envelope and the level then
cost the network nothing: a small net spends itself on the excitation. Without "pred"
and "excitation" there is no envelope: prediction 0 (silence codes), and the excitation
is the sample itself.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from neocog.core.audio import MelConfig
from neocog.core.blocks import CausalConv1d
from neocog.core.errors import NeocogError
from neocog.core.registry import MODELS

from .data import QUANTIZATION, SILENCE

TASK = "wavenet"
KERNEL = 2  # taps of each dilated conv: x[t - d] and x[t] (what the fast generator caches)


@dataclass
class WaveNetConfig:
    residual_channels: int = 32
    gate_channels: int = 32  # channels of each half of the gated unit
    skip_channels: int = 64
    layers_per_stack: int = 10  # dilations 1, 2, ..., 2^(layers_per_stack - 1)
    stacks: int = 1
    n_speakers: int = 0  # speaker names, not counting index 0 = "none"
    n_labels: int = 0  # label names, not counting index 0 = "none"
    global_channels: int = 16  # width of the speaker / label embeddings
    cond_channels: int = 32  # width of the upsampled mel features; 0 = no local conditioning
    lpc_order: int = 0  # > 0: inputs carry the LPC prediction, outputs are the excitation
    mel: dict[str, Any] = field(default_factory=lambda: MelConfig().to_dict())

    def __post_init__(self) -> None:
        n_fft = self.mel_config.n_fft  # the autocorrelation has n_fft lags
        if not 0 <= self.lpc_order < n_fft:
            raise NeocogError(f"lpc_order must be in [0, {n_fft}) (0: a plain WaveNet), "
                              f"not {self.lpc_order}")

    @property
    def mel_config(self) -> MelConfig:
        return MelConfig(**self.mel)

    @property
    def dilations(self) -> list[int]:
        return [2**i for i in range(self.layers_per_stack)] * self.stacks

    @property
    def receptive_field(self) -> int:
        """Samples of past audio one output sees: 1 + sum over layers of (k-1) * d."""
        return 1 + sum((KERNEL - 1) * d for d in self.dilations)


class GatedResidualBlock(nn.Module):
    """Dilated causal conv -> + conditioning -> tanh x sigmoid -> 1x1 conv into a
    residual and a skip part (wavenet_vocoder `modules.py`)."""

    def __init__(self, cfg: WaveNetConfig, dilation: int) -> None:
        super().__init__()
        g = cfg.gate_channels
        self.conv = CausalConv1d(cfg.residual_channels, 2 * g, KERNEL, dilation)
        c, e = cfg.cond_channels, cfg.global_channels
        self.cond = nn.Conv1d(c, 2 * g, 1, bias=False) if c else None
        self.glob = nn.Linear(e, 2 * g, bias=False) if e else None
        self.out = nn.Conv1d(g, cfg.residual_channels + cfg.skip_channels, 1)
        self.residual_channels = cfg.residual_channels

    def forward(self, x: Tensor, cond: Tensor | None, glob: Tensor | None) -> tuple[Tensor, Tensor]:
        """x (B, R, T), cond (B, C, T) or None, glob (B, E) or None
        -> (residual (B, R, T), skip (B, S, T))."""
        z = self.conv(x)  # (B, 2G, T)
        if self.cond is not None and cond is not None:
            z = z + self.cond(cond)
        if self.glob is not None and glob is not None:
            z = z + self.glob(glob).unsqueeze(-1)  # (B, 2G) -> (B, 2G, 1), broadcast over T
        a, b = z.chunk(2, dim=1)  # 2 x (B, G, T)
        out = self.out(torch.tanh(a) * torch.sigmoid(b))  # (B, R + S, T)
        return x + out[:, : self.residual_channels], out[:, self.residual_channels :]


class MelUpsampler(nn.Module):
    """log-mel (B, n_mels, F) -> (B, C, F * hop): a frame-domain conv, then a depthwise
    transposed conv that interpolates each channel over the 2 * hop samples around its
    frame's centre (depthwise: a full one would hold C * C * 2 * hop weights)."""

    def __init__(self, n_mels: int, channels: int, hop: int) -> None:
        super().__init__()
        self.pre = nn.Conv1d(n_mels, channels, 3, padding=1)
        self.up = nn.ConvTranspose1d(channels, channels, 2 * hop, stride=hop,
                                     padding=hop // 2, groups=channels)
        self.hop = hop

    def forward(self, mel: Tensor) -> Tensor:
        h = F.leaky_relu(self.pre(mel), 0.2)  # (B, C, F)
        return F.leaky_relu(self.up(h), 0.2)[..., : mel.shape[-1] * self.hop]  # (B, C, F * hop)


@MODELS.register(TASK)
class WaveNet(nn.Module):
    """codes (and conditioning) -> logits (B, 256, T) over the next sample."""

    def __init__(self, cfg: WaveNetConfig) -> None:
        super().__init__()
        self.config, self.task = cfg, TASK
        self.embed = nn.Embedding(QUANTIZATION, cfg.residual_channels)
        self.embed_pred = self.embed_excitation = None
        if cfg.lpc_order:
            self.embed_pred = nn.Embedding(QUANTIZATION, cfg.residual_channels)
            self.embed_excitation = nn.Embedding(QUANTIZATION, cfg.residual_channels)
        self.speaker = self.label = None
        if cfg.global_channels:
            self.speaker = nn.Embedding(cfg.n_speakers + 1, cfg.global_channels)
            self.label = nn.Embedding(cfg.n_labels + 1, cfg.global_channels)
        self.upsample = None
        if cfg.cond_channels:
            mel = cfg.mel_config
            self.upsample = MelUpsampler(mel.n_mels, cfg.cond_channels, mel.hop_length)
        self.blocks = nn.ModuleList(GatedResidualBlock(cfg, d) for d in cfg.dilations)
        self.post = nn.Sequential(nn.ReLU(), nn.Conv1d(cfg.skip_channels, cfg.skip_channels, 1),
                                  nn.ReLU(), nn.Conv1d(cfg.skip_channels, QUANTIZATION, 1))

    @classmethod
    def from_spec(cls, spec: dict[str, Any]) -> WaveNet:
        return cls(WaveNetConfig(**spec["config"]))

    def spec(self) -> dict[str, Any]:
        return {"task": TASK, "model": TASK, "config": asdict(self.config)}

    def conditioning(self, inputs: dict[str, Tensor], length: int
                     ) -> tuple[Tensor | None, Tensor | None]:
        """-> (local (B, C, length) or None, global (B, E) or None)."""
        cond = None
        if self.upsample is not None and "mel" in inputs:
            cond = self.upsample(inputs["mel"])[..., :length]
            if cond.shape[-1] < length:
                raise ValueError(f"mel covers {cond.shape[-1]} samples, {length} needed")
        glob = None
        if self.speaker is not None:
            batch = inputs["codes"].shape[0]
            zeros = torch.zeros(batch, dtype=torch.long, device=inputs["codes"].device)
            glob = (self.speaker(inputs.get("speaker", zeros))
                    + self.label(inputs.get("label", zeros)))
        return cond, glob

    def forward(self, inputs: dict[str, Tensor]) -> Tensor:
        codes = inputs["codes"]
        x = self.embed_inputs(codes, inputs.get("pred"), inputs.get("excitation"))
        return self.run(x, *self.conditioning(inputs, codes.shape[-1]))

    def embed_inputs(self, codes: Tensor, pred: Tensor | None = None,
                     excitation: Tensor | None = None) -> Tensor:
        """LongTensor[B, T] codes (and, LPC models, prediction and previous excitation
        codes; None = no envelope) -> Tensor[B, R, T], the first residual layer's input."""
        x = self.embed(codes)  # (B, T, R)
        if self.embed_pred is not None:
            x = x + self.embed_pred(torch.full_like(codes, SILENCE) if pred is None else pred)
            x = x + self.embed_excitation(codes if excitation is None else excitation)
        return x.transpose(1, 2)  # (B, T, R) -> (B, R, T)

    def run(self, x: Tensor, cond: Tensor | None, glob: Tensor | None) -> Tensor:
        """embedded inputs (B, R, T), cond (B, C, T) or None, glob (B, E) or None
        -> logits (B, 256, T)."""
        skips = 0
        for block in self.blocks:
            x, skip = block(x, cond, glob)
            skips = skips + skip
        return self.post(skips)  # (B, S, T) -> (B, 256, T)

    def loss(self, logits: Tensor, targets: Tensor) -> dict[str, Tensor]:
        """logits (B, Q, T), targets LongTensor[B, T] -> {"loss": nats, "bits": bits/sample}."""
        nll = F.cross_entropy(logits, targets)
        return {"loss": nll, "bits": nll.detach() / torch.log(torch.tensor(2.0))}

    def predict(self, logits: Tensor) -> list[Tensor]:
        """The most likely code at each step, one LongTensor[T] per input."""
        return list(logits.argmax(dim=1))


def summary(model: WaveNet) -> str:
    """The layer table `neocog inspect` prints: dilation and receptive field per layer."""
    cfg = model.config
    rate = cfg.mel_config.sample_rate
    lines = [f"{'layer':<8}{'dilation':>9}{'receptive field':>17}{'params':>9}"]
    field_so_far = 1
    for i, (d, block) in enumerate(zip(cfg.dilations, model.blocks, strict=True)):
        field_so_far += (KERNEL - 1) * d
        params = sum(p.numel() for p in block.parameters())
        lines.append(f"{f'block{i}':<8}{d:>9}{field_so_far:>17}{params:>9}")
    total = sum(p.numel() for p in model.parameters())
    lines.append(f"receptive field: {cfg.receptive_field} samples "
                 f"({1000 * cfg.receptive_field / rate:.1f} ms at {rate} Hz); "
                 f"{len(cfg.dilations)} layers in {cfg.stacks} stack(s); "
                 f"channels residual {cfg.residual_channels}, gate {cfg.gate_channels}, "
                 f"skip {cfg.skip_channels}; {total} parameters")
    if cfg.lpc_order:
        lines.append(f"LPC: order-{cfg.lpc_order} predictors from the mel give the envelope; "
                     "the 256 outputs are the excitation's mu-law codes")
    return "\n".join(lines)
