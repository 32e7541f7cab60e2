"""`neocog <task> <mode> [--options]`: dispatch to each app's entrypoint module."""

from __future__ import annotations

import importlib
import sys

from .common import run_main

# task -> mode -> module whose main(argv) runs it ("module:function" names another
# function of the module); each app adds itself here.
COMMANDS: dict[str, dict[str, str]] = {
    "classify": {
        "train": "neocog.apps.classification.train",
        "val": "neocog.apps.classification.val",
        "infer": "neocog.apps.classification.infer",
        "visualize": "neocog.apps.classification.visualize",
        "templates": "neocog.apps.classification.templates",
    },
    "speech": {
        "train": "neocog.apps.speech.train",
        "val": "neocog.apps.speech.val",
        "infer": "neocog.apps.speech.infer",
    },
    "wavenet": {
        "train": "neocog.apps.wavenet.train",
        "generate": "neocog.apps.wavenet.infer:generate_main",
        "vocode": "neocog.apps.wavenet.infer:vocode_main",
        "val": "neocog.apps.wavenet.val",
    },
    "detect": {
        "train": "neocog.apps.detection.train",
        "val": "neocog.apps.detection.val",
        "infer": "neocog.apps.detection.infer",
        "export": "neocog.apps.detection.export",
    },
    "locate": {
        "train": "neocog.apps.localization.train",
        "val": "neocog.apps.localization.val",
        "infer": "neocog.apps.localization.infer",
    },
}
# Commands without a mode.
SINGLE: dict[str, str] = {
    "inspect": "neocog.apps.inspect",
    "demo": "neocog.apps.demo",
    "models": "neocog.apps.models",  # neocog models [--json]: the names --weights accepts
    "transcribe": "neocog.apps.speech.transcribe",  # neocog transcribe FILE_OR_DIR... [--json]
    "studio": "neocog.apps.studio.server",  # neocog studio [--host] [--port] [--runs]: the web app
}


def usage() -> str:
    lines = ["usage: neocog <task> <mode> [--options]   (add --help to any command)", ""]
    for task, modes in COMMANDS.items():
        lines.append(f"  neocog {task} {{{','.join(modes)}}}")
    for name in SINGLE:
        lines.append(f"  neocog {name}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help"):
        print(usage())
        return 0
    command, rest = argv[0], argv[1:]
    if command in SINGLE:
        return run_main(importlib.import_module(SINGLE[command]).main, rest)
    if command not in COMMANDS:
        print(f"neocog: unknown command '{command}'; valid: "
              f"{', '.join([*COMMANDS, *SINGLE])}", file=sys.stderr)
        return 2
    modes = COMMANDS[command]
    if not rest or rest[0] not in modes:
        got = f"unknown mode '{rest[0]}'" if rest and not rest[0].startswith("-") else "no mode"
        if rest and rest[0] in ("-h", "--help"):
            print(f"usage: neocog {command} {{{','.join(modes)}}} [--options]")
            return 0
        print(f"neocog {command}: {got}; valid: {', '.join(modes)}", file=sys.stderr)
        return 2
    module, _, function = modes[rest[0]].partition(":")
    return run_main(getattr(importlib.import_module(module), function or "main"), rest[1:])


if __name__ == "__main__":
    raise SystemExit(main())
