"""Locating and reading data files, with errors that name the file and say where to get it."""
import gzip
import os


def find_file(owner, folders, names, where_to_get):
    """The first existing ``folder/name``; otherwise a FileNotFoundError listing every path tried."""
    tried = []
    for folder in folders:
        for name in names:
            path = os.path.join(folder, name)
            if os.path.isfile(path):
                return path
            tried.append(path)
    listing = "\n  ".join(tried)
    raise FileNotFoundError(f"{owner}: dataset file not found; looked for:\n  {listing}\n{where_to_get}")


def read_bytes(path):
    """The content of ``path``, decompressed when it ends in .gz; a truncated archive is named."""
    try:
        if path.endswith(".gz"):
            with gzip.open(path, "rb") as f:
                return f.read()
        with open(path, "rb") as f:
            return f.read()
    except (EOFError, OSError, gzip.BadGzipFile) as error:
        raise ValueError(f"{path}: cannot read the file, it is truncated or corrupt ({error})") from error


def apply_transforms(image, target, transform, target_transform):
    if transform is not None:
        image = transform(image)
    if target_transform is not None:
        target = target_transform(target)
    return image, target
