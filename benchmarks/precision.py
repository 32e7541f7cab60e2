"""Precision and memory format, measured for every app in one process: training
throughput (samples/s over a fixed number of steps of the default recipe, data loading
included) and the shipped model's inference throughput (forward passes at batch 1 and
at the app's infer batch) in fp32, fp32 + channels_last, bf16 + channels_last and bf16
(fp16 too on CUDA); how closely bf16 agrees with fp32 (max abs difference of outputs,
and the app's metric on its validation set); what `--precision auto` picks and why.

    .venv/bin/python benchmarks/precision.py [--apps classify,detect] [--ship]

`--ship` writes the measured speed table that `auto` reads on a CPU
(core/assets/cpu_speed.json).
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch

from neocog.core.checkpoint import atomic_write
from neocog.core.precision import (
    SPEED_TABLE,
    Runtime,
    choose_cpu,
    cpu_has_native_bf16,
    set_threads,
    to_fp32,
)
from neocog.core.trainer import Trainer

from common import SHARED, machine, report, run

Variant = tuple[str, str]  # (precision, memory format)
VARIANTS_2D: list[Variant] = [("fp32", "contiguous"), ("fp32", "channels_last"),
                              ("bf16", "channels_last"), ("bf16", "contiguous")]
VARIANTS_1D: list[Variant] = [("fp32", "contiguous"), ("bf16", "contiguous")]
SCENES = SHARED / "benchmarks" / "digit_scenes_val"
LOCATE_VAL = SHARED / "benchmarks" / "digit_locate_val" / "annotations.json"
SEQUENCES = SHARED / "benchmarks" / "fsdd_sequences_val" / "manifest.jsonl"
FSDD = SHARED / "fsdd" / "recordings"


def key(variant: Variant) -> str:
    """("bf16", "channels_last") -> "bf16_cl": the speed table's variant names."""
    return variant[0] + ("_cl" if variant[1] == "channels_last" else "")


@dataclass
class Case:
    """One app: its default recipe's trainer, its shipped predictor, real inputs, a metric."""

    app: str
    trainer: Callable[[], Trainer]  # the default recipe, set up, not started
    predictor: Callable[[str, str], Any]  # (precision, memory format) -> shipped predictor
    inputs: Callable[[Any, int], Any]  # (predictor, n) -> n real inputs for the model
    score: Callable[[Any], tuple[str, float]]  # predictor -> (metric name, value) on val
    infer_batch: int
    steps: int  # training steps timed
    conv2d: bool = True


