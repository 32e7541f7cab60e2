"""Train the default WaveNet vocoder on four FSDD speakers (../shared/data/fsdd), then
score the fifth, unseen speaker: bits per sample of all their recordings, and (with the
speech app's default recogniser) digit accuracy of vocoded audio next to the originals.
`--ship` copies the trained weights into the package as its default model.

    .venv/bin/python benchmarks/wavenet_quality.py [--ship] [--skip-recognition]
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

import numpy as np
import torch
from common import SHARED, report

from neocog.apps.wavenet import DEFAULT_WEIGHTS, Synthesizer, WaveNetTrainConfig, train
from neocog.apps.wavenet.data import list_items, split_items
from neocog.apps.wavenet.metrics import bits_per_sample
from neocog.apps.wavenet.train import load_clips
from neocog.core.errors import NeocogError
from neocog.datasets.audio import read_audio

WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
TARGET_RATIO, TARGET_SECONDS = 0.9, 1800.0


def transcriber():
    """The speech app's default recogniser, imported only when asked for."""
    try:
        from neocog.apps.speech import Transcriber
    except ImportError as err:
        raise NeocogError(f"the speech app is missing ({err}); it gives the digit accuracy: "
                          "install it or rerun with --skip-recognition") from None
    return Transcriber()


def digit_accuracy(synth: Synthesizer, files: list[Path], seed: int) -> dict[str, float]:
    """Share of files whose digit (the file name's first field) the recogniser hears,
    in the original and in the vocoded audio."""
    recognise = transcriber()
    hits = np.zeros((2, len(files)))
    for i, path in enumerate(files):
        wave = read_audio(path, synth.sample_rate).samples
        word = WORDS[int(path.name.split("_")[0])]
        vocoded = synth.vocode(wave, seed=seed + i)
        for j, audio in enumerate((wave, vocoded)):
            text = recognise.transcribe(audio, sample_rate=synth.sample_rate)
            hits[j, i] = text.strip() == word
    return {"original_accuracy": float(hits[0].mean()), "vocoded_accuracy": float(hits[1].mean())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", default=str(SHARED / "fsdd" / "recordings"))
    parser.add_argument("--unseen", default="lucas", help="speaker held out of training")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--epoch-crops", type=int, default=800)
    parser.add_argument("--vocode-files", type=int, default=100,
                        help="unseen-speaker files vocoded and transcribed (10 per digit)")
    parser.add_argument("--skip-recognition", action="store_true")
    parser.add_argument("--ship", action="store_true", help="copy the weights into the package")
    args = parser.parse_args()
    # One thread: on 2 cores shared with other jobs, OpenMP threads that spin-wait for
    # each other made every op 5-60x slower than a single thread.
    torch.set_num_threads(1)
    if not args.skip_recognition:
        transcriber()  # fail before training, not after
    items = list_items(args.data, "label,speaker")
    seen = [i for i in items if i.speaker != args.unseen]
    unseen = [i for i in items if i.speaker == args.unseen]
    train_items, val_items = split_items(seen, 0.02, seed=0)
    cfg = WaveNetTrainConfig(epochs=args.epochs, epoch_crops=args.epoch_crops, val_clips=20,
                             project="runs/benchmarks", name="wavenet_quality")
    shutil.rmtree("runs/benchmarks/wavenet/wavenet_quality", ignore_errors=True)
    started = time.perf_counter()
    result = train(cfg, train_items, val_items)
    seconds = time.perf_counter() - started
    weights = result.run_dir / "best.safetensors"
    synth = Synthesizer(weights)
    clips = load_clips(unseen, synth.model, 0, [], [])  # the unseen speaker: no names
    bits = bits_per_sample(synth.model, clips)
    rows = [("unseen speaker", f"{args.unseen}: {len(unseen)} recordings, never trained on"),
            ("bits per sample", f"{bits:.3f}  (8 = uniform over 256 mu-law codes)"),
            ("training wall s", f"{seconds:.1f}  (target <= {TARGET_SECONDS:.0f})")]
    result_json = {"unseen_speaker": args.unseen, "unseen_recordings": len(unseen),
                   "bits_per_sample": bits, "train_seconds": seconds,
                   "train_recordings": len(train_items), "epochs": cfg.epochs,
                   "epoch_crops": cfg.epoch_crops, "batch_size": cfg.batch_size,
                   "model": synth.model.spec()["config"], "shipped": args.ship,
                   "recognition": "skipped" if args.skip_recognition else "speech app default"}
    if not args.skip_recognition:
        files = sorted((i.path for i in unseen), key=lambda p: int(p.stem.split("_")[2]))
        scores = digit_accuracy(synth, files[: args.vocode_files], seed=0)
        ratio = scores["vocoded_accuracy"] / max(scores["original_accuracy"], 1e-9)
        rows += [("digit accuracy, original", f"{scores['original_accuracy']:.3f}"),
                 ("digit accuracy, vocoded", f"{scores['vocoded_accuracy']:.3f}  "
                  f"({ratio:.2f} of the original's; target >= {TARGET_RATIO})")]
        result_json |= scores | {"vocoded_files": min(args.vocode_files, len(files)),
                                 "meets_target": ratio >= TARGET_RATIO
                                 and seconds <= TARGET_SECONDS}
    if args.ship:
        shutil.copyfile(weights, DEFAULT_WEIGHTS)
    report("wavenet_quality", rows, result_json)


if __name__ == "__main__":
    main()
