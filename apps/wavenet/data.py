"""Training data: a folder of audio files or a JSONL manifest {"audio": path, "speaker"?,
"label"?}, read once (mono, resampled), then random crops aligned to mel frames."""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torchaudio.functional as AF
from torch import Tensor
from torch.utils.data import Dataset

from neocog.core.audio import MelConfig, log_mel
from neocog.core.errors import NeocogError
from neocog.core.lpc import predict, predictors
from neocog.datasets.audio import list_audio, manifest_rows, read_audio

QUANTIZATION = 256  # mu-law classes (8-bit mu-law, as in the WaveNet paper)
SILENCE = 128  # the mu-law code of 0.0: the "previous sample" at t = 0


@dataclass
class AudioItem:
    path: Path
    speaker: str = ""  # "" = none
    label: str = ""


@dataclass
class Clip:
    codes: Tensor  # LongTensor[T] mu-law codes
    mel: Tensor  # (n_mels, T // hop + 1) log-mel of the whole recording
    speaker: int  # 0 = none
    label: int
    pred: Tensor | None = None  # LongTensor[T] mu-law codes of the LPC prediction (LPC models)
    excitation: Tensor | None = None  # LongTensor[T] codes of sample - prediction (LPC models)

    @property
    def targets(self) -> Tensor:
        """What the model is trained to predict: the excitation (LPC models) or the samples."""
        return self.codes if self.excitation is None else self.excitation


def mu_law_encode(wave: Tensor) -> Tensor:
    """float Tensor[T] in [-1, 1] -> LongTensor[T] codes in [0, 256)."""
    return AF.mu_law_encoding(wave.clamp(-1.0, 1.0), QUANTIZATION)


def previous(codes: Tensor) -> Tensor:
    """LongTensor[..., T] -> the code before each, LongTensor[..., T]: silence, then codes
    up to T - 1 (what the model reads at each step, teacher-forced)."""
    silence = torch.full((*codes.shape[:-1], 1), SILENCE, dtype=codes.dtype)
    return torch.cat([silence, codes[..., :-1]], dim=-1)


def mu_law_decode(codes: Tensor) -> Tensor:
    """LongTensor[T] codes in [0, 256) -> float Tensor[T] in [-1, 1]."""
    return AF.mu_law_decoding(codes, QUANTIZATION)


def read_manifest(path: Path) -> list[AudioItem]:
    """JSONL lines {"audio": path relative to the manifest, "speaker"?: str, "label"?: str}."""
    return [AudioItem(audio, str(row.get("speaker", "")), str(row.get("label", "")))
            for row, audio in manifest_rows(path, ("audio",))]


def list_items(source: str | Path, name_fields: str = "") -> list[AudioItem]:
    """A .jsonl manifest, or an audio file/folder. `name_fields` such as "label,speaker"
    reads those fields from the '_'-separated file name (FSDD: 7_jackson_32.wav)."""
    source = Path(source)
    if source.suffix == ".jsonl":
        return read_manifest(source)
    fields = [f for f in name_fields.split(",") if f]
    items = []
    for path in list_audio(source):
        parts = dict(zip(fields, path.stem.split("_"), strict=False))
        items.append(AudioItem(path, parts.get("speaker", ""), parts.get("label", "")))
    return items


def vocabulary(values: list[str]) -> list[str]:
    """Sorted distinct non-empty names; name i is index i + 1 (0 = none)."""
    return sorted({v for v in values if v})


def index_of(name: str, names: list[str]) -> int:
    return names.index(name) + 1 if name in names else 0


def lpc_codes(wave: Tensor, mel: MelConfig, order: int) -> tuple[Tensor, Tensor]:
    """float Tensor[T] -> (codes of the LPC prediction from its own mel, codes of the
    excitation wave - prediction over its scale), both LongTensor[T]."""
    lpc = predictors(wave, mel, order)
    pred = predict(wave, lpc.coeffs)
    return mu_law_encode(pred), mu_law_encode((wave - pred) / lpc.scale)


