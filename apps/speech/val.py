"""`neocog speech val --manifest FILE|DIR`: WER, CER and exact-match accuracy (the
figure for isolated words) of a model on a manifest or corpus folder."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from neocog.core.checkpoint import atomic_write
from neocog.core.config import parse_config
from neocog.core.errors import NeocogError
from neocog.core.trainer import run_dir_for
from neocog.datasets.audio import read_audio
from neocog.datasets.speech import read_corpus

from ..common import Failures, readable, run_main
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
    # A file that cannot be read is reported and left out of the score; the exit status
    # says so (a batch command carries on, as transcribe does).
    failures, rate = Failures(), transcriber.mel.sample_rate
    waves = dict(readable(lambda p: read_audio(p, rate).samples, [i.audio for i in items],
                          failures))
    items = [i for i in items if i.audio in waves]
    if not items:
        raise NeocogError(f"{cfg.manifest}: none of its audio could be read")
    hypotheses = [transcriber.transcribe_wave(waves[i.audio]) for i in items]
    rates = error_rates([i.text for i in items], hypotheses)
    out = run_dir_for(cfg.project, TASK, cfg.name or "val", resume=False)
    rows = [{"audio": str(i.audio), "text": i.text, "hypothesis": h}
            for i, h in zip(items, hypotheses, strict=True)]
    text = "".join(json.dumps(r) + "\n" for r in rows)
    atomic_write(out / "transcripts.jsonl", lambda tmp: tmp.write_text(text))
    summary = json.dumps({"weights": str(transcriber.weights), "utterances": len(items),
                          "unreadable": failures.count, **rates, "config": asdict(cfg)}, indent=2)
    atomic_write(out / "metrics.json", lambda tmp: tmp.write_text(summary))
    print(f"WER {rates['wer']:.4f}  CER {rates['cer']:.4f}  accuracy {rates['accuracy']:.4f}"
          f"  on {len(items)} utterances")
    print(f"transcripts and metrics: {out}")
    return failures.status


if __name__ == "__main__":
    raise SystemExit(run_main(main))
