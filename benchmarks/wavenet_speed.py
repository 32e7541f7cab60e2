"""Samples per second of cached generation (Fast WaveNet queues) and of naive generation
(a full forward pass over the receptive field for every sample) for the shipped default
model, batch 1, on this CPU. Naive is timed in steady state: its window is already the
whole receptive field (a prompt of that many generated samples).

    .venv/bin/python benchmarks/wavenet_speed.py [--seconds 1] [--naive-samples 200]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from common import report
from neocog.apps.wavenet import DEFAULT_WEIGHTS, Synthesizer
from neocog.apps.wavenet.fast import naive_generate

TARGET_CACHED, TARGET_RATIO = 8000.0, 50.0


def timed(fn, samples: int) -> float:
    """samples per second of one call of fn()."""
    started = time.perf_counter()
    fn()
    return samples / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=1.0, help="audio per cached run")
    parser.add_argument("--runs", type=int, default=5, help="cached runs (median and best)")
    parser.add_argument("--naive-samples", type=int, default=200)
    args = parser.parse_args()
    torch.set_num_threads(1)  # batch 1 is latency-bound; extra threads only spin
    synth = Synthesizer(DEFAULT_WEIGHTS)
    rate, rf = synth.sample_rate, synth.model.config.receptive_field
    n = int(args.seconds * rate)
    cached = [timed(lambda i=i: synth.generate(args.seconds, seed=i), n) for i in range(args.runs)]
    mel = torch.zeros(1, synth.mel.n_mels, (rf + args.naive_samples) // synth.mel.hop_length + 1)
    inputs = synth.names("", "") | {"mel": mel}
    prompt = torch.from_numpy(synth.generator.generate(inputs, rf, seed=0)).view(1, -1)
    with torch.no_grad():
        naive = timed(lambda: naive_generate(synth.model, inputs, args.naive_samples,
                                             prompt=prompt), args.naive_samples)
    median, best = statistics.median(cached), max(cached)
    report("wavenet_speed", [
        ("model", f"{len(synth.model.config.dilations)} layers, receptive field {rf} samples"),
        ("cached samples/s", f"median {median:.0f}, best {best:.0f} of {args.runs} runs "
                             f"(target >= {TARGET_CACHED:.0f}: real time at {rate} Hz)"),
        ("naive samples/s", f"{naive:.1f}"),
        ("cached / naive", f"{median / naive:.0f}x  (target >= {TARGET_RATIO:.0f}x)"),
    ], {"cached_samples_per_s_median": median, "cached_samples_per_s_best": best,
        "cached_runs": cached, "naive_samples_per_s": naive, "speedup_median": median / naive,
        "receptive_field": rf, "layers": len(synth.model.config.dilations), "batch": 1,
        "torch_threads_used": 1,
        "meets_target": median >= TARGET_CACHED and median / naive >= TARGET_RATIO})


if __name__ == "__main__":
    main()
