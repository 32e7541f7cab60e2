"""Speaker-independent spoken digits: train the default recipe on several voices' sources,
score it on whole speakers it never heard.

Held out of every run: a fixed 20% of the Speech Commands speakers (and of the synthetic
voices), by Speech Commands' own hash (`--holdout-share 0.2`), and one FSDD voice
(`--holdout`; `all` trains one model per FSDD voice, each held out in turn). Scored:
isolated-digit accuracy on the held-out Speech Commands speakers (per word), on the
held-out FSDD voice and synthetic voices; connected-digit WER on the held-out voice's
part of ../shared/data/benchmarks/fsdd_sequences_val and on 200 utterances composed from
held-out speakers. `--sources fsdd` / `fsdd,sc` is the ablation. `--ship` trains on every
voice and copies the weights into the package.

    .venv/bin/python benchmarks/speech_digits.py [--holdout george|all] [--sources fsdd,sc,synth] [--ship]
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from collections import defaultdict

import numpy as np

from neocog.apps.speech import DEFAULT_WEIGHTS, SpeechTrainConfig, Transcriber, error_rates, train
from neocog.apps.speech.predictor import TASK
from neocog.core.precision import set_threads
from neocog.datasets.audio import read_audio
from neocog.datasets.digit_sources import read_digit_sources, split_speakers
from neocog.datasets.speech import DIGIT_WORDS, DigitBank, DigitRecording, DigitSpec, read_manifest

from common import RESULTS, SHARED, add_threads_option, report, run, ship_half

TARGET_WER, TARGET_ACCURACY, TARGET_SECONDS = 0.05, 0.97, 1200.0
SHARE = 0.2  # of Speech Commands' speakers: its which_set validation + test
FSDD_VOICES = ["george", "jackson", "lucas", "nicolas", "yweweler"]
# The recipe's sources and their sampling weights (utterances drawn in proportion).
SOURCES = {"fsdd": (SHARED / "fsdd" / "recordings", 1.0),
           "sc": (SHARED / "speech_commands_digits", 2.0),
           "synth": (SHARED / "synth_digits", 0.5)}
SEQUENCES = SHARED / "benchmarks" / "fsdd_sequences_val" / "manifest.jsonl"


def data_option(sources: list[str]) -> str:
    return ",".join(f"{SOURCES[s][0]}={SOURCES[s][1]:g}" for s in sources)


def isolated(asr: Transcriber, recordings: list[DigitRecording]) -> dict:
    """Accuracy over `recordings` (lexicon decoding: one digit word each), and per word."""
    rate = asr.mel.sample_rate
    said = [asr.transcribe_wave(read_audio(r.path, rate).samples) for r in recordings]
    right = [s == DIGIT_WORDS[r.digit] for s, r in zip(said, recordings, strict=True)]
    per_word = defaultdict(list)
    for ok, r in zip(right, recordings, strict=True):
        per_word[DIGIT_WORDS[r.digit]].append(ok)
    return {"accuracy": float(np.mean(right)), "clips": len(right),
            "speakers": len({r.speaker for r in recordings}),
            "per_word": {w: float(np.mean(per_word[w])) for w in DIGIT_WORDS if w in per_word}}


def connected(asr: Transcriber, waves: list[np.ndarray], texts: list[str]) -> dict:
    return error_rates(texts, [asr.transcribe_wave(w) for w in waves])


def evaluate(weights: str, holdout: str) -> dict:
    """Every held-out figure of one model: the speakers its training held out, of every
    source (a model trained on fewer sources is scored on the same voices)."""
    asr = Transcriber(weights, vocabulary=DIGIT_WORDS)
    rate = asr.mel.sample_rate
    _, held = split_speakers(read_digit_sources(data_option(list(SOURCES))), holdout, SHARE)
    by_source = defaultdict(list)
    for r in held:
        by_source[r.source].append(r)
    results = {f"isolated_{name}": isolated(asr, recs) for name, recs in sorted(by_source.items())}
    sequences = read_manifest(SEQUENCES)
    mine = [i for i in sequences if i.speaker == holdout]
    results["sequences_val_unseen_voice"] = connected(
        asr, [read_audio(i.audio, rate).samples for i in mine], [i.text for i in mine])
    bank, rng = DigitBank(held, rate), np.random.default_rng(12345)
    composed = [bank.utterance(rng, DigitSpec()) for _ in range(200)]
    results["composed_unseen"] = connected(asr, [c[0] for c in composed], [c[1] for c in composed])
    return results


def train_one(args: argparse.Namespace, sources: list[str], holdout: str, tag: str
              ) -> tuple[str, float, str]:
    name = f"speech_digits_{tag}"
    cfg = SpeechTrainConfig(data=data_option(sources), holdout_speaker=holdout,
                            holdout_share=SHARE if holdout else 0.0, epochs=args.epochs,
                            width=args.width, recorded_noise=args.recorded_noise,
                            threads=args.threads, project="runs/benchmarks", name=name)
    shutil.rmtree(f"runs/benchmarks/speech/{name}", ignore_errors=True)
    started = time.perf_counter()
    result = train(cfg)
    # The last epoch, not the best: the trainer validates on the held-out speakers, and
    # picking the epoch on the speakers we score would flatter the figure.
    return (str(result.run_dir / f"{'last' if holdout else 'best'}.safetensors"),
            time.perf_counter() - started, str(result.runtime))


def one_voice(args: argparse.Namespace, sources: list[str], holdout: str) -> dict:
    tag = args.tag or "-".join(sources)
    weights, seconds, precision = train_one(args, sources, holdout, f"{tag}_{holdout}")
    results = evaluate(weights, holdout)
    rows = [(part, f"acc {r['accuracy']:.4f}" + (f"  WER {r['wer']:.4f}" if "wer" in r else ""))
            for part, r in results.items()]
    rows += [("training s", f"{seconds:.0f}  (target <= {TARGET_SECONDS:.0f})"),
             ("held out", f"FSDD {holdout}, {SHARE:.0%} of the other sources' speakers")]
    record = {"results": results, "train_seconds": seconds, "precision": precision,
              "holdout_voice": holdout, "holdout_share": SHARE, "sources": sources,
              "data": data_option(sources), "epochs": args.epochs, "width": args.width,
              "recorded_noise": args.recorded_noise, "threads": args.threads}
    report(f"speech_digits_{tag}_{holdout}", rows, record)
    return record


def summary(records: list[dict], tag: str) -> None:
    """The leave-speakers-out table over the voices: each voice's accuracy, the Speech
    Commands figures averaged over the runs, the worst voice and word."""
    voices = {r["holdout_voice"]: r["results"]["isolated_fsdd"]["accuracy"] for r in records}
    sc = [r["results"]["isolated_speech_commands_digits"] for r in records]
    words = {w: float(np.mean([s["per_word"][w] for s in sc])) for w in DIGIT_WORDS}
    wer = float(np.mean([r["results"]["composed_unseen"]["wer"] for r in records]))
    sc_acc = float(np.mean([s["accuracy"] for s in sc]))
    worst_voice, worst_word = min(voices, key=voices.get), min(words, key=words.get)
    rows = [(f"FSDD {v}", f"{a:.4f}") for v, a in voices.items()]
    rows += [("Speech Commands held out", f"{sc_acc:.4f} (mean of {len(sc)} runs)"),
             ("worst word", f"{worst_word} {words[worst_word]:.4f}"),
             ("worst voice", f"{worst_voice} {voices[worst_voice]:.4f}"),
             ("composed unseen WER", f"{wer:.4f}"),
             ("training s", f"{np.mean([r['train_seconds'] for r in records]):.0f} per model")]
    meets = (min(voices.values()) >= TARGET_ACCURACY and sc_acc >= TARGET_ACCURACY
             and wer <= TARGET_WER and max(r["train_seconds"] for r in records) <= TARGET_SECONDS)
    report(f"speech_digits_{tag}_loso", rows, {
        "fsdd_voices": voices, "speech_commands_accuracy": sc_acc, "per_word": words,
        "worst_word": worst_word, "worst_voice": worst_voice, "composed_unseen_wer": wer,
        "runs": [f"speech_digits_{tag}_{r['holdout_voice']}.json" for r in records],
        "meets_target": bool(meets)})


def ship(args: argparse.Namespace, sources: list[str]) -> None:
    weights, seconds, precision = train_one(args, sources, "", "ship")
    ship_half(weights, TASK, DEFAULT_WEIGHTS)
    asr = Transcriber(vocabulary=DIGIT_WORDS)  # what ships
    sequences = read_manifest(SEQUENCES)
    val = connected(asr, [read_audio(i.audio, asr.mel.sample_rate).samples for i in sequences],
                    [i.text for i in sequences])
    report("speech_digits_ship", [("fsdd_sequences_val (voices trained on)", f"WER {val['wer']:.4f}"),
                                  ("training s", f"{seconds:.0f}")],
           {"fsdd_sequences_val": val, "train_seconds": seconds, "precision": precision,
            "sources": sources, "data": data_option(sources), "epochs": args.epochs})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--holdout", default="george", help="FSDD voice never trained on, "
                        "or 'all': one model per voice")
    parser.add_argument("--sources", default="fsdd,sc,synth", help=f"of {', '.join(SOURCES)}")
    parser.add_argument("--ship", action="store_true", help="train on every voice and copy "
                        "the weights into the package")
    parser.add_argument("--epochs", type=int, default=SpeechTrainConfig.epochs)
    parser.add_argument("--width", type=int, default=SpeechTrainConfig.width)
    parser.add_argument("--recorded-noise", type=float, default=SpeechTrainConfig.recorded_noise)
    parser.add_argument("--tag", default="", help="result name (default: the sources)")
    parser.add_argument("--summary", action="store_true", help="no training: the table over "
                        "the voices from each voice's JSON of this tag (runs may be separate)")
    add_threads_option(parser, 2)
    args = parser.parse_args()
    set_threads(args.threads)
    sources = args.sources.split(",")
    if unknown := set(sources) - set(SOURCES):
        raise SystemExit(f"--sources: unknown {', '.join(sorted(unknown))}; of {', '.join(SOURCES)}")
    if args.ship:
        return ship(args, sources)
    voices = FSDD_VOICES if args.holdout == "all" else args.holdout.split(",")
    tag = args.tag or "-".join(sources)
    if args.summary:
        paths = [RESULTS / f"speech_digits_{tag}_{v}.json" for v in voices]
        if missing := [p.name for p in paths if not p.is_file()]:
            raise SystemExit(f"--summary: no run of {', '.join(missing)} in {RESULTS}")
        records = [json.loads(p.read_text()) for p in paths]
    else:
        records = [one_voice(args, sources, voice) for voice in voices]
    if len(records) > 1:
        summary(records, tag)


if __name__ == "__main__":
    run(main)
