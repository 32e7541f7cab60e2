"""Speech data for the CTC recogniser: waves -> log-mel images + label sequences.

Training augmentation: speed perturbation (resampling, Ko et al. 2015), volume
perturbation, white noise, vocal tract length perturbation, and SpecAugment frequency
and time masks (Park et al. 2019).
"""

from __future__ import annotations

from dataclasses import dataclass

import librosa
import numpy as np
import torch
import torch.nn.functional as F
import torchaudio
from torch import Tensor
from torch.utils.data import Dataset

from neocog.core.audio import MelConfig, log_mel
from neocog.core.errors import NeocogError
from neocog.datasets.audio import read_audio
from neocog.datasets.speech import DigitBank, DigitSpec, SpeechItem

SPEEDS = (0.9, 0.95, 1.0, 1.05, 1.1)  # the factors of Ko et al. 2015, and two between


@dataclass
class Augment:
    speed: bool = True
    volume: tuple[float, float] = (0.3, 1.5)  # gain range
    noise: tuple[float, float] = (1e-4, 1e-2)  # white-noise std, log-uniform in this range
    freq_masks: int = 2
    freq_width: int = 8  # mel bins per mask, at most
    time_masks: int = 2
    time_width: int = 15  # frames per mask, at most (10 ms each)
    warp: float = 0.2  # vocal tract length perturbation: frequencies scaled by 1 +- this

    def __post_init__(self) -> None:
        if not 0 <= self.warp < 1:
            raise NeocogError(f"warp must be in [0, 1) (frequencies scaled by 1 +- warp), "
                              f"not {self.warp}")


def encode(text: str, alphabet: str) -> Tensor:
    """'one two' -> int64 labels of ' one two ' (alphabet index + 1; 0 is the blank).

    A space marks every pause, the leading and trailing ones too: without them the model
    would have to know, from a 0.6 s view, whether a word is the first of its utterance
    before it could emit the space in front of it. Decoders drop the extra spaces.
    """
    return torch.tensor([alphabet.index(c) + 1 for c in f" {text} "], dtype=torch.int64)


def perturb(wave: Tensor, aug: Augment) -> Tensor:
    """Tensor[T] -> Tensor[T'] at a random speed and volume, with white noise."""
    if aug.speed:
        factor = SPEEDS[np.random.randint(len(SPEEDS))]
        if factor != 1.0:  # played `factor` times faster: fewer samples at the same rate
            # Linear interpolation: 10x cheaper than sinc resampling, and its slight
            # aliasing is harmless as augmentation.
            size = int(len(wave) / factor)
            wave = F.interpolate(wave[None, None], size=size, mode="linear")[0, 0]
    wave = wave * float(np.random.uniform(*aug.volume))
    # Log-uniform: clean takes and hissy ones alike, where a uniform draw is almost never
    # as clean as a studio recording.
    std = float(np.exp(np.random.uniform(*np.log(aug.noise))))
    return wave + std * torch.randn_like(wave)


def spec_augment(spec: Tensor, aug: Augment) -> Tensor:
    """SpecAugment on a log-mel Tensor[1, n_mels, frames]; masks are filled with 0, the
    normalised mean."""
    for _ in range(aug.freq_masks):
        spec = torchaudio.transforms.FrequencyMasking(aug.freq_width)(spec)
    for _ in range(aug.time_masks):
        spec = torchaudio.transforms.TimeMasking(aug.time_width, p=0.2)(spec)
    return spec


def warp_bands(spec: Tensor, alpha: float, mel: MelConfig) -> Tensor:
    """Vocal tract length perturbation (Jaitly & Hinton 2013) on a log-mel Tensor[..., n_mels,
    frames]: the band centred on f Hz takes the value at f / alpha, so formants move by
    `alpha` as they do between a shorter and a longer vocal tract. Bands past the edges
    repeat the edge band."""
    # The mel bands' centre frequencies (HTK scale, as torchaudio's MelSpectrogram builds them).
    hz = librosa.mel_frequencies(mel.n_mels + 2, fmin=mel.f_min, fmax=mel.sample_rate / 2,
                                 htk=True)[1:-1]
    source = torch.from_numpy(np.interp(hz / alpha, hz, np.arange(mel.n_mels))).float()
    low = source.floor().long().clamp(max=mel.n_mels - 2)
    frac = (source - low)[:, None]  # (n_mels, 1): share of the band above
    return spec[..., low, :] * (1 - frac) + spec[..., low + 1, :] * frac


