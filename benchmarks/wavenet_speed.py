"""Samples per second of cached generation (Fast WaveNet queues) and of naive generation
(a full forward pass over the receptive field for every sample) for the shipped default
model, batch 1, on this CPU. Naive is timed in steady state: its window is already the
whole receptive field (a prompt of that many generated samples).

    .venv/bin/python benchmarks/wavenet_speed.py [--seconds 1] [--naive-samples 200]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import torch

from neocog.apps.wavenet import DEFAULT_WEIGHTS, Synthesizer
from neocog.apps.wavenet.fast import naive_generate
from neocog.core.precision import set_threads

from common import report, run

TARGET_CACHED, TARGET_RATIO = 8000.0, 50.0


def timed(fn, samples: int) -> tuple[float, float]:
    """(samples per wall-clock second, samples per CPU second of this process) of fn():
    on cores shared with other jobs the second shows what the code does on a free core."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return samples / (time.perf_counter() - wall), samples / (time.process_time() - cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=1.0, help="audio per cached run")
    parser.add_argument("--runs", type=int, default=5, help="cached runs (median)")
    parser.add_argument("--naive-samples", type=int, default=200)
    args = parser.parse_args()
    set_threads(1)  # batch 1 is latency-bound; extra threads only spin
    synth = Synthesizer(DEFAULT_WEIGHTS)
    rate, rf = synth.sample_rate, synth.model.config.receptive_field
    n = int(args.seconds * rate)
    cached = [timed(lambda i=i: synth.generate(args.seconds, seed=i), n) for i in range(args.runs)]
    mel = torch.zeros(1, synth.mel.n_mels, (rf + args.naive_samples) // synth.mel.hop_length + 1)
    inputs = synth.names("", "") | {"mel": mel}
    prompt = torch.from_numpy(synth.generator.generate(inputs, rf, seed=0)).view(1, -1)
    with torch.no_grad():
        naive, naive_cpu = timed(lambda: naive_generate(synth.model, inputs, args.naive_samples,
                                                        prompt=prompt), args.naive_samples)
    median = statistics.median(w for w, _ in cached)
    median_cpu = statistics.median(c for _, c in cached)
    report("wavenet_speed", [
        ("model", f"{len(synth.model.config.dilations)} layers, receptive field {rf} samples"),
        ("cached samples/s", f"median {median:.0f} wall, {median_cpu:.0f} per CPU second, "
                             f"{args.runs} runs (target >= {TARGET_CACHED:.0f}: real time)"),
        ("naive samples/s", f"{naive:.1f} wall, {naive_cpu:.1f} per CPU second"),
        ("cached / naive", f"{median / naive:.0f}x wall, {median_cpu / naive_cpu:.0f}x CPU "
                           f"(target >= {TARGET_RATIO:.0f}x)"),
        ("load average", f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"),
    ], {"cached_samples_per_s_median": median, "cached_samples_per_cpu_s_median": median_cpu,
        "cached_runs_wall_cpu": cached, "naive_samples_per_s": naive,
        "naive_samples_per_cpu_s": naive_cpu, "speedup_wall": median / naive,
        "speedup_cpu": median_cpu / naive_cpu, "receptive_field": rf,
        "layers": len(synth.model.config.dilations), "batch": 1, "torch_threads_used": 1,
        "load_average_1min": os.getloadavg()[0],
        "meets_target_wall": median >= TARGET_CACHED and median / naive >= TARGET_RATIO,
        "meets_target_cpu": median_cpu >= TARGET_CACHED and median_cpu / naive_cpu >= TARGET_RATIO})

if __name__ == "__main__":
    run(main)
