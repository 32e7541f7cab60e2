"""`neocog transcribe FILE_OR_DIR... [--json] [--weights W] [--vocabulary w1,w2,...]`."""

from __future__ import annotations

import sys

from neocog.core.config import StrictParser, add_dataclass_args, dataclass_from_args

from ..common import run_main
from .infer import TranscribeConfig, transcribe_sources


def main(argv: list[str] | None = None) -> int:
    parser = StrictParser(prog="neocog transcribe",
                          description="Print the transcript of each audio file (wav, flac, ogg; "
                                      "folders are searched); uses the shipped model offline.")
    parser.add_argument("sources", nargs="+", metavar="FILE_OR_DIR")
    add_dataclass_args(parser, TranscribeConfig)
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    return transcribe_sources(args.sources, dataclass_from_args(TranscribeConfig, args))


if __name__ == "__main__":
    raise SystemExit(run_main(main))
