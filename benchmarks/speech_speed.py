"""Real-time factor of `Transcriber.transcribe` on a 60-second recording, CPU, from the
file on disk to the text (model loading timed apart). The recording is one FSDD
speaker's digits joined with pauses, written as a 60-second 8 kHz wav.

    .venv/bin/python benchmarks/speech_speed.py [--weights W]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from neocog.apps.speech import Transcriber, error_rates
from neocog.core.precision import set_threads
from neocog.datasets.speech import DIGIT_WORDS, DigitBank, DigitSpec, read_fsdd

from common import SHARED, add_threads_option, report, run

TARGET_RTF, SECONDS, RATE = 0.01, 60.0, 8000


def sixty_seconds(path: Path) -> str:
    """Write 60 s of one speaker's connected digits to `path`; return the reference text."""
    recordings = [r for r in read_fsdd(SHARED / "fsdd" / "recordings") if r.speaker == "lucas"]
    bank, rng = DigitBank(recordings, RATE), np.random.default_rng(0)
    waves, texts, total = [], [], 0
    while total < SECONDS * RATE:
        wave, text, _ = bank.utterance(rng, DigitSpec())
        waves.append(wave)
        texts.append(text)
        total += len(wave)
    sf.write(path, np.concatenate(waves)[: int(SECONDS * RATE)], RATE)
    return " ".join(texts)


def time_transcribe(transcriber: Transcriber, path: Path, repeats: int) -> tuple[float, str]:
    """Median seconds of transcribe(path) over `repeats` runs (after one warm-up)."""
    text = transcriber.transcribe(path)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        transcriber.transcribe(path)
        times.append(time.perf_counter() - started)
    return statistics.median(times), text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--weights", default="", help="default: the shipped model")
    parser.add_argument("--repeats", type=int, default=5)
    add_threads_option(parser, 1)
    args = parser.parse_args()
    set_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "sixty_seconds.wav"
        reference = sixty_seconds(path)
        started = time.perf_counter()
        greedy = Transcriber(args.weights or None, vocabulary=[])
        load_s = time.perf_counter() - started
        greedy_s, greedy_text = time_transcribe(greedy, path, args.repeats)
        lexicon = Transcriber(args.weights or None, vocabulary=DIGIT_WORDS)
        lexicon_s, lexicon_text = time_transcribe(lexicon, path, args.repeats)
    rtf, rtf_lexicon = greedy_s / SECONDS, lexicon_s / SECONDS
    wer = {"greedy": error_rates([reference], [greedy_text])["wer"],
           "lexicon": error_rates([reference], [lexicon_text])["wer"]}
    report("speech_speed", [
        ("audio", f"{SECONDS:.0f} s, 8 kHz wav (FSDD digits)"),
        ("RTF greedy", f"{rtf:.4f}  ({greedy_s * 1000:.0f} ms; target <= {TARGET_RTF})"),
        ("RTF lexicon beam", f"{rtf_lexicon:.4f}  ({lexicon_s * 1000:.0f} ms)"),
        ("WER of the 60 s", f"greedy {wer['greedy']:.4f}, lexicon {wer['lexicon']:.4f} "
                            "(cut at pauses into <= 20 s pieces)"),
        ("model load s", f"{load_s:.3f} (once per process, not in the RTF)"),
        ("threads", str(args.threads)),
    ], {"audio_seconds": SECONDS, "rtf_greedy": rtf, "rtf_lexicon": rtf_lexicon,
        "greedy_seconds": greedy_s, "lexicon_seconds": lexicon_s, "model_load_seconds": load_s,
        "wer_60s": wer,
        "threads": args.threads, "repeats": args.repeats,
        "weights": args.weights or "shipped", "meets_target": rtf <= TARGET_RTF})


if __name__ == "__main__":
    run(main)