def features(wave: Tensor, mel: MelConfig) -> Tensor:
    """Tensor[T] at mel.sample_rate -> the model's input image Tensor[1, n_mels, frames]."""
    if len(wave) < mel.n_fft:  # the STFT's reflect padding needs at least one window
        wave = torch.nn.functional.pad(wave, (0, mel.n_fft - len(wave)))
    return log_mel(wave, mel)[None]


class SpeechSet(Dataset):
    """Items on disk -> (Tensor[1, n_mels, frames], labels); augmented when `augment`."""

    def __init__(self, items: list[SpeechItem], mel: MelConfig, alphabet: str,
                 augment: Augment | None = None) -> None:
        self.items, self.mel, self.alphabet, self.augment = items, mel, alphabet, augment

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> tuple[Tensor, Tensor]:
        item = self.items[i]
        wave = torch.from_numpy(read_audio(item.audio, self.mel.sample_rate).samples)
        return make_example(wave, item.text, self.mel, self.alphabet, self.augment)


class ConnectedDigitSet(Dataset):
    """`size` connected-digit utterances generated from a DigitBank.

    fixed=True: utterance i is always the same (seeded by (seed, i)), for validation;
    fixed=False: fresh ones each epoch from numpy's global RNG, which the trainer seeds.
    Then `group` consecutive draws share one digit count, so the batches the trainer
    draws (in order, batch_size at a time) hold utterances of similar length and pad
    little: half the compute of a batch padded to a random 7-digit utterance.
    """

    def __init__(self, bank: DigitBank, size: int, mel: MelConfig, alphabet: str,
                 spec: DigitSpec | None = None, augment: Augment | None = None,
                 fixed: bool = False, seed: int = 0, group: int = 1) -> None:
        self.bank, self.size, self.mel, self.alphabet = bank, size, mel, alphabet
        self.spec, self.augment, self.fixed, self.seed = spec or DigitSpec(), augment, fixed, seed
        self.group, self.draws, self.count = group, 0, None

    def __len__(self) -> int:
        return self.size

    def utterance(self, i: int) -> tuple[np.ndarray, str, str]:
        if self.fixed:
            return self.bank.utterance(np.random.default_rng((self.seed, i)), self.spec)
        rng = np.random.default_rng(np.random.randint(2**31))
        if self.draws % self.group == 0:
            self.count = int(rng.integers(self.spec.min_digits, self.spec.max_digits + 1))
        self.draws += 1
        return self.bank.utterance(rng, self.spec, self.count)

    def __getitem__(self, i: int) -> tuple[Tensor, Tensor]:
        wave, text, _ = self.utterance(i)
        return make_example(torch.from_numpy(wave), text, self.mel, self.alphabet, self.augment)


def make_example(wave: Tensor, text: str, mel: MelConfig, alphabet: str,
                 augment: Augment | None) -> tuple[Tensor, Tensor]:
    if augment is not None:
        wave = perturb(wave, augment)
    spec = features(wave, mel)
    if augment is not None:
        if augment.warp:
            spec = warp_bands(spec, 1 + float(np.random.uniform(-augment.warp, augment.warp)), mel)
        spec = spec_augment(spec, augment)
    return spec, encode(text, alphabet)


def pad_specs(specs: list[Tensor]) -> tuple[Tensor, Tensor]:
    """[Tensor[1, F, T_i]] -> (Tensor[B, 1, F, max T] zero-padded, frames Tensor[B])."""
    frames = torch.tensor([s.shape[-1] for s in specs], dtype=torch.int64)
    batch = torch.zeros(len(specs), *specs[0].shape[:-1], int(frames.max()))
    for i, s in enumerate(specs):
        batch[i, ..., : s.shape[-1]] = s
    return batch, frames


def collate(batch: list[tuple[Tensor, Tensor]]) -> tuple[Tensor, dict[str, Tensor]]:
    """Examples -> (inputs Tensor[B, 1, F, T], CTC targets as the head's loss takes them)."""
    specs, labels = zip(*batch, strict=True)
    inputs, frames = pad_specs(list(specs))
    targets = {"labels": torch.cat(labels),
               "target_lengths": torch.tensor([len(t) for t in labels], dtype=torch.int64),
               "frames": frames}
    return inputs, targets