def classify_case(recipe: str = "mnist") -> Case:
    """The MNIST default, or with recipe "cifar10" the CIFAR-10 recipe and shipped model
    (the heaviest conv training of the package)."""
    from neocog.apps.classification import Classifier, ClassifyTrainConfig
    from neocog.apps.classification.data import ArrayDataset, load_split
    from neocog.apps.classification.metrics import evaluate
    from neocog.apps.classification.train import make_trainer, with_recipe

    data = SHARED / ("mnist" if recipe == "mnist" else "cifar10/train")
    cfg = with_recipe(ClassifyTrainConfig(recipe=recipe, data=str(data), project="runs/benchmarks",
                                          name="precision"), None)
    split = load_split(cfg.data, cfg.val_fraction, cfg.imgsz)
    weights = "" if recipe == "mnist" else recipe  # the shipped model of that name

    def score(clf: Classifier) -> tuple[str, float]:
        data = ArrayDataset(split.val_images, split.val_labels, clf.pre)
        return "top1", evaluate(clf.model, data, clf.names, runtime=clf.runtime).top1

    return Case("classify" if recipe == "mnist" else f"classify-{recipe}", lambda: make_trainer(cfg),
                lambda p, m: Classifier(weights, precision=p, memory_format=m),
                lambda clf, n: torch.stack([clf.prepare(im) for im in split.val_images[:n]]),
                score, infer_batch=64, steps=max(10, 2560 // cfg.batch_size))


def locate_case() -> Case:
    from neocog.apps.localization import Localizer, LocateTrainConfig
    from neocog.apps.localization.data import coco_source, to_input
    from neocog.apps.localization.metrics import evaluate
    from neocog.apps.localization.train import make_trainer

    cfg = LocateTrainConfig(data=str(SHARED / "mnist"), project="runs/benchmarks", name="precision")
    source = coco_source(str(LOCATE_VAL), "largest")[0]

    def inputs(loc: Localizer, n: int) -> torch.Tensor:
        return torch.stack([to_input(source[i][0], loc.pre)[0] for i in range(n)])

    def score(loc: Localizer) -> tuple[str, float]:
        return "corloc", evaluate(loc.model, loc.pre, source, runtime=loc.runtime).corloc

    return Case("locate", lambda: make_trainer(cfg),
                lambda p, m: Localizer(precision=p, memory_format=m), inputs, score,
                infer_batch=32, steps=20)


def detect_case() -> Case:
    from neocog.apps.detection import Detector, DetectTrainConfig
    from neocog.apps.detection.data import load_rgb, to_tensor
    from neocog.apps.detection.metrics import evaluate
    from neocog.apps.detection.train import make_trainer
    from neocog.core.boxes import letterbox
    from neocog.datasets.detection import read_coco

    cfg = DetectTrainConfig(mnist=str(SHARED / "mnist"), project="runs/benchmarks", name="precision")
    records = read_coco(str(SCENES / "images"), str(SCENES / "annotations.json"))

    def inputs(det: Detector, n: int) -> torch.Tensor:
        return torch.stack([to_tensor(letterbox(load_rgb(path), det.size)[0])
                            for path in records.images[:n]])

    def score(det: Detector) -> tuple[str, float]:
        return "map", evaluate(det.model, records, det.size, runtime=det.runtime).map

    return Case("detect", lambda: make_trainer(cfg),
                lambda p, m: Detector(precision=p, memory_format=m), inputs, score,
                infer_batch=16, steps=15)


def speech_case() -> Case:
    from neocog.apps.speech import SpeechTrainConfig, Transcriber
    from neocog.apps.speech.data import features, pad_specs
    from neocog.apps.speech.metrics import error_rates
    from neocog.apps.speech.train import make_trainer
    from neocog.datasets.audio import read_audio
    from neocog.datasets.speech import read_manifest

    cfg = SpeechTrainConfig(data=str(FSDD), project="runs/benchmarks", name="precision")
    items = read_manifest(SEQUENCES)
    waves = [read_audio(i.audio, 8000).samples for i in items]

    def inputs(t: Transcriber, n: int) -> torch.Tensor:
        return pad_specs([features(torch.from_numpy(w), t.mel) for w in waves[:n]])[0]

    def score(t: Transcriber) -> tuple[str, float]:
        return "wer", error_rates([i.text for i in items], [t.transcribe_wave(w) for w in waves])["wer"]

    return Case("speech", lambda: make_trainer(cfg),
                lambda p, m: Transcriber(precision=p, memory_format=m), inputs, score,
                infer_batch=32, steps=20)


def wavenet_case() -> Case:
    from neocog.apps.wavenet import Synthesizer, WaveNetTrainConfig
    from neocog.apps.wavenet.data import list_items, previous, split_items
    from neocog.apps.wavenet.metrics import bits_per_sample
    from neocog.apps.wavenet.train import load_clips, make_trainer

    cfg = WaveNetTrainConfig(data=str(FSDD), project="runs/benchmarks", name="precision")
    items = list_items(str(FSDD), "label,speaker")
    train_items, val_items = split_items(items, 0.02, seed=0)

    def clips(synth: Synthesizer) -> list:
        return load_clips(val_items[:20], synth.model, 0, synth.speakers, synth.labels)

    def inputs(synth: Synthesizer, n: int) -> dict[str, torch.Tensor]:
        clip = clips(synth)[0]  # val scores one whole recording per forward pass
        return {"codes": previous(clip.codes)[None], "mel": clip.mel[None],
                "speaker": torch.tensor([clip.speaker]), "label": torch.tensor([clip.label])}

    def score(synth: Synthesizer) -> tuple[str, float]:
        return "bits", bits_per_sample(synth.model, clips(synth), runtime=synth.runtime)

    return Case("wavenet", lambda: make_trainer(cfg, train_items, val_items),
                lambda p, m: Synthesizer(precision=p, memory_format=m), inputs, score,
                # 60 steps: its crops vary in cost, and 10 steps measured bf16 1.09x faster
                # where whole runs showed it slower
                infer_batch=1, steps=60, conv2d=False)


CASES = {"classify": classify_case, "classify-cifar10": lambda: classify_case("cifar10"),
         "locate": locate_case, "detect": detect_case,
         "speech": speech_case, "wavenet": wavenet_case}


def variant_trainer(base: Trainer, pristine: torch.nn.Module, variant: Variant) -> Trainer:
    """The base recipe's trainer with a fresh copy of its initial model, run in `variant`."""
    cfg = replace(base.config, precision=variant[0], memory_format=variant[1])
    return Trainer(copy.deepcopy(pristine), base.loader.dataset, cfg, base.run_dir, base.evaluate,
                   base.monitor, base.meta, base.loader.collate_fn)


def train_speed(trainer: Trainer, steps: int, warmup: int = 3) -> float:
    """Samples per second over `steps` optimizer steps, batches loaded as in training."""
    trainer.net.train()
    batches = iter(trainer.loader)
    for _ in range(warmup):  # oneDNN builds its kernels for each new shape on first use
        trainer.step(*next(batches))
    started = time.perf_counter()
    for _ in range(steps):
        trainer.step(*next(batches))
    return steps * trainer.config.batch_size / (time.perf_counter() - started)


@torch.no_grad()
def infer_speed(model: torch.nn.Module, runtime: Runtime, inputs: Any, n: int,
                seconds: float = 2.0) -> float:
    """Samples per second of forward passes on `inputs` (a batch of n), over >= `seconds`."""
    for _ in range(3):
        runtime.forward(model, inputs)
    calls, started = 0, time.perf_counter()
    while calls < 5 or time.perf_counter() - started < seconds:
        runtime.forward(model, inputs)
        calls += 1
    return calls * n / (time.perf_counter() - started)


def max_abs_diff(a: Any, b: Any) -> float:
    """Largest |a - b| over the floating tensors of two nested outputs of one model."""
    if isinstance(a, torch.Tensor):
        return float((a - b).abs().max()) if a.is_floating_point() else 0.0
    if dataclasses.is_dataclass(a):
        a, b = vars(a), vars(b)
    if isinstance(a, dict):
        return max((max_abs_diff(a[k], b[k]) for k in a), default=0.0)
    if isinstance(a, list | tuple):
        return max((max_abs_diff(x, y) for x, y in zip(a, b, strict=True)), default=0.0)
    return 0.0


def measure_train(case: Case, variants: list[Variant], rounds: int) -> dict[str, float]:
    """The best of `rounds` interleaved measurements of each variant: the first steps of a
    process (allocator, page faults, oneDNN kernel builds) would otherwise count against
    whichever variant runs first."""
    base = case.trainer()
    pristine = copy.deepcopy(base.model).to(memory_format=torch.contiguous_format)
    trainers = {key(v): variant_trainer(base, pristine, v) for v in variants}
    speeds: dict[str, float] = {}
    for _ in range(rounds):
        for name, trainer in trainers.items():
            speeds[name] = max(speeds.get(name, 0.0), train_speed(trainer, case.steps))
    print(f"  {case.app} train samples/s: {json.dumps(speeds)}", flush=True)
    return speeds


def measure_infer(case: Case, variants: list[Variant], rounds: int) -> dict[str, dict]:
    """Forward speed (best of `rounds`, interleaved), output agreement and the val metric."""
    predictors = {key(v): case.predictor(*v) for v in variants}
    results: dict[str, dict] = {name: {} for name in predictors}
    for _ in range(rounds):
        for name, predictor in predictors.items():
            for n in sorted({1, case.infer_batch}):
                speed = infer_speed(predictor.model, predictor.runtime, case.inputs(predictor, n), n)
                results[name][f"batch{n}"] = max(results[name].get(f"batch{n}", 0.0), speed)
    reference = None
    for name, predictor in predictors.items():
        model, runtime, row = predictor.model, predictor.runtime, results[name]
        batch = case.inputs(predictor, case.infer_batch)
        with torch.no_grad():
            out = to_fp32(runtime.forward(model, batch))
        reference = out if reference is None else reference
        row["max_abs_diff"] = max_abs_diff(reference, out)
        row["metric"], row["value"] = case.score(predictor)
        print(f"  {case.app} infer {name}: {json.dumps(row)}", flush=True)
    return results


def relative(speeds: dict[str, float]) -> dict[str, float]:
    return {k: round(v / speeds["fp32"], 3) for k, v in speeds.items()}


def speed_table(results: dict[str, dict]) -> dict[str, dict[str, dict[str, float]]]:
    """app -> mode -> variant -> speed / fp32's: "train", "infer" (the app's infer batch)
    and "stream" (batch 1), each decided apart by auto."""
    table = {}
    for app, r in results.items():
        batches = sorted(int(b[5:]) for b in r["infer"]["fp32"] if b.startswith("batch"))
        table[app] = {"train": relative(r["train"])}
        for mode, n in (("infer", batches[-1]), ("stream", 1)):
            table[app][mode] = relative({v: row[f"batch{n}"] for v, row in r["infer"].items()})
    return table


def picks(table: dict) -> dict[str, dict[str, str]]:
    """What auto picks per app and mode, on this CPU and on one without native bf16."""
    out: dict[str, dict[str, str]] = {}
    for app in table:
        for native, label in ((True, "native_bf16"), (False, "no_bf16")):
            infer = choose_cpu(app, "infer", "auto", native, table)
            chosen = {"train": choose_cpu(app, "train", "auto", native, table), "infer": infer,
                      # batch 1 runs on the weights as infer laid them out
                      "stream": choose_cpu(app, "stream", "auto", native, table, layout=infer[1])}
            for mode, (name, cl, _) in chosen.items():
                out.setdefault(app, {})[f"{mode}_{label}"] = name + (" + channels_last" if cl else "")
    return out


def ship(table: dict) -> None:
    record = {"written_by": "benchmarks/precision.py --ship", "machine": machine()["cpu"],
              "speed": table}
    text = json.dumps(record, indent=2) + "\n"
    atomic_write(SPEED_TABLE, lambda tmp: tmp.write_text(text))
    print(f"  speed table for --precision auto -> {SPEED_TABLE}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--apps", default="", help="comma-separated apps to measure; default: "
                        "all, or none with --table-from")
    parser.add_argument("--threads", type=int, default=0, help="torch threads; 0: the cores")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds; the best counts")
    parser.add_argument("--ship", action="store_true", help="write the table auto reads")
    parser.add_argument("--table-from", default="", help="start from this earlier run's JSON: "
                        "--apps are measured again and replace theirs; the table, the picks "
                        "and --ship are rebuilt from the whole")
    args = parser.parse_args()
    threads = set_threads(args.threads)
    earlier = json.loads(Path(args.table_from).read_text()) if args.table_from else {}
    results = earlier.get("results", {})
    apps = args.apps.split(",") if args.apps else [] if args.table_from else list(CASES)
    for app in apps:
        case = CASES[app]()
        variants = VARIANTS_2D if case.conv2d else VARIANTS_1D
        if torch.cuda.is_available():
            variants = variants + [("fp16", "channels_last" if case.conv2d else "contiguous")]
        results[app] = {"train": measure_train(case, variants, args.rounds),
                        "train_steps": case.steps, "infer": measure_infer(case, variants, args.rounds)}
    table = speed_table(results)
    chosen = picks(table)
    rows = []
    for app, r in results.items():
        train = "  ".join(f"{v} {s:7.1f}" for v, s in r["train"].items())
        rows.append((f"{app} train samples/s", train))
        for b in [k for k in next(iter(r["infer"].values())) if k.startswith("batch")]:
            infer = "  ".join(f"{v} {row[b]:7.1f}" for v, row in r["infer"].items())
            rows.append((f"{app} infer {b} samples/s", infer))
        agree = "  ".join(f"{v} {row['metric']} {row['value']:.4f} (max|d| {row['max_abs_diff']:.3g})"
                          for v, row in r["infer"].items())
        rows.append((f"{app} agreement", agree))
        rows.append((f"{app} auto picks", json.dumps(chosen[app])))
    if args.ship:
        ship(table)
    measured = {"measured_by": [*earlier.get("measured_by", [earlier["command"]]),
                                *([" ".join(sys.argv)] if apps else [])]} if earlier else {}
    report("precision", rows, {"threads": threads, "native_bf16": cpu_has_native_bf16(),
                               "results": results, "speed_table": table, "auto": chosen, **measured})


if __name__ == "__main__":
    run(main)
