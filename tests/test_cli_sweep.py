"""Every command meets the same careless inputs (issue 19): a missing file, a file of the
wrong kind, a bad option value, an unknown option, numbers out of range. Each must end
with exit status 1 or 2 and exactly one line on stderr naming the file or the option,
never a traceback. Most cases run in this process; a few run as real subprocesses, for
what only a fresh interpreter shows (runpy warnings, the console script, -m modules)."""

import subprocess
import sys

import pytest

from neocog.apps.cli import COMMANDS, SINGLE
from neocog.apps.cli import main as cli_main

from .conftest import PYTHON

# The file each command reads first, as arguments; FILE is replaced by the path tried.
FILE = "{file}"
FILE_ARGS: dict[str, list[str]] = {
    "classify train": ["--data", FILE], "classify val": ["--weights", FILE],
    "classify infer": ["--source", FILE], "classify visualize": ["--source", FILE],
    "classify templates": ["--data", FILE], "speech train": ["--data", FILE],
    "speech val": ["--manifest", FILE],
    "speech infer": ["--source", FILE], "wavenet train": ["--data", FILE],
    "wavenet generate": ["--weights", FILE], "wavenet vocode": [FILE],
    "wavenet val": ["--data", FILE], "detect train": ["--data", FILE],
    "detect val": ["--data", FILE], "detect infer": ["--source", FILE],
    "detect export": ["--weights", FILE], "locate train": ["--data", FILE],
    "locate val": ["--data", FILE], "locate infer": ["--source", FILE],
    "inspect": ["--weights", FILE], "transcribe": [FILE],
}
# A file of the wrong kind where each expects one: the name says what it pretends to be.
WRONG_KIND = {"classify train": "data.txt", "classify val": "model.safetensors",
              "classify infer": "digit.png", "classify visualize": "digit.png",
              "classify templates": "data.txt", "speech train": "manifest.jsonl",
              "speech val": "manifest.jsonl",
              "speech infer": "speech.wav", "wavenet train": "manifest.jsonl",
              "wavenet generate": "model.safetensors", "wavenet vocode": "speech.wav",
              "wavenet val": "manifest.jsonl", "detect train": "data.txt",
              "detect val": "data.txt", "detect infer": "scene.jpg",
              "detect export": "model.safetensors", "locate train": "instances.json",
              "locate val": "instances.json", "locate infer": "digit.png",
              "inspect": "model.safetensors", "transcribe": "speech.wav"}
# An option value of the wrong type or choice, and numbers out of range, per command.
BAD_VALUE = {"inspect": ["--depth", "two"], "detect export": ["--format", "tflite"],
             "classify visualize": ["--name"]}  # --name without its value
OUT_OF_RANGE = {
    "classify train": [["--batch-size", "0"], ["--lr", "nan"], ["--val-fraction", "1.5"],
                       ["--epochs", "-1"]],
    "classify val": [["--val-fraction", "1.5"]], "classify infer": [["--batch-size", "0"]],
    "classify templates": [["--epochs", "0"], ["--lr", "0"]],
    "speech train": [["--batch-size", "0"], ["--n-mels", "0"], ["--warp", "1"]],
    "speech val": [["--max-seconds", "0"]], "speech infer": [["--beam", "0"]],
    "wavenet train": [["--epochs", "0"], ["--val-fraction", "0"], ["--drop-mel", "2"]],
    "wavenet generate": [["--seconds", "-1"], ["--temperature", "inf"]],
    "wavenet vocode": [["--temperature", "-1"]], "wavenet val": [["--threads", "-1"]],
    "detect train": [["--imgsz", "7"], ["--ema-decay", "1"], ["--flip", "-0.5"]],
    "detect val": [["--batch-size", "0"]], "detect infer": [["--conf", "2"], ["--iou", "nan"]],
    "locate train": [["--imgsz", "7"], ["--width", "0"]], "locate val": [["--val-images", "0"]],
    "locate infer": [["--batch-size", "0"]], "inspect": [["--depth", "0"], ["--width", "-1"]],
    "transcribe": [["--beam", "0"], ["--max-seconds", "-1"]],
}
# Commands with a required positional argument get one for the option cases.
POSITIONAL = {"wavenet vocode": ["speech.wav"], "transcribe": ["speech.wav"]}
ALL = [f"{task} {mode}" for task, modes in COMMANDS.items() for mode in modes] + \
      [name for name in SINGLE if name not in ("demo", "models", "studio")]  # those read no
# file; the studio serves until stopped (tests/test_studio.py checks its options)


def test_the_tables_cover_every_command():
    assert set(FILE_ARGS) == set(WRONG_KIND) == set(ALL)
    assert set(OUT_OF_RANGE) == set(ALL) - {"classify visualize", "detect export"}  # none there


