"""A classical yardstick for `speech_digits.py`'s unseen-voice figure: isolated-digit
accuracy of MFCC + DTW nearest-neighbour template matching (Sakoe & Chiba 1978), leave one
speaker out on FSDD. No training: each take of the held-out voice is labelled with the
digit of the closest take of the other four voices.

Features: MFCCs 1-12 (c0, the loudness, dropped), framed as the convnet's front end frames
its input (32 ms every 10 ms, the recipe's 40 mel bands from 20 Hz), with each
coefficient's mean over the take removed (cepstral mean normalisation: a fixed microphone
colouring cancels). Distance: the DTW path cost over the two takes' summed lengths,
Euclidean frame distances.

    .venv/bin/python benchmarks/speech_template_baseline.py [--holdout george ...] [--every 5]
"""

from __future__ import annotations

import argparse
import collections

import librosa
import numpy as np

from neocog.apps.speech import SpeechTrainConfig
from neocog.core.audio import MelConfig
from neocog.datasets.audio import read_audio
from neocog.datasets.speech import DIGIT_WORDS, DigitRecording, fsdd_speaker_split, read_fsdd

from common import SHARED, report, run

MEL = MelConfig(n_mels=SpeechTrainConfig.n_mels)  # the convnet's framing and bands


def mfcc(wave: np.ndarray) -> np.ndarray:
    """float32 (T,) at MEL.sample_rate -> (12, frames): MFCCs 1-12, each with its mean
    removed."""
    coeffs = librosa.feature.mfcc(y=wave, sr=MEL.sample_rate, n_mfcc=13, n_fft=MEL.n_fft,
                                  hop_length=MEL.hop_length, n_mels=MEL.n_mels,
                                  fmin=MEL.f_min)[1:]
    return coeffs - coeffs.mean(axis=1, keepdims=True)


def dtw_cost(a: np.ndarray, b: np.ndarray) -> float:
    """(d, n), (d, m) -> the cheapest alignment's summed frame distances / (n + m)."""
    cost = librosa.sequence.dtw(a, b, backtrack=False)
    return float(cost[-1, -1]) / (a.shape[1] + b.shape[1])


def nearest_digit(query: np.ndarray, templates: list[tuple[int, np.ndarray]]) -> int:
    return min(templates, key=lambda t: dtw_cost(query, t[1]))[0]


def held_out_accuracy(recordings: list[DigitRecording], speaker: str, every: int,
                      feats: dict) -> tuple[float, collections.Counter]:
    """Every take of `speaker` against takes 0, every, 2 * every, ... of the others."""
    others, queries = fsdd_speaker_split(recordings, speaker)
    templates = [(r.digit, feats[r.path]) for r in others if r.take % every == 0]
    confusions: collections.Counter = collections.Counter()
    for r in queries:
        guess = nearest_digit(feats[r.path], templates)
        if guess != r.digit:
            confusions[(DIGIT_WORDS[r.digit], DIGIT_WORDS[guess])] += 1
    return 1 - sum(confusions.values()) / len(queries), confusions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=str(SHARED / "fsdd" / "recordings"))
    parser.add_argument("--holdout", nargs="*", default=[],
                        help="voices to hold out in turn (default: every one)")
    parser.add_argument("--every", type=int, default=5,
                        help="templates: takes 0, N, 2N, ... of each other voice's digits")
    args = parser.parse_args()
    recordings = read_fsdd(args.data)
    speakers = args.holdout or sorted({r.speaker for r in recordings})
    feats = {r.path: mfcc(read_audio(r.path, MEL.sample_rate).samples) for r in recordings}
    rows, result = [], {}
    for speaker in speakers:
        accuracy, confusions = held_out_accuracy(recordings, speaker, args.every, feats)
        top = ", ".join(f"{a}->{b} {n}" for (a, b), n in confusions.most_common(3))
        rows.append((speaker, f"{accuracy:.4f}  ({top})"))
        result[speaker] = {"isolated_accuracy": accuracy,
                           "confusions": [[a, b, n] for (a, b), n in confusions.most_common()]}
    rows.append(("templates", f"takes 0, {args.every}, ... of the other voices' digits"))
    report("speech_template_baseline", rows,
           {"unseen_speaker": result, "template_every": args.every,
            "features": "MFCC 1-12, cepstral mean removed; DTW 1-nearest-neighbour"})


if __name__ == "__main__":
    run(main)
