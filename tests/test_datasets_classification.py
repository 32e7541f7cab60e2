"""Readers for the classification formats: IDX, CIFAR-10 batches, image folders."""

import gzip
import pickle

import numpy as np
import pytest
import torch
from PIL import Image

from neocog.apps.classification.data import DigitAffine, load_split
from neocog.core.errors import NeocogError
from neocog.datasets.cifar import read_cifar10
from neocog.datasets.idx import download_mnist, read_idx, read_idx_pair
from neocog.datasets.images import read_image_folder

from .conftest import write_idx


def test_reads_the_real_mnist_idx_files(mnist_arrays):
    images, labels = mnist_arrays
    assert images.shape == (8000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (8000,) and set(labels.tolist()) == set(range(10))
    assert labels[:5].tolist() == [7, 2, 1, 0, 4]  # the well-known first t10k labels


def test_uncompressed_idx_round_trip(tmp_path):
    arr = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    write_idx(tmp_path / "x-images-idx3-ubyte", arr)
    assert np.array_equal(read_idx(tmp_path / "x-images-idx3-ubyte"), arr)


def test_truncated_idx_names_the_file(tmp_path):
    path = tmp_path / "cut-images-idx3-ubyte.gz"
    write_idx(path, np.zeros((10, 28, 28), np.uint8))
    raw = gzip.decompress(path.read_bytes())[:-50]
    path.write_bytes(gzip.compress(raw))
    with pytest.raises(NeocogError, match="cut-images-idx3-ubyte.gz: header says"):
        read_idx(path)


def test_not_idx_and_bad_gzip_are_named(tmp_path):
    path = tmp_path / "junk-images-idx3-ubyte"
    path.write_bytes(b"\x89PNG not idx")
    with pytest.raises(NeocogError, match="junk-images-idx3-ubyte: not an IDX file"):
        read_idx(path)
    bad_gz = tmp_path / "junk-images-idx3-ubyte.gz"
    bad_gz.write_bytes(b"not gzip")
    with pytest.raises(NeocogError, match="junk-images-idx3-ubyte.gz: cannot read"):
        read_idx(bad_gz)


def test_label_count_mismatch_names_the_labels_file(tmp_path):
    write_idx(tmp_path / "a-images-idx3-ubyte.gz", np.zeros((5, 28, 28), np.uint8))
    write_idx(tmp_path / "a-labels-idx1-ubyte.gz", np.zeros((4,), np.uint8))
    with pytest.raises(NeocogError, match="a-labels-idx1-ubyte.gz: 4 labels for 5 images"):
        read_idx_pair(tmp_path / "a-images-idx3-ubyte.gz")


def test_official_train_t10k_split_is_used_when_present(tmp_path, mnist_arrays):
    images, labels = mnist_arrays
    for prefix, sl in (("train", slice(0, 300)), ("t10k", slice(300, 400))):
        write_idx(tmp_path / f"{prefix}-images-idx3-ubyte.gz", images[sl])
        write_idx(tmp_path / f"{prefix}-labels-idx1-ubyte.gz", labels[sl])
    split = load_split(str(tmp_path), 0.5)
    assert len(split.train_labels) == 300 and len(split.val_labels) == 100


def test_holdout_split_is_disjoint_and_fixed(small_mnist):
    a, b = load_split(str(small_mnist), 0.125), load_split(str(small_mnist), 0.125)
    assert len(a.val_labels) == 80 and len(a.train_labels) == 560
    assert np.array_equal(a.val_images, b.val_images)
    train_set = {im.tobytes() for im in a.train_images}
    assert not any(im.tobytes() in train_set for im in a.val_images)


def write_cifar(folder, n=20):
    folder.mkdir()
    rng = np.random.default_rng(0)
    for name in ["data_batch_1", "data_batch_2", "test_batch"]:
        batch = {b"data": rng.integers(0, 255, (n, 3072), dtype=np.uint8),
                 b"labels": rng.integers(0, 10, n).tolist(), b"batch_label": name.encode()}
        with open(folder / name, "wb") as f:
            pickle.dump(batch, f)
    with open(folder / "batches.meta", "wb") as f:
        pickle.dump({b"label_names": [b"airplane", b"automobile", b"bird", b"cat", b"deer",
                                      b"dog", b"frog", b"horse", b"ship", b"truck"]}, f)


def test_reads_cifar10_python_batches(tmp_path):
    write_cifar(tmp_path / "cifar")
    images, labels, names = read_cifar10(tmp_path / "cifar", train=True)
    assert images.shape == (40, 32, 32, 3) and labels.shape == (40,)
    assert names[0] == "airplane"
    raw = pickle.load(open(tmp_path / "cifar" / "data_batch_1", "rb"), encoding="bytes")
    # channel-planar rows: the first 1024 values are the red plane
    assert np.array_equal(images[0, :, :, 0].ravel(), raw[b"data"][0, :1024])
    split = load_split(str(tmp_path / "cifar"), 0.1)
    assert split.pre.channels == 3 and len(split.val_labels) == 20


def test_cifar_batch_that_would_run_code_is_refused(tmp_path):
    write_cifar(tmp_path / "cifar")

    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    with open(tmp_path / "cifar" / "data_batch_2", "wb") as f:
        pickle.dump({b"data": Evil(), b"labels": []}, f)
    with pytest.raises(NeocogError, match="data_batch_2: not a CIFAR python batch"):
        read_cifar10(tmp_path / "cifar", train=True)


def test_image_folder_reads_classes_and_names_a_bad_file(tmp_path):
    for cls in ("cat", "dog"):
        (tmp_path / "imgs" / cls).mkdir(parents=True)
        for i in range(3):
            Image.new("RGB", (40, 30), (i * 40, 10, 10)).save(tmp_path / "imgs" / cls / f"{i}.png")
    images, labels, names = read_image_folder(tmp_path / "imgs", 3)
    assert names == ["cat", "dog"] and labels.tolist() == [0, 0, 0, 1, 1, 1]
    assert images[0].shape == (30, 40, 3)
    (tmp_path / "imgs" / "dog" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    with pytest.raises(NeocogError, match="broken.png: not a readable image"):
        read_image_folder(tmp_path / "imgs", 3)


def test_mnist_download_offline_fails_with_a_clear_message(tmp_path):
    with pytest.raises(NeocogError, match="could not download MNIST.*pass --data DIR") as err:
        download_mnist(tmp_path)
    assert "\n" not in str(err.value)


def test_digit_affine_identity_shift_and_seed() -> None:
    """No rotation/shift/scale/shear returns the image; a pure shift moves the ink by at
    most `translate` of the side along each axis and keeps it; a seed repeats the draw."""
    image = torch.zeros(1, 28, 28)
    image[0, 10:18, 12:16] = 1.0  # an ink block centred at (x, y) = (13.5, 13.5)
    assert torch.equal(DigitAffine(0, 0, (1, 1), 0)(image), image)
    shift = DigitAffine(degrees=0, translate=0.12, scale=(1, 1), shear=0)
    ys, xs = torch.meshgrid(torch.arange(28.0), torch.arange(28.0), indexing="ij")
    moved = []
    for _ in range(50):
        out = shift(image)[0]
        assert float(out.sum()) == pytest.approx(float(image.sum()), rel=0.02)  # nothing pushed off the side
        cy, cx = (out * ys).sum() / out.sum(), (out * xs).sum() / out.sum()
        assert abs(cx - 13.5) <= 0.12 * 28 + 1e-4 and abs(cy - 13.5) <= 0.12 * 28 + 1e-4
        moved.append(float(abs(cx - 13.5) + abs(cy - 13.5)))
    assert max(moved) > 1.5  # it does shift
    turned = DigitAffine()
    torch.manual_seed(3)
    first = turned(image)
    torch.manual_seed(3)
    assert torch.equal(turned(image), first) and not torch.equal(first, image)