def run(capsys, args: list[str]) -> tuple[int, str]:
    """`neocog ARGS` in this process -> (exit status, stderr) as the console script ends."""
    capsys.readouterr()
    try:
        code = cli_main(args)
    except SystemExit as exit_:  # argparse errors; SystemExit("message") prints and exits 1
        code = exit_.code
        if isinstance(code, str):
            print(code, file=sys.stderr)
            code = 1
    return code, capsys.readouterr().err


def assert_one_line(code: int, err: str, names: str) -> None:
    assert code in (1, 2), (code, err)
    assert "Traceback" not in err and err.endswith("\n") and err.count("\n") == 1, err
    assert names in err, (names, err)


def cases() -> list[tuple[str, list[str], str]]:
    """(command, its arguments, what the error must name) for every command."""
    out = []
    for command in ALL:
        given = POSITIONAL.get(command, [])
        out.append((command, [a.replace(FILE, "missing/nothing.bin") for a in FILE_ARGS[command]],
                    "missing/nothing.bin"))
        out.append((command, [a.replace(FILE, WRONG_KIND[command]) for a in FILE_ARGS[command]],
                    WRONG_KIND[command]))
        bad = BAD_VALUE.get(command, ["--threads", "many"])
        out.append((command, [*given, *bad], bad[0]))
        out.append((command, [*given, "--no-such-option", "1"], "--no-such-option"))
        out += [(command, [*given, *r], r[0]) for r in OUT_OF_RANGE.get(command, [])]
    return out


@pytest.mark.parametrize(("command", "args", "names"), cases(),
                         ids=lambda v: " ".join(v) if isinstance(v, list) else v)
def test_a_careless_input_ends_in_one_line_naming_it(capsys, tmp_path, monkeypatch, command,
                                                    args, names):
    monkeypatch.chdir(tmp_path)  # the wrong-kind files are made here, and any output too
    for name in set(WRONG_KIND.values()):
        (tmp_path / name).write_text("not what the name says\n")
    code, err = run(capsys, [*command.split(), *args, *project(command)])
    assert_one_line(code, err, names)
    assert not (tmp_path / "runs").exists(), "a failed command left a run folder"


def project(command: str) -> list[str]:
    """Commands that write a run folder are pointed into the test's folder."""
    writes = command.endswith((" train", " val")) and command != "wavenet val"
    return ["--project", "runs"] if writes or command in ("detect infer",
                                                         "classify visualize") else []


def test_wavenet_vocode_to_a_folder_is_refused_before_reading_or_sampling(capsys, tmp_path):
    # the source does not exist either: --out is checked first, before any work
    code, err = run(capsys, ["wavenet", "vocode", "missing.wav", "--out", str(tmp_path)])
    assert_one_line(code, err, f"--out {tmp_path}: is a folder")
    (tmp_path / "x.txt").write_text("")
    code, err = run(capsys, ["wavenet", "generate", "--out", str(tmp_path / "x.txt" / "a.wav")])
    assert_one_line(code, err, f"{tmp_path / 'x.txt'} is a file, not a folder")


def test_inspect_a_speech_checkpoint_with_and_without_input(capsys):
    from neocog.apps.speech import DEFAULT_WEIGHTS

    code, _ = run(capsys, ["inspect", "--weights", str(DEFAULT_WEIGHTS)])  # its own 1x40x100
    assert code == 0
    code, err = run(capsys, ["inspect", "--weights", str(DEFAULT_WEIGHTS), "--input", "1x28x28"])
    assert_one_line(code, err, "--input 1x28x28: ")
    assert "it was trained on --input 1x40x100" in err


# Real subprocesses: only a fresh interpreter shows these.

@pytest.mark.parametrize("app", ["classification", "detection", "localization", "speech",
                                 "wavenet"])
def test_each_train_module_runs_with_python_m_without_a_warning(app):
    """The app package must not import its train.py before runpy runs it as __main__."""
    res = subprocess.run([PYTHON, "-W", "error", "-m", f"neocog.apps.{app}.train", "--help"],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0 and res.stderr == "", res.stderr
    assert res.stdout.startswith(f"usage: neocog {app[:6] if app != 'localization' else 'locate'}")


def test_wavenet_infer_module_help_exits_0_and_a_missing_mode_2():
    module = [PYTHON, "-m", "neocog.apps.wavenet.infer"]
    res = subprocess.run([*module, "--help"], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0 and "{generate,vocode}" in res.stdout and res.stderr == ""
    res = subprocess.run(module, capture_output=True, text=True, timeout=120)
    assert res.returncode == 2 and res.stderr.count("\n") == 1 and "no mode" in res.stderr


def test_the_console_script_prints_a_range_error_on_one_line(tmp_path):
    neocog = [PYTHON, "-c", "from neocog.apps.cli import main; raise SystemExit(main())"]
    res = subprocess.run([*neocog, "classify", "train", "--batch-size", "0", "--project",
                          str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert res.returncode == 1 and res.stderr == "error: --batch-size 0: must be at least 1\n"
    assert not any(tmp_path.iterdir())
