"""Dataset readers on small files written here, including truncated and corrupt ones."""
import gzip
import struct

import numpy as np
import pytest

from gradkit.data import DataLoader, stratified_split
from gradkit.data.datasets import CIFAR10, CIFAR100, MNIST, CSVDataset, Digits, FashionMNIST, ImageFolder


def write_idx(path, array, type_code=0x08, compress=False):
    content = bytes([0, 0, type_code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()
    if compress:
        content = gzip.compress(content)
    path.write_bytes(content)


def mnist_files(folder, n=5, compress=False, prefix="train"):
    folder.mkdir(parents=True, exist_ok=True)
    images = np.arange(n * 28 * 28, dtype=np.uint32).reshape(n, 28, 28).astype(np.uint8)
    labels = (np.arange(n) % 10).astype(np.uint8)
    suffix = ".gz" if compress else ""
    write_idx(folder / f"{prefix}-images-idx3-ubyte{suffix}", images, compress=compress)
    write_idx(folder / f"{prefix}-labels-idx1-ubyte{suffix}", labels, compress=compress)
    return images, labels


@pytest.mark.parametrize("compress", [False, True])
def test_mnist_reads_idx_files(tmp_path, compress):
    images, labels = mnist_files(tmp_path, compress=compress)
    data = MNIST(tmp_path, train=True)
    assert len(data) == 5 and data.data.dtype == np.uint8 and data.targets.dtype == np.int64
    np.testing.assert_array_equal(data.data, images)
    image, label = data[3]
    assert image.shape == (1, 28, 28) and image.dtype == np.float32 and label == 3
    np.testing.assert_allclose(image[0], images[3] / 255, rtol=1e-6)
    x, y = next(iter(DataLoader(data, batch_size=5)))
    assert x.shape == (5, 1, 28, 28)


def test_mnist_torchvision_layout_and_missing_files(tmp_path):
    mnist_files(tmp_path / "FashionMNIST" / "raw", prefix="t10k")
    assert len(FashionMNIST(tmp_path, train=False)) == 5
    with pytest.raises(FileNotFoundError) as info:
        MNIST(tmp_path)
    message = str(info.value)
    assert "train-images-idx3-ubyte" in message and str(tmp_path / "MNIST" / "raw") in message
    assert "http" in message


def test_mnist_corrupt_files_name_the_file(tmp_path):
    mnist_files(tmp_path)
    images = tmp_path / "train-images-idx3-ubyte"
    content = images.read_bytes()
    images.write_bytes(content[:-10])
    with pytest.raises(ValueError, match="train-images-idx3-ubyte.*truncated"):
        MNIST(tmp_path)
    images.write_bytes(b"\x12\x34" + content[2:])
    with pytest.raises(ValueError, match="train-images-idx3-ubyte.*magic"):
        MNIST(tmp_path)
    images.write_bytes(content)
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(4, np.uint8))
    with pytest.raises(ValueError, match="4 labels for 5 images"):
        MNIST(tmp_path)
    (tmp_path / "train-labels-idx1-ubyte").unlink()
    (tmp_path / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(b"\x00\x00\x08\x01" + b"\x00" * 20)[:-6])
    with pytest.raises(ValueError, match="train-labels-idx1-ubyte.gz"):
        MNIST(tmp_path)


def cifar_records(labels, n_label_bytes, seed=0):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (len(labels), 3, 32, 32), dtype=np.uint8)
    rows = [bytes(label) + image.tobytes() for label, image in zip(labels, images)]
    return b"".join(rows), images


def test_cifar10_binary(tmp_path):
    folder = tmp_path / "cifar-10-batches-bin"
    folder.mkdir()
    expected = []
    for i in range(1, 6):
        content, images = cifar_records([[i], [9]], 1, seed=i)
        (folder / f"data_batch_{i}.bin").write_bytes(content)
        expected.append(images)
    content, _ = cifar_records([[3]], 1)
    (folder / "test_batch.bin").write_bytes(content)
    train = CIFAR10(tmp_path)
    assert len(train) == 10 and train.targets.tolist() == [1, 9, 2, 9, 3, 9, 4, 9, 5, 9]
    assert train.data.shape == (10, 32, 32, 3)
    image, label = train[2]
    assert image.shape == (3, 32, 32) and label == 2
    np.testing.assert_allclose(image, expected[1][0] / 255, rtol=1e-6)
    test = CIFAR10(tmp_path, train=False)
    assert len(test) == 1 and test.classes[test.targets[0]] == "cat"
    (folder / "test_batch.bin").write_bytes(content[:-1])
    with pytest.raises(ValueError, match="test_batch.bin.*truncated"):
        CIFAR10(tmp_path, train=False)
    (folder / "data_batch_3.bin").unlink()
    with pytest.raises(FileNotFoundError, match="data_batch_3.bin"):
        CIFAR10(tmp_path)


