"""Named shipped models: core/assets/models.json maps each name to its file, every
predictor and every --weights takes a name, and `neocog models` lists them."""

import json
from fnmatch import fnmatch

import pytest

from neocog.apps.classification import DEFAULT_WEIGHTS, Classifier
from neocog.apps.detection import Detector
from neocog.apps.localization import Localizer
from neocog.apps.models import file_size
from neocog.apps.speech import Transcriber
from neocog.apps.wavenet import Synthesizer
from neocog.core import zoo
from neocog.core.checkpoint import load_model
from neocog.core.errors import NeocogError

from .conftest import ROOT, cli_run

SAMPLE = DEFAULT_WEIGHTS.parent / "samples" / "digit_7_dark_on_light.png"
PREDICTORS = {"classify": Classifier, "locate": Localizer, "detect": Detector,
              "speech": Transcriber, "wavenet": Synthesizer}
DEFAULTS = [m for m in zoo.shipped_models().values() if m.default]


@pytest.fixture
def unshipped(tmp_path, monkeypatch):
    """The table plus a classify model whose file is not in this install, as CIFAR-10's
    was before it shipped: its name."""
    rows = json.loads(zoo.TABLE.read_text())
    rows.append({"name": "later", "task": "classify", "default": False, "trained_on": "-",
                 "file": "apps/classification/assets/later.safetensors", "metric": "to be measured"})
    table = tmp_path / "models.json"
    table.write_text(json.dumps(rows))
    monkeypatch.setattr(zoo, "TABLE", table)
    zoo.shipped_models.cache_clear()
    yield "later"
    zoo.shipped_models.cache_clear()


def test_the_table_has_unique_names_and_one_default_per_task():
    rows = json.loads(zoo.TABLE.read_text())
    assert len({r["name"] for r in rows}) == len(rows)
    assert sorted(r["task"] for r in rows if r["default"]) == sorted(PREDICTORS)


@pytest.mark.parametrize("model", DEFAULTS, ids=lambda m: m.name)
def test_every_default_is_shipped_and_loads_as_its_task(model):
    assert model.path.is_file(), model.path
    loaded, header = load_model(model.name, model.task)  # as every train's --weights NAME does
    assert loaded.task == header["model"]["task"] == model.task


def test_the_package_root_holds_the_three_code_folders():
    assert all((zoo.ROOT / folder / "__init__.py").is_file() for folder in ("core", "apps", "datasets"))


@pytest.mark.parametrize("model", DEFAULTS, ids=lambda m: m.name)
def test_each_predictor_loads_its_model_by_name(model):
    predictor = PREDICTORS[model.task](model.name)
    assert predictor.weights == model.path == PREDICTORS[model.task]().weights


def test_a_named_classifier_is_the_default_one():
    assert Classifier("mnist")([SAMPLE]) == Classifier()([SAMPLE])


def test_a_name_of_another_task_is_one_line_naming_both():
    with pytest.raises(NeocogError) as err:
        Detector("cifar10")  # the task is checked before the file is looked for
    assert str(err.value) == "--weights cifar10: a classify model, not a detect model"
    with pytest.raises(NeocogError, match="^--weights digits-detect: a detect model, not a classify"):
        load_model("digits-detect", "classify")  # fine-tuning's --weights goes through load_model


def test_a_listed_model_not_in_this_install_is_an_error_when_used(unshipped):
    with pytest.raises(NeocogError) as err:
        Classifier(unshipped)
    assert str(err.value).startswith(f"shipped model {unshipped}: not shipped in this install")
    assert "\n" not in str(err.value)


def test_a_path_that_is_no_name_is_still_a_missing_file():
    with pytest.raises(NeocogError, match="^missing/mnist: no such checkpoint file$"):
        Classifier("missing/mnist")


def test_models_lists_every_name_with_its_size(capsys, unshipped):
    code, out, _ = cli_run(capsys, ["models"])
    assert code == 0
    lines = {line.split()[0]: line for line in out.splitlines()[1:]}
    assert list(lines) == list(zoo.shipped_models())
    for model in zoo.shipped_models().values():
        size = file_size(model.path.stat().st_size) if model.path.is_file() else None
        assert (size or "not shipped in this install") in lines[model.name]
        assert model.task in lines[model.name] and model.metric in lines[model.name]


def test_models_json_gives_bytes_or_null(capsys, unshipped):
    code, out, _ = cli_run(capsys, ["models", "--json"])
    assert code == 0
    rows = {r["name"]: r for r in json.loads(out)}
    assert rows[unshipped]["bytes"] is None
    assert rows["mnist"]["bytes"] == DEFAULT_WEIGHTS.stat().st_size and rows["mnist"]["default"]


def test_models_refuses_an_unknown_option_on_one_line(capsys):
    code, _, err = cli_run(capsys, ["models", "--no-such-option"])
    assert code == 2 and err.count("\n") == 1 and "--no-such-option" in err


def test_classify_infer_takes_a_model_name(capsys):
    code, out, _ = cli_run(capsys, ["classify", "infer", "--weights", "mnist", "--source",
                                    str(SAMPLE), "--json"])
    assert code == 0 and json.loads(out)[0]["label"] == "7"


def test_inspect_takes_a_model_name_of_any_task(capsys):
    code, out, _ = cli_run(capsys, ["inspect", "--weights", "digits-locate"])
    assert code == 0 and out.startswith("digits-locate (locate)")


def test_every_listed_file_is_package_data():
    """A wheel carries a file only if pyproject's package-data globs name it."""
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    files = [m.file for m in zoo.shipped_models().values()]
    for file in [*files, zoo.TABLE.relative_to(zoo.ROOT).as_posix()]:
        package, inside = package_of(file, setuptools)
        globs = setuptools["package-data"].get(package, [])
        assert any(inside.count("/") == g.count("/") and fnmatch(inside, g) for g in globs), file


def package_of(file: str, setuptools: dict) -> tuple[str, str]:
    """(installed package, path inside it) of a file under the package root, by the
    package-dir mapping: apps/speech/assets/x -> ("neocog.apps.speech", "assets/x")."""
    mapping = setuptools["package-dir"]
    folders = {}
    for package in setuptools["packages"]:
        top = max((p for p in mapping if package == p or package.startswith(p + ".")), key=len)
        folders[package] = mapping[top] + package[len(top):].replace(".", "/")
    package = max((p for p in folders if file.startswith(folders[p] + "/")),
                  key=lambda p: len(folders[p]))
    return package, file[len(folders[package]) + 1:]