def load_clip(item: AudioItem, mel: MelConfig, min_samples: int, speakers: list[str],
              labels: list[str], lpc_order: int = 0) -> Clip:
    """Read one file; recordings shorter than `min_samples` are padded with silence.
    lpc_order > 0 adds the prediction and excitation codes an LPC WaveNet trains on."""
    audio = read_audio(item.path, mel.sample_rate)
    wave = torch.from_numpy(audio.samples)
    if wave.shape[0] < min_samples:
        wave = torch.nn.functional.pad(wave, (0, min_samples - wave.shape[0]))
    pred, excitation = lpc_codes(wave, mel, lpc_order) if lpc_order else (None, None)
    return Clip(mu_law_encode(wave), log_mel(wave, mel), index_of(item.speaker, speakers),
                index_of(item.label, labels), pred, excitation)


class CropDataset(Dataset):
    """`crops` random crops per epoch, each `frames` mel frames (frames * hop samples)
    from a clip drawn at random (Python's `random`, which the trainer seeds per epoch).

    One item: ({"codes": LongTensor[T] previous samples, "mel": (n_mels, frames + 1),
    "speaker": LongTensor[], "label": LongTensor[], and for LPC clips "pred" and
    "excitation": LongTensor[T]}, LongTensor[T] target codes). Conditioning is dropped at
    random (mel -> zeros, names -> 0 = none) so one model also generates without it; an
    LPC clip without its mel has no envelope either: prediction 0 (silence codes), and the
    excitation is the sample itself.
    """

    def __init__(self, clips: list[Clip], frames: int, hop: int, crops: int,
                 drop_mel: float = 0.0, drop_global: float = 0.0) -> None:
        self.clips, self.frames, self.hop, self.crops = clips, frames, hop, crops
        self.drop_mel, self.drop_global = drop_mel, drop_global

    def __len__(self) -> int:
        return self.crops

    def __getitem__(self, i: int) -> tuple[dict[str, Tensor], Tensor]:
        clip = random.choice(self.clips)
        last = clip.codes.shape[0] // self.hop - self.frames  # last start frame that fits
        f0 = random.randint(0, max(0, last))
        start, length = f0 * self.hop, self.frames * self.hop
        silence = torch.full((1,), SILENCE, dtype=torch.long)
        codes = torch.cat([silence, clip.codes])[start: start + length + 1]  # 1 sample of past
        mel = clip.mel[:, f0: f0 + self.frames + 1]
        drop_mel = random.random() < self.drop_mel
        if drop_mel:
            mel = torch.zeros_like(mel)
        keep = random.random() >= self.drop_global
        inputs = {"codes": codes[:-1], "mel": mel,
                  "speaker": torch.tensor(clip.speaker if keep else 0),
                  "label": torch.tensor(clip.label if keep else 0)}
        targets = codes[1:]
        if clip.pred is not None and drop_mel:  # no envelope, as the model's defaults
            inputs |= {"pred": torch.full_like(targets, SILENCE), "excitation": inputs["codes"]}
        elif clip.pred is not None:
            end = start + targets.shape[0]
            inputs |= {"pred": clip.pred[start: end],
                       "excitation": previous(clip.excitation)[start: end]}
            targets = clip.excitation[start: end]
        return inputs, targets


def split_items(items: list[AudioItem], val_fraction: float, seed: int
                ) -> tuple[list[AudioItem], list[AudioItem]]:
    """A seeded shuffle, then the first `val_fraction` of the files are held out."""
    order = list(range(len(items)))
    np.random.default_rng(seed).shuffle(order)
    n_val = max(1, int(round(val_fraction * len(items))))
    if n_val >= len(items):
        raise NeocogError(f"{len(items)} files: too few to hold out {val_fraction:.0%} "
                          "for validation")
    return [items[i] for i in order[n_val:]], [items[i] for i in order[:n_val]]