def test_cifar100_binary(tmp_path):
    content, images = cifar_records([[1, 42], [19, 99]], 2)
    (tmp_path / "train.bin").write_bytes(content)
    data = CIFAR100(tmp_path)
    assert data.targets.tolist() == [42, 99] and data.coarse_targets.tolist() == [1, 19]
    np.testing.assert_array_equal(data.data[1], images[1].transpose(1, 2, 0))
    assert len(data.classes) == 100
    bad, _ = cifar_records([[25, 1]], 2)
    (tmp_path / "train.bin").write_bytes(bad)
    with pytest.raises(ValueError, match="train.bin.*label 25"):
        CIFAR100(tmp_path)


def test_image_folder(tmp_path):
    Image = pytest.importorskip("PIL.Image")
    pixels = {}
    for name, count in (("dog", 2), ("cat", 1)):
        (tmp_path / name).mkdir()
        for k in range(count):
            array = np.full((4, 6, 3), 40 * k + (100 if name == "dog" else 0), np.uint8)
            Image.fromarray(array).save(tmp_path / name / f"{k}.png")
            pixels[(name, k)] = array
    (tmp_path / "cat" / "notes.txt").write_text("not an image")
    data = ImageFolder(tmp_path)
    assert data.classes == ["cat", "dog"] and data.class_to_idx == {"cat": 0, "dog": 1}
    assert [label for _, label in data.samples] == [0, 1, 1] and data.targets == [0, 1, 1]
    image, label = data[2]
    assert image.shape == (3, 4, 6) and image.dtype == np.float32 and label == 1
    np.testing.assert_allclose(image, pixels[("dog", 1)].transpose(2, 0, 1) / 255, rtol=1e-6)
    (tmp_path / "dog" / "1.png").write_bytes(b"\x89PNG broken")
    with pytest.raises(ValueError, match="1.png"):
        data[2]
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="empty"):
        ImageFolder(tmp_path)
    with pytest.raises(FileNotFoundError):
        ImageFolder(tmp_path / "nowhere")


def test_csv_dataset(tmp_path):
    path = tmp_path / "table.csv"
    path.write_text("age,income,label\n30,1.5,1\n40,2.5,0\n\n50,3.5,1\n")
    data = CSVDataset(path, target_column="label")
    assert len(data) == 3 and data.feature_names == ["age", "income"] and data.targets.dtype == np.int64
    features, target = data[1]
    assert features.dtype == np.float32 and features.tolist() == [40, 2.5] and target == 0
    x, y = next(iter(DataLoader(data, batch_size=3)))
    assert x.shape == (3, 2) and y.tolist() == [1, 0, 1]
    regression = CSVDataset(path, target_column="income", feature_columns=["age"])
    assert regression.targets.dtype == np.float32 and regression[2][0].tolist() == [50]
    path.write_text("x,species\n1,setosa\n2,virginica\n3,setosa\n")
    named = CSVDataset(path, target_column=1)
    assert named.classes == ["setosa", "virginica"] and named.targets.tolist() == [0, 1, 0]


def test_csv_dataset_errors_name_line_and_column(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("a,b,y\n1,2,0\n3,oops,1\n")
    with pytest.raises(ValueError, match=r"bad.csv, line 3, column 'b': non-numeric value 'oops'"):
        CSVDataset(path, target_column="y")
    path.write_text("a,b,y\n1,,0\n")
    with pytest.raises(ValueError, match="line 2, column 'b': empty value"):
        CSVDataset(path, target_column="y")
    path.write_text("a,b,y\n1,2\n")
    with pytest.raises(ValueError, match="line 2: 2 fields"):
        CSVDataset(path, target_column="y")
    path.write_text("a,b,y\n1,2,0\n")
    with pytest.raises(ValueError, match="no column named 'z'"):
        CSVDataset(tmp_path / "bad.csv", target_column="z")
    with pytest.raises(FileNotFoundError, match="missing.csv"):
        CSVDataset(tmp_path / "missing.csv", target_column="y")


def test_digits_bundled_with_scikit_learn():
    pytest.importorskip("sklearn")
    data = Digits()
    assert len(data) == 1797 and data.data.shape == (1797, 1, 8, 8) and data.data.dtype == np.float32
    assert data.data.min() == 0 and data.data.max() == 1 and data.targets.dtype == np.int64
    assert data.classes == [str(d) for d in range(10)]
    image, label = data[0]
    assert image.shape == (1, 8, 8) and label == 0
    train, val, test = stratified_split(data)
    assert len(train) + len(val) + len(test) == 1797
    assert set(np.unique(data.targets[val.indices])) == set(range(10))


def test_digits_read_from_the_file_equal_scikit_learns_loader(monkeypatch):
    sklearn_datasets = pytest.importorskip("sklearn.datasets")
    from gradkit.data.datasets import digits
    reference = sklearn_datasets.load_digits()
    assert digits._bundled_file() is not None   # the fast path is the one taken here
    direct = Digits()
    np.testing.assert_array_equal(direct.data[:, 0] * 16, reference.images)
    np.testing.assert_array_equal(direct.targets, reference.target)
    # Without the file (another scikit-learn layout) scikit-learn's loader gives the same dataset.
    monkeypatch.setattr(digits, "_bundled_file", lambda: None)
    fallback = Digits()
    np.testing.assert_array_equal(fallback.data, direct.data)
    np.testing.assert_array_equal(fallback.targets, direct.targets)
