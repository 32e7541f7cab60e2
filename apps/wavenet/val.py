"""`neocog wavenet val --data FOLDER|MANIFEST`: negative log-likelihood in bits per sample."""

from __future__ import annotations

from dataclasses import dataclass, field

from neocog.core.config import parse_config
from neocog.core.precision import RuntimeConfig
from neocog.core.zoo import WEIGHTS_HELP

from ..common import print_json, run_main
from .data import list_items
from .metrics import bits_per_sample
from .predictor import Synthesizer
from .train import load_clips


@dataclass
class WaveNetValConfig(RuntimeConfig):
    data: str = field(default="", metadata={"help": "held-out audio: folder or JSONL manifest"})
    weights: str = field(default="", metadata={"help": f"{WEIGHTS_HELP}; default: the shipped model"})
    name_fields: str = field(default="", metadata={
        "help": "fields of '_'-separated file names, e.g. label,speaker (FSDD)"})
    json: bool = field(default=False, metadata={"help": "print {files, samples, bits_per_sample}"})


def main(argv: list[str] | None = None) -> int:
    cfg = parse_config(WaveNetValConfig, argv, "neocog wavenet val",
                       "Score held-out audio: -log2 p(sample | past, own log-mel) per sample.")
    if not cfg.data:
        raise SystemExit("neocog wavenet val: error: --data FOLDER|MANIFEST.jsonl is required")
    synth = Synthesizer(cfg.weights or None, cfg.device, cfg.precision, cfg.threads,
                     cfg.memory_format)
    items = list_items(cfg.data, cfg.name_fields)
    clips = load_clips(items, synth.model, 0, synth.speakers, synth.labels)
    bits = bits_per_sample(synth.model, clips, runtime=synth.runtime)
    samples = sum(c.codes.shape[0] for c in clips)
    # An LPC model is scored on what it draws: the excitation, the envelope being given.
    codes = "excitation" if synth.model.config.lpc_order else "sample"
    if cfg.json:
        print_json({"files": len(clips), "samples": samples, "bits_per_sample": bits,
                    "codes": codes})
    else:
        print(f"{bits:.4f} bits per sample ({codes} codes) over {len(clips)} files "
              f"({samples} samples)")
    return 0


if __name__ == "__main__":
    raise SystemExit(run_main(main))
