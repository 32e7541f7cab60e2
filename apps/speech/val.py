"""`neocog speech val --manifest FILE|DIR`: WER, CER and exact-match accuracy (the
figure for isolated words) of a model on a manifest or corpus folder."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from neocog.core.config import parse_config
from neocog.core.trainer import run_dir_for
from neocog.datasets.audio import read_audio
from neocog.datasets.speech import read_corpus

from ..common import run_main
from .infer import TranscribeConfig, transcriber_for
from .metrics import error_rates
from .predictor import TASK


@dataclass
class SpeechValConfig(TranscribeConfig):
    manifest: str = field(default="", metadata={
        "help": "JSONL manifest, or an FSDD / LibriSpeech / Speech Commands folder"})
    project: str = "runs"
    name: str = ""


def main(argv: list[str] | None = None) -> int:
    cfg = parse_config(SpeechValConfig, argv, "neocog speech val",
                       "Score a recogniser: WER, CER and exact-match accuracy.")
    if not cfg.manifest:
        raise SystemExit("neocog speech val: error: --manifest FILE|DIR is required")
    transcriber = transcriber_for(cfg)
    items = read_corpus(cfg.manifest)
    hypotheses = [transcriber.transcribe_wave(read_audio(i.audio, transcriber.mel.sample_rate)
                                              .samples) for i in items]
    rates = error_rates([i.text for i in items], hypotheses)
    out = run_dir_for(cfg.project, TASK, cfg.name or "val", resume=False)
    out.mkdir(parents=True, exist_ok=True)
    rows = [{"audio": str(i.audio), "text": i.text, "hypothesis": h}
            for i, h in zip(items, hypotheses, strict=True)]
    (out / "transcripts.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    summary = {"weights": str(transcriber.weights), "utterances": len(items), **rates,
               "config": asdict(cfg)}
    (out / "metrics.json").write_text(json.dumps(summary, indent=2))
    print(f"WER {rates['wer']:.4f}  CER {rates['cer']:.4f}  accuracy {rates['accuracy']:.4f}"
          f"  on {len(items)} utterances")
    print(f"transcripts and metrics: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(run_main(main))
