"""The three code folders install as one import package, with the shipped assets."""

import subprocess
import zipfile
from pathlib import Path

from .conftest import PYTHON, ROOT


def test_wheel_installs_only_neocog_with_its_package_data(tmp_path):
    subprocess.run([PYTHON, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(tmp_path), str(ROOT)], check=True, capture_output=True)
    (wheel,) = tmp_path.glob("neocog-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/")[0] for n in names if not n.startswith("neocog-")}
    assert top == {"neocog"}  # no bare core/apps/datasets that would shadow other packages
    for module in ("neocog/core/trainer.py", "neocog/apps/cli.py", "neocog/datasets/idx.py",
                   "neocog/apps/classification/assets/mnist_default.safetensors",
                   "neocog/apps/classification/assets/samples/digit_0.png"):
        assert module in names, module
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "neocog = neocog.apps.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_console_script_help_lists_the_tasks():
    out = subprocess.run([str(Path(PYTHON).parent / "neocog"), "--help"], capture_output=True,
                         text=True, check=True).stdout
    assert "neocog classify {train,val,infer,visualize,templates}" in out and "neocog inspect" in out
