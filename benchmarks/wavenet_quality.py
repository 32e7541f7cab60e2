"""Train the default WaveNet vocoder on four FSDD speakers (../shared/data/fsdd), then
score the fifth, unseen speaker: bits per sample of all their recordings, and (with the
speech app's default recogniser) digit accuracy of vocoded audio next to the originals.
`--ship` copies the trained weights into the package as its default model.

    .venv/bin/python benchmarks/wavenet_quality.py [--ship] [--skip-recognition]
    .venv/bin/python benchmarks/wavenet_quality.py --weights W.safetensors   # score only
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

import numpy as np
import torch

from neocog.apps.wavenet import DEFAULT_WEIGHTS, Synthesizer, WaveNetTrainConfig, train
from neocog.apps.wavenet.data import QUANTIZATION, Clip, list_items, split_items
from neocog.apps.wavenet.metrics import bits_per_sample
from neocog.apps.wavenet.train import load_clips
from neocog.core.audio import log_mel
from neocog.core.errors import NeocogError
from neocog.core.precision import set_threads
from neocog.datasets.audio import read_audio

from common import SHARED, add_threads_option, report, run

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


def score_vocoded(synth: Synthesizer, files: list[Path], recognise) -> dict[str, float]:
    """Vocode each file; the mean correlation of its log-mel with the original's, and,
    given a recogniser, the share of files whose digit (the name's first field) it hears
    in the original and in the vocoded audio."""
    similarity, hits = [], np.zeros((2, len(files)))
    for i, path in enumerate(files):
        wave = read_audio(path, synth.sample_rate).samples
        vocoded = synth.vocode(wave, seed=i)
        mels = [log_mel(torch.from_numpy(w), synth.mel).flatten().numpy() for w in (wave, vocoded)]
        similarity.append(float(np.corrcoef(*mels)[0, 1]))
        if recognise is not None:
            word = WORDS[int(path.name.split("_")[0])]
            for j, audio in enumerate((wave, vocoded)):
                hits[j, i] = recognise.transcribe(audio, sample_rate=synth.sample_rate).strip() == word
    scores = {"vocoded_files": len(files), "log_mel_correlation": float(np.mean(similarity))}
    if recognise is not None:
        scores |= {"original_accuracy": float(hits[0].mean()),
                   "vocoded_accuracy": float(hits[1].mean())}
    return scores


def marginal_bits(reference: list[Clip], clips: list[Clip]) -> float:
    """Bits per sample of the best model that ignores all context: the code histogram of
    the `reference` clips (add-one smoothed), scored on `clips`. What the net must beat."""
    counts = torch.bincount(torch.cat([c.targets for c in reference]), minlength=QUANTIZATION) + 1.0
    log2p = (counts / counts.sum()).log2()
    return float(-log2p[torch.cat([c.targets for c in clips])].mean())


def train_without(items: list, unseen: str, cfg: WaveNetTrainConfig
                  ) -> tuple[Path, float, int, str]:
    """Train on every speaker but `unseen` (2% held out to pick the best epoch)
    -> (best weights, training seconds, recordings trained on)."""
    train_items, val_items = split_items([i for i in items if i.speaker != unseen], 0.02, seed=0)
    shutil.rmtree(f"{cfg.project}/wavenet/{cfg.name}", ignore_errors=True)
    started = time.perf_counter()
    result = train(cfg, train_items, val_items)
    return (result.run_dir / "best.safetensors", time.perf_counter() - started, len(train_items),
            str(result.runtime))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", default=str(SHARED / "fsdd" / "recordings"))
    parser.add_argument("--unseen", default="lucas", help="speaker held out of training")
    parser.add_argument("--epochs", type=int, default=WaveNetTrainConfig.epochs)
    parser.add_argument("--epoch-crops", type=int, default=WaveNetTrainConfig.epoch_crops)
    parser.add_argument("--lpc-order", type=int, default=WaveNetTrainConfig.lpc_order,
                        help="LPCNet-style envelope from the mel (0: a plain WaveNet)")
    parser.add_argument("--tag", default="", help="suffix of the result name (a variant)")
    add_threads_option(parser, 2)
    parser.add_argument("--vocode-files", type=int, default=100,
                        help="unseen-speaker files vocoded (and transcribed): 10 per digit")
    parser.add_argument("--skip-recognition", action="store_true")
    parser.add_argument("--ship", action="store_true", help="copy the weights into the package")
    parser.add_argument("--weights", default="", help="score these weights (trained without "
                        "--unseen) instead of training; e.g. the shipped model after the "
                        "speech model that scores it changed")
    args = parser.parse_args()
    if args.weights and args.ship:
        parser.error("--weights scores existing weights; there is nothing new to --ship")
    set_threads(args.threads)
    if not args.skip_recognition:
        transcriber()  # fail before training, not after
    items = list_items(args.data, "label,speaker")
    unseen = [i for i in items if i.speaker == args.unseen]
    name = "wavenet_quality" + ("_rescored" if args.weights else "") + (f"_{args.tag}" if args.tag else "")
    cfg = WaveNetTrainConfig(epochs=args.epochs, epoch_crops=args.epoch_crops, val_clips=20,
                             lpc_order=args.lpc_order, threads=args.threads, project="runs/benchmarks",
                             name=name)
    if args.weights:
        weights, seconds, trained_on, runtime = Path(args.weights), None, None, None
    else:
        weights, seconds, trained_on, runtime = train_without(items, args.unseen, cfg)
    synth = Synthesizer(weights)
    clips = load_clips(unseen, synth.model, 0, [], [])  # the unseen speaker: no names
    bits = bits_per_sample(synth.model, clips, runtime=synth.runtime)
    seen = [i for i in items if i.speaker != args.unseen][::4]  # a quarter of the training voices
    marginal = marginal_bits(load_clips(seen, synth.model, 0, [], []), clips)
    coded = "excitation codes" if synth.model.config.lpc_order else "sample codes"
    rows = [("unseen speaker", f"{args.unseen}: {len(unseen)} recordings, never trained on"),
            ("bits per sample", f"{bits:.3f}  of the {coded} (8 = uniform over 256 mu-law codes)"),
            ("context-free bits", f"{marginal:.3f}  (the training voices' code histogram: "
                                  "what the net must beat)"),
            ("training wall s", f"{seconds:.1f}  (target <= {TARGET_SECONDS:.0f})"
                                if seconds is not None else f"not trained here: scored {weights}")]
    result_json = {"unseen_speaker": args.unseen, "unseen_recordings": len(unseen),
                   "bits_per_sample": bits, "bits_of": coded, "context_free_bits": marginal,
                   "train_seconds": seconds, "precision": runtime,
                   "train_recordings": trained_on, "weights": str(weights), "epochs": cfg.epochs,
                   "epoch_crops": cfg.epoch_crops, "crop_frames": cfg.crop_frames,
                   "batch_size": cfg.batch_size, "threads": args.threads,
                   "model": synth.model.spec()["config"], "shipped": args.ship,
                   "recognition": "skipped" if args.skip_recognition else "speech app default"}
    files = sorted((i.path for i in unseen), key=lambda p: int(p.stem.split("_")[2]))
    scores = score_vocoded(synth, files[: args.vocode_files],
                           None if args.skip_recognition else transcriber())
    rows.append(("log-mel correlation", f"{scores['log_mel_correlation']:.3f}  vocoded vs "
                                        f"original, {scores['vocoded_files']} files"))
    result_json |= scores
    if not args.skip_recognition:
        ratio = scores["vocoded_accuracy"] / max(scores["original_accuracy"], 1e-9)
        rows += [("digit accuracy, original", f"{scores['original_accuracy']:.3f}"),
                 ("digit accuracy, vocoded", f"{scores['vocoded_accuracy']:.3f}  "
                  f"({ratio:.2f} of the original's; target >= {TARGET_RATIO})")]
        # A re-scored model's training time was not measured here, so it cannot meet the target.
        result_json["meets_target"] = (ratio >= TARGET_RATIO and seconds is not None
                                       and seconds <= TARGET_SECONDS)
    if args.ship:
        shutil.copyfile(weights, DEFAULT_WEIGHTS)
    report(name, rows, result_json)


if __name__ == "__main__":
    run(main)
