"""Library API: `Transcriber(weights=None).transcribe(path_or_wave, sample_rate=None) -> str`.

A recording longer than `max_seconds` is cut at its quietest moments (pauses) into
pieces the model reads in batches of BATCH_PIECES, each batch's features made when it
is read (memory bounded by the batch, not the recording); their transcripts are joined
with spaces.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from neocog.core.audio import MelConfig
from neocog.core.checkpoint import load_model
from neocog.core.errors import NeocogError
from neocog.core.heads import TaskModel
from neocog.core.precision import Runtime, prepare
from neocog.core.zoo import default_model, resolve_weights
from neocog.datasets.audio import MAX_SAMPLES, SILENCE, read_audio, resample

from .data import features, pad_specs
from .decode import Lexicon, greedy_decode, lexicon_beam_search

TASK = "speech"
DEFAULT_WEIGHTS = default_model(TASK).path  # the model a predictor given no weights loads
PAUSE_FRAME = 0.05  # seconds: the granularity at which pauses are searched
EDGE_PAUSE = 0.15  # seconds of silence put before and after each piece read
# Pieces (of at most max_seconds) read in one forward pass: what a long recording costs
# at once, whatever its length (32 x 20 s: 10 MB of features for the shipped model).
BATCH_PIECES = 32

Decoder = Callable[[Tensor], str]  # log-probs Tensor[T, K] -> text


def make_decoder(alphabet: str, vocabulary: list[str] | None = None, beam: int = 8) -> Decoder:
    """Greedy without a vocabulary; a lexicon-constrained beam search with one."""
    if not vocabulary:
        return lambda logp: greedy_decode(logp, alphabet)
    try:
        lexicon = Lexicon(vocabulary, alphabet)
    except ValueError as err:
        raise NeocogError(str(err)) from None
    return lambda logp: lexicon_beam_search(logp, alphabet, lexicon, beam)


@torch.no_grad()
def transcribe_specs(model: TaskModel, specs: Iterable[Tensor], decode: Decoder,
                     batch_size: int = BATCH_PIECES, runtime: Runtime | None = None) -> list[str]:
    """Log-mel images [Tensor[1, F, T_i]] -> one transcript each, run in padded batches
    (the forward pass through `runtime`, CTC decoding in fp32). `specs` may be a generator:
    it is drawn one batch at a time."""
    runtime = runtime or Runtime.as_placed(model)
    texts: list[str] = []
    specs = iter(specs)
    while batch := list(islice(specs, batch_size)):
        inputs, frames = pad_specs(batch)
        logp = runtime.forward(model, inputs).log_softmax(-1).cpu()  # (B, T', K)
        lengths = model.head.output_frames(frames)
        texts += [decode(row[:n]) for row, n in zip(logp, lengths.tolist(), strict=True)]
    return texts


def split_at_pauses(wave: np.ndarray, rate: int, max_seconds: float) -> list[np.ndarray]:
    """Cut a wave (T,) into pieces of at most `max_seconds`, each cut at the quietest
    PAUSE_FRAME of the second half of the piece, so words are rarely split."""
    limit, hop = int(max_seconds * rate), int(PAUSE_FRAME * rate)
    pieces, start = [], 0
    while len(wave) - start > limit:
        window = wave[start + limit // 2: start + limit]
        frames = window[: len(window) // hop * hop].reshape(-1, hop)  # (n, hop)
        quietest = int(np.argmin((frames**2).mean(axis=1)))
        cut = start + limit // 2 + quietest * hop + hop // 2
        pieces.append(wave[start:cut])
        start = cut
    if pieces and len(wave) - start < hop:  # a sliver too short to read joins the last piece
        start -= len(pieces.pop())
    pieces.append(wave[start:])
    return pieces


def to_mono(wave: np.ndarray, rate: int, target: int) -> np.ndarray:
    """A float waveform (T,) or (T, C) / (C, T) at `rate` -> mono float32 (T,) at `target`."""
    wave = np.asarray(wave, dtype=np.float32)
    if wave.ndim == 2:  # the shorter axis holds the channels
        wave = wave.mean(axis=int(np.argmin(wave.shape)))
    if wave.ndim != 1 or wave.size == 0:
        raise NeocogError(f"waveform of shape {wave.shape}: expected samples (T,) or (T, C)")
    if np.abs(wave).max() < SILENCE:
        raise NeocogError(f"waveform: silent audio (peak below {SILENCE})")
    if wave.size > MAX_SAMPLES:
        raise NeocogError(f"waveform: {wave.size} samples, over the {MAX_SAMPLES} read at once; "
                          "split it")
    if rate != target:  # bounded: a rate below 1 kHz or a result too long is refused
        wave = resample(wave, rate, target, "waveform")
    return wave


class Transcriber:
    """A trained CTC recogniser with its front end.

    vocabulary=None decodes to the word list the checkpoint was trained on, when it
    declares one (the shipped digit model does), else greedily; [] is always greedy;
    a list of words constrains the beam search to them. `device`, `precision`,
    `threads` and `memory_format` as in core.precision.prepare.
    """

    def __init__(self, weights: str | Path | None = None, vocabulary: list[str] | None = None,
                 beam: int = 8, max_seconds: float = 20.0, device: str = "auto",
                 precision: str = "auto", threads: int | None = None,
                 memory_format: str = "auto") -> None:
        self.weights = resolve_weights(weights, TASK)
        self.model, self.header = load_model(self.weights, TASK)
        self.runtime = prepare(self.model, TASK, "infer", device, precision, threads,
                               memory_format)
        self.mel = MelConfig(**self.header["mel"])
        self.alphabet: str = self.model.head.config.alphabet
        self.vocabulary = self.header.get("words", []) if vocabulary is None else vocabulary
        self.decode = make_decoder(self.alphabet, self.vocabulary, beam)
        self.max_seconds = max_seconds

    def load(self, source: str | Path | np.ndarray, sample_rate: int | None = None
             ) -> tuple[np.ndarray, str]:
        """A path, or a waveform with its rate -> (mono wave at the model's rate, note)."""
        if isinstance(source, np.ndarray):
            if sample_rate is None:
                raise NeocogError("a waveform needs its sample_rate")
            return to_mono(source, sample_rate, self.mel.sample_rate), ""
        audio = read_audio(source, self.mel.sample_rate)
        return audio.samples, audio.note

    def spectrograms(self, wave: np.ndarray) -> Iterator[Tensor]:
        """A mono float32 wave (T,) at the model's rate -> what the model reads: one log-mel
        image Tensor[1, n_mels, frames] per piece (split_at_pauses), each framed in silence;
        made one at a time as they are drawn, so an hour of audio is never all in memory."""
        pieces = split_at_pauses(wave, self.mel.sample_rate, self.max_seconds)
        # Framed in silence as every training utterance is (50-300 ms pauses): a recording
        # cut tight to the word otherwise loses its first and last sounds' context
        # (FSDD takes of an unseen voice: 78% -> 86% read right).
        edge = np.zeros(int(EDGE_PAUSE * self.mel.sample_rate), np.float32)
        return (features(torch.from_numpy(np.concatenate([edge, p, edge])), self.mel)
                for p in pieces)

    def transcribe_wave(self, wave: np.ndarray) -> str:
        """A mono float32 wave (T,) at the model's rate -> text."""
        return " ".join(t for t in transcribe_specs(self.model, self.spectrograms(wave),
                                                      self.decode, runtime=self.runtime) if t)

    def transcribe(self, source: str | Path | np.ndarray, sample_rate: int | None = None) -> str:
        """A file path, or a float32 waveform (sample_rate required) -> its transcript."""
        wave, _ = self.load(source, sample_rate)
        return self.transcribe_wave(wave)
