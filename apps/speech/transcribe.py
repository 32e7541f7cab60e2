"""`neocog transcribe FILE_OR_DIR... [--json] [--weights W] [--vocabulary w1,w2,...]`,
or `neocog transcribe --mic` to transcribe the microphone (sounddevice, optional)."""

from __future__ import annotations

import sys

from neocog.core.config import StrictParser, add_dataclass_args, dataclass_from_args
from neocog.core.errors import NeocogError

from ..common import run_main
from .infer import TranscribeConfig, transcribe_sources, transcriber_for

MIC_SECONDS = 3.0  # the microphone is read and transcribed in pieces this long


def listen(cfg: TranscribeConfig) -> int:
    """Print a transcript of each MIC_SECONDS of the default microphone until Ctrl-C."""
    try:
        import sounddevice as sd
    except ImportError:
        raise NeocogError("--mic needs the optional package sounddevice "
                          "(pip install sounddevice)") from None
    transcriber = transcriber_for(cfg)
    rate = transcriber.mel.sample_rate
    try:
        sd.check_input_settings(samplerate=rate, channels=1)
    except Exception as err:  # noqa: BLE001 - PortAudio reports a missing device many ways
        raise NeocogError(f"--mic: no usable microphone ({err})") from None
    print(f"listening in {MIC_SECONDS:.0f} s pieces; Ctrl-C stops", file=sys.stderr)
    while True:
        piece = sd.rec(int(MIC_SECONDS * rate), samplerate=rate, channels=1, dtype="float32")
        sd.wait()
        try:
            print(transcriber.transcribe(piece[:, 0], sample_rate=rate), flush=True)
        except NeocogError:  # a silent piece: nothing to say
            continue


def main(argv: list[str] | None = None) -> int:
    parser = StrictParser(prog="neocog transcribe",
                          description="Print the transcript of each audio file (wav, flac, ogg; "
                                      "folders are searched); uses the shipped model offline.")
    parser.add_argument("sources", nargs="*", metavar="FILE_OR_DIR")
    parser.add_argument("--mic", action="store_true", help="transcribe the microphone "
                        "(needs sounddevice)")
    add_dataclass_args(parser, TranscribeConfig)
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    cfg = dataclass_from_args(TranscribeConfig, args)
    if args.mic:
        return listen(cfg)
    if not args.sources:
        parser.error("give audio files or folders (FILE_OR_DIR...), or --mic")
    return transcribe_sources(args.sources, cfg)


if __name__ == "__main__":
    raise SystemExit(run_main(main))
