"""The CIFAR-10 recipe: the whitened stem, the cifar backbone, recipes as defaults, the
per-class held-out tail of an image folder, test-time augmentation, and a tiny run of
`neocog classify train --recipe cifar10` whose model reads a photo of any size."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from neocog.apps.classification import Classifier, ClassifyTrainConfig
from neocog.apps.classification.data import class_tails
from neocog.apps.classification.head import ClassifierConfig
from neocog.apps.classification.metrics import logits, shifted
from neocog.apps.classification.train import RECIPES, with_recipe
from neocog.apps.demo import CIFAR_SAMPLES
from neocog.core.backbones import BackboneConfig
from neocog.core.blocks import PatchWhitening
from neocog.core.checkpoint import load_model, save_checkpoint
from neocog.core.heads import build_model
from neocog.core.precision import Runtime

from .conftest import SHARED, cli_run

SHIPPED_TOP1 = 0.9034  # benchmarks/results/classification_cifar10_long.json: shipped.top1


def correlated_images(n: int = 200) -> torch.Tensor:
    """Tensor[n, 3, 16, 16]: smooth images whose channels move together, as photos do."""
    g = torch.Generator().manual_seed(0)
    base = torch.nn.functional.avg_pool2d(torch.randn(n, 1, 18, 18, generator=g), 3, 1)
    return base * torch.tensor([1.0, 0.8, 0.5])[:, None, None] + 0.1 * torch.randn(n, 3, 16, 16,
                                                                                    generator=g)


def test_patch_whitening_makes_2x2_patches_decorrelated_with_unit_variance():
    images = correlated_images()
    stem = PatchWhitening(3, eps=1e-9)  # the default eps damps the faintest directions
    stem.fit(images)
    out = torch.nn.functional.conv2d(images, stem.weight)  # the filters alone, no bias
    half = out.permute(0, 2, 3, 1).reshape(-1, 24)[:, :12]  # the other 12 are the negatives
    cov = half.T @ half / len(half)
    assert torch.allclose(cov, torch.eye(12), atol=0.02)
    assert torch.equal(out[:, 12:], -out[:, :12])
    assert not stem.weight.requires_grad and not stem.bias.requires_grad


def test_cifar_backbone_feature_info_matches_its_maps_and_only_the_stem_is_fitted():
    model = build_model("classify", BackboneConfig(name="cifar", in_channels=3, width=8),
                        "classify", ClassifierConfig(pooling="max"))
    maps = model.backbone(torch.zeros(2, 3, 32, 32))
    assert [m.shape[1:] for m in maps] == [(8, 15, 15), (32, 7, 7), (32, 3, 3)]
    assert [f.channels for f in model.backbone.feature_info] == [8, 32, 32]
    before = model.backbone.stem[0].weight.clone()
    model.backbone.fit_data(correlated_images(50).repeat(1, 1, 2, 2))
    assert not torch.equal(before, model.backbone.stem[0].weight)
    bn = model.backbone.stages[0][2]
    assert not bn.weight.requires_grad and bn.bias.requires_grad  # frozen BN scale


def test_a_max_pooled_cifar_model_survives_a_checkpoint(tmp_path):
    model = build_model("classify", BackboneConfig(name="cifar", in_channels=3, width=4),
                        "classify", ClassifierConfig(pooling="max"))
    model.backbone.fit_data(correlated_images(20).repeat(1, 1, 2, 2))
    save_checkpoint(tmp_path / "m.safetensors", model.eval(), {"names": list("abcdefghij")})
    loaded, _ = load_model(tmp_path / "m.safetensors", "classify")
    x = torch.randn(2, 3, 32, 32)
    assert loaded.head.config.pooling == "max"
    assert torch.allclose(loaded(x), model(x), atol=1e-5)


def test_a_recipe_sets_the_defaults_and_options_given_still_win():
    cfg = with_recipe(ClassifyTrainConfig(recipe="cifar10"), None)
    assert (cfg.backbone, cfg.width, cfg.optimizer) == ("cifar", 64, "sgd")
    # From Python, a value other than the field's default was asked for.
    assert with_recipe(ClassifyTrainConfig(recipe="cifar10", epochs=3), None).epochs == 3
    # From the command line, an option written out wins even at the field's default.
    written = with_recipe(ClassifyTrainConfig(recipe="cifar10", epochs=18), {"epochs"})
    assert written.epochs == 18 and written.lr == RECIPES["cifar10"]["lr"]
    assert with_recipe(ClassifyTrainConfig(), None) == ClassifyTrainConfig()


def test_an_image_folder_holds_out_the_last_share_of_each_class():
    labels = np.array([0] * 10 + [1] * 20 + [2] * 10)
    train, val = class_tails(labels, 0.1)
    assert val.tolist() == [9, 28, 29, 39]
    assert sorted([*train, *val]) == list(range(40))


def test_shifted_moves_the_image_and_reflects_the_edge():
    x = torch.arange(16.0).reshape(1, 1, 4, 4)
    down_right = shifted(x, 1, 1)
    assert torch.equal(down_right[0, 0, 1:, 1:], x[0, 0, :3, :3])
    assert torch.equal(shifted(down_right, -1, -1)[0, 0, :3, :3], x[0, 0, :3, :3])


def test_tta_averages_the_views_and_mirrors_only_colour_images():
    class Column(torch.nn.Module):  # logits: the mean of each image's left column
        def forward(self, x):
            return x[..., 0].mean(dim=(1, 2))[:, None].repeat(1, 2)

    model, runtime = Column(), Runtime(torch.device("cpu"), "fp32", False, "test")

    def expected(x, view):
        moved = (view(shifted(x, 1, 1)) + view(shifted(x, -1, -1))) / 2
        return (view(x) + moved) / 2

    grey, colour = torch.rand(3, 1, 8, 8), torch.rand(3, 3, 8, 8)
    assert torch.allclose(logits(model, runtime, grey, tta=True), expected(grey, model))
    mirrored = lambda x: (model(x) + model(x.flip(-1))) / 2  # noqa: E731
    assert torch.allclose(logits(model, runtime, colour, tta=True), expected(colour, mirrored))
    assert torch.allclose(logits(model, runtime, colour, tta=False), model(colour))


@pytest.fixture
def colour_folder(tmp_path):
    """Two classes of 32 px colour photos a net tells apart in one epoch: red or blue."""
    rng = np.random.default_rng(0)
    for name, channel in (("blue", 2), ("red", 0)):
        (tmp_path / "data" / name).mkdir(parents=True)
        for i in range(40):
            img = rng.integers(0, 80, (32, 32, 3), dtype=np.uint8)
            img[..., channel] = 200
            cv2.imwrite(str(tmp_path / "data" / name / f"{i:04d}.jpg"), img[..., ::-1])
    return tmp_path / "data"


def test_train_recipe_cifar10_then_classify_a_photo_of_any_size(capsys, colour_folder, tmp_path):
    code, out, err = cli_run(capsys, [
        "classify", "train", "--recipe", "cifar10", "--data", str(colour_folder), "--width", "4",
        "--batch-size", "16", "--epochs", "4", "--warmup-epochs", "0", "--lr", "0.4", "--bias-lr", "4",
        "--project", str(tmp_path / "runs"),
        "--name", "c", "--val-fraction", "0.25"])
    assert code == 0, err
    weights = tmp_path / "runs" / "classify" / "c" / "best.safetensors"
    # val holds out what training held out (the checkpoint says 0.25): 10 of each 40.
    code, out, err = cli_run(capsys, ["classify", "val", "--weights", str(weights), "--data",
                                      str(colour_folder), "--project", str(tmp_path / "runs")])
    assert code == 0, err
    assert "on 20 images" in out
    clf = Classifier(weights)
    assert clf.model.backbone.config.name == "cifar" and clf.pre.size == 32
    # A held-out red photo blown up to 517 x 300: the checkpoint's preprocessing brings it back
    small = cv2.imread(str(colour_folder / "red" / "0039.jpg"))
    cv2.imwrite(str(tmp_path / "photo.png"), cv2.resize(small, (517, 300),
                                                         interpolation=cv2.INTER_NEAREST))
    assert clf([tmp_path / "photo.png"])[0].label == "red"


CIFAR = SHARED / "cifar10" / "train"


@pytest.fixture
def digit_samples():
    from neocog.apps.demo import SAMPLES

    return SAMPLES


def held_out_photos() -> tuple[list[Path], list[str]]:
    """The files the CIFAR-10 recipe holds out: the last 500 of each class (class_tails)."""
    if not CIFAR.is_dir():
        pytest.skip("../shared/data/cifar10 is not here")
    files, labels = [], []
    for folder in sorted(p for p in CIFAR.iterdir() if p.is_dir()):
        tail = sorted(folder.glob("*.jpg"))[-500:]
        files += tail
        labels += [folder.name] * len(tail)
    return files, labels


def test_shipped_cifar10_model_holds_its_figure_on_5000_photos_it_never_trained_on():
    files, labels = held_out_photos()
    clf = Classifier("cifar10")
    predicted = [p.label for p in clf(files)]
    accuracy = np.mean(np.array(predicted) == np.array(labels))
    assert accuracy >= SHIPPED_TOP1 - 0.005, accuracy  # the benchmark's figure, fp16 copy


def test_the_demo_photos_are_held_out_and_mostly_recognised():
    clf = Classifier("cifar10")
    photos = sorted(CIFAR_SAMPLES.glob("*.jpg"))
    assert len(photos) == 10 and all(int(p.stem.split("_")[1]) >= 4500 for p in photos)
    right = sum(r.label == p.stem.split("_")[0] for r, p in zip(clf(photos), photos, strict=True))
    assert right >= 8, right


def tiny_cifar_run(capsys, data, project, *extra):
    """A 2-class width-4 run of the cifar10 recipe, in seconds."""
    code, _, err = cli_run(capsys, [
        "classify", "train", "--recipe", "cifar10", "--data", str(data), "--width", "4",
        "--batch-size", "16", "--warmup-epochs", "0", "--lr", "0.05", "--bias-lr", "1",
        "--project", str(project), *extra])
    assert code == 0, err
    return project / "classify"


def test_resume_brings_back_the_runs_recipe(capsys, colour_folder, tmp_path):
    runs = tiny_cifar_run(capsys, colour_folder, tmp_path, "--epochs", "1", "--name", "r")
    # No --recipe: resuming takes the run's; the mnist defaults (AdamW, 64 px) would not fit
    # the SGD state saved, nor the 32 px model.
    code, _, err = cli_run(capsys, ["classify", "train", "--data", str(colour_folder),
                                    "--resume", "--name", "r", "--epochs", "2", "--batch-size", "16",
                                    "--project", str(tmp_path)])
    assert code == 0, err
    assert (runs / "r" / "metrics.csv").read_text().count("\n") == 3  # header + 2 epochs


def test_fine_tuning_keeps_the_checkpoints_shape_and_refuses_other_classes(capsys, colour_folder,
                                                                         tmp_path):
    runs = tiny_cifar_run(capsys, colour_folder, tmp_path, "--epochs", "1", "--name", "a")
    start = runs / "a" / "best.safetensors"
    tiny_cifar_run(capsys, colour_folder, tmp_path, "--epochs", "1", "--name", "b",
                   "--weights", str(start))
    assert Classifier(runs / "b" / "best.safetensors").model.backbone.config.width == 4
    (colour_folder / "green").mkdir()
    for i in range(4):
        cv2.imwrite(str(colour_folder / "green" / f"{i}.jpg"), np.full((32, 32, 3), 90, np.uint8))
    code, _, err = cli_run(capsys, ["classify", "train", "--data", str(colour_folder),
                                    "--weights", str(start), "--project", str(tmp_path)])
    assert code == 1
    assert err.strip().endswith(f"are not the 2 classes of {start}, which fine-tuning keeps")


def test_bias_lr_multiplies_the_lr_of_biases_and_norm_parameters(colour_folder, tmp_path):
    from neocog.apps.classification.train import make_trainer

    trainer = make_trainer(ClassifyTrainConfig(recipe="cifar10", data=str(colour_folder), width=4,
                                               batch_size=16, project=str(tmp_path)))
    weights, biases = trainer.optimizer.param_groups
    assert biases["initial_lr"] == 64 * weights["initial_lr"] == 64 * RECIPES["cifar10"]["lr"]
    assert all(p.ndim == 1 for p in biases["params"]) and biases["weight_decay"] == 0


def test_logit_scale_scales_the_logits_and_must_be_positive():
    from neocog.apps.classification.head import ClassifierHead
    from neocog.core.backbones import FeatureInfo
    from neocog.core.errors import NeocogError

    info = [FeatureInfo(8, (1, 1))]
    torch.manual_seed(0)
    plain = ClassifierHead(ClassifierConfig(dropout=0.0), info).eval()
    scaled = ClassifierHead(ClassifierConfig(dropout=0.0, logit_scale=0.125), info).eval()
    scaled.load_state_dict(plain.state_dict())
    features = [torch.randn(2, 8, 3, 3)]
    assert torch.allclose(scaled(features), plain(features) / 8)
    with pytest.raises(NeocogError, match="logit_scale 0.0: must be above 0"):
        ClassifierHead(ClassifierConfig(logit_scale=0.0), info)


def test_the_cifar_backbone_refuses_a_depth_it_would_not_build():
    from neocog.core.backbones import build_backbone
    from neocog.core.errors import NeocogError

    with pytest.raises(NeocogError, match="backbone cifar: its depth"):
        build_backbone(BackboneConfig(name="cifar", in_channels=3, depth=2))


def test_a_class_of_one_image_stays_in_training():
    train, val = class_tails(np.array([0, 1, 1, 1, 1]), 0.5)
    assert 0 in train and val.tolist() == [3, 4]


def test_a_model_name_that_is_also_a_file_here_is_refused(tmp_path, monkeypatch):
    from neocog.core.errors import NeocogError

    monkeypatch.chdir(tmp_path)
    (tmp_path / "mnist").write_bytes(b"")
    with pytest.raises(NeocogError, match="both a shipped model's name and a file here; write ./mnist"):
        Classifier("mnist")


def test_val_and_infer_take_tta(capsys, digit_samples):
    code, out, err = cli_run(capsys, ["classify", "infer", "--source", str(digit_samples),
                                      "--tta", "--json"])
    assert code == 0, err
    assert Classifier(tta=True)([next(digit_samples.glob("digit_4.png"))])[0].label == "4"


def test_val_scores_an_old_folder_checkpoint_on_the_random_share_it_held_out(
        capsys, colour_folder, tmp_path, monkeypatch):
    from neocog.apps.classification import val
    from neocog.apps.classification.data import holdout, load_split

    runs = tiny_cifar_run(capsys, colour_folder, tmp_path, "--epochs", "1", "--name", "new")
    model, header = load_model(runs / "new" / "best.safetensors", "classify")
    old = {k: v for k, v in header.items() if k not in ("format", "version", "model", "val_fraction")}
    save_checkpoint(tmp_path / "old.safetensors", model, old)
    seen = []
    monkeypatch.setattr(val, "load_split", lambda *a, **kw: seen.append(kw) or load_split(*a, **kw))
    for weights in (runs / "new" / "best.safetensors", tmp_path / "old.safetensors"):
        code, _, err = cli_run(capsys, ["classify", "val", "--weights", str(weights), "--data",
                                        str(colour_folder), "--project", str(tmp_path)])
        assert code == 0, err
    assert [kw["by_class"] for kw in seen] == [True, False]
    split = load_split(str(colour_folder), 0.125, by_class=False)
    labels = np.array([0] * 40 + [1] * 40)  # blue, red: name order
    assert split.val_labels.tolist() == labels[holdout(labels, 0.125)[1]].tolist()
