"""Library API: `Synthesizer()` (the shipped model) -> `.generate(...)` and `.vocode(wave)`,
float32 waveforms at `.sample_rate`, through the cached generator."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from neocog.core.audio import log_mel
from neocog.core.checkpoint import load_model
from neocog.core.errors import NeocogError
from neocog.core.lpc import predictors
from neocog.core.precision import prepare
from neocog.core.zoo import default_model, resolve_weights

from .data import index_of, mu_law_decode
from .fast import FastGenerator
from .model import TASK, WaveNet

DEFAULT_WEIGHTS = default_model(TASK).path  # the model a predictor given no weights loads



class Synthesizer:
    """A trained WaveNet, its speaker / label names and its cached generator.

    `device`, `precision`, `threads` and `memory_format` (core.precision.prepare) set how the torch
    model scores audio (`neocog wavenet val`); generation and vocoding always run the
    cached NumPy generator in fp32 on the CPU, so they accept only auto or fp32.
    """

    def __init__(self, weights: str | Path | None = None, device: str = "auto",
                 precision: str = "auto", threads: int | None = None,
                 memory_format: str = "auto") -> None:
        self.weights = resolve_weights(weights, TASK)
        model, self.header = load_model(self.weights, TASK)
        self.model: WaveNet = model  # type: ignore[assignment]
        self.precision = precision
        self.runtime = prepare(self.model, TASK, "infer", device, precision, threads,
                               memory_format)
        self.mel = self.model.config.mel_config
        self.sample_rate = self.mel.sample_rate
        self.speakers: list[str] = self.header.get("speakers", [])
        self.labels: list[str] = self.header.get("labels", [])
        self.generator = FastGenerator(self.model)

    def names(self, speaker: str, label: str) -> dict[str, torch.Tensor]:
        """Global conditioning inputs; "" means none, an unknown name is an error."""
        for value, known, what in ((speaker, self.speakers, "speaker"),
                                   (label, self.labels, "label")):
            if value and value not in known:
                raise NeocogError(f"{self.weights}: unknown {what} '{value}'; known: "
                                  f"{', '.join(known) or 'none'}")
        return {"codes": torch.zeros(1, 1, dtype=torch.long),
                "speaker": torch.tensor([index_of(speaker, self.speakers)]),
                "label": torch.tensor([index_of(label, self.labels)])}

    def generate(self, seconds: float, speaker: str = "", label: str = "",
                 temperature: float = 1.0, seed: int = 0) -> np.ndarray:
        """Sample `seconds` of audio (no mel: the model saw zeros for it in training)."""
        self._check_generation_precision()
        length = int(seconds * self.sample_rate)
        if length <= 0:
            raise NeocogError(f"--seconds {seconds}: nothing to generate")
        mel = torch.zeros(1, self.mel.n_mels, length // self.mel.hop_length + 1)
        inputs = self.names(speaker, label) | {"mel": mel}
        return self._decode(self.generator.generate(inputs, length, temperature, seed))

    def vocode(self, wave: np.ndarray, speaker: str = "", temperature: float = 1.0,
               seed: int = 0) -> np.ndarray:
        """float32 (T,) at `sample_rate` -> a resynthesis (T,) from its own log-mel (an LPC
        model also reads its spectral envelope from it)."""
        self._check_generation_precision()
        samples = torch.from_numpy(wave)
        mel = log_mel(samples, self.mel).unsqueeze(0)  # (1, n_mels, frames)
        inputs = self.names(speaker, "") | {"mel": mel}
        order = self.model.config.lpc_order
        lpc = predictors(samples, self.mel, order) if order else None
        return self._decode(self.generator.generate(inputs, len(wave), temperature, seed,
                                                    lpc=lpc))

    def _check_generation_precision(self) -> None:
        if self.precision not in ("auto", "fp32"):
            raise NeocogError(f"--precision {self.precision}: generation runs the cached NumPy "
                              "generator in fp32; --precision applies to wavenet train and val")

    @staticmethod
    def _decode(codes: np.ndarray) -> np.ndarray:
        return mu_law_decode(torch.from_numpy(codes)).numpy().astype(np.float32)
