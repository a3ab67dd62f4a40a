"""``gk.save`` / ``gk.load``: state dicts of tensors in the safetensors format.

safetensors is a flat, header-plus-bytes format that any framework reads and that cannot run code
on load, unlike pickle. Files are written to a temporary name and renamed, so an interrupted save
never destroys the previous file. The format is simple enough to write and read with NumPy alone,
so the ``safetensors`` package is not required; files it writes (e.g. ``safetensors.torch.save_file``
of a PyTorch state dict) load here.
"""
import json
import os
import struct
import tempfile
from collections import OrderedDict

import numpy as np

from gradkit import backend
from gradkit.tensor import Tensor

_DTYPES = {"F64": np.float64, "F32": np.float32, "F16": np.float16, "I64": np.int64, "I32": np.int32,
           "I16": np.int16, "I8": np.int8, "U8": np.uint8, "BOOL": np.bool_, "U16": np.uint16,
           "U32": np.uint32, "U64": np.uint64}
_CODES = {np.dtype(v): k for k, v in _DTYPES.items()}
_MAX_HEADER = 100 * 1024 * 1024


class CorruptFileError(ValueError):
    """A file that is truncated or not in the expected format."""


def _to_array(value, key):
    if isinstance(value, Tensor):
        return backend.to_device(value.data, "cpu")
    if hasattr(value, "detach") and hasattr(value, "numpy"):  # a torch tensor
        return value.detach().cpu().numpy()
    array = np.asarray(value)
    if array.dtype == object:
        raise TypeError(f"save: value for key {key!r} is not an array or tensor ({type(value).__name__})")
    return array


def atomic_write_bytes(path, chunks):
    """Write ``chunks`` to ``path`` through a temporary file in the same folder, then rename."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=os.path.basename(path), dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            for chunk in chunks:
                f.write(chunk)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def save(state_dict, path, metadata=None):
    """Save a mapping of names to tensors (or arrays) as a safetensors file at ``path``.

    ``metadata`` is an optional dict of strings stored in the file's header.
    """
    # Not np.ascontiguousarray: it turns 0-d arrays (optimizer step counters) into 1-d ones.
    arrays = OrderedDict((str(k), np.asarray(_to_array(v, k), order="C")) for k, v in state_dict.items())
    header, offset = {}, 0
    for key, array in arrays.items():
        if array.dtype not in _CODES:
            raise TypeError(f"save: dtype {array.dtype} of {key!r} cannot be stored in safetensors")
        header[key] = {"dtype": _CODES[array.dtype], "shape": list(array.shape),
                       "data_offsets": [offset, offset + array.nbytes]}
        offset += array.nbytes
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    encoded = json.dumps(header, separators=(",", ":")).encode()
    encoded += b" " * (-len(encoded) % 8)  # the format aligns the data to 8 bytes
    chunks = [struct.pack("<Q", len(encoded)), encoded] + [a.astype(a.dtype.newbyteorder("<"), copy=False).tobytes()
                                                           for a in arrays.values()]
    atomic_write_bytes(path, chunks)


def load_with_metadata(path):
    """Read a safetensors file: (OrderedDict of name -> Tensor, metadata dict)."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"load: no such file: {path}")
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise CorruptFileError(f"load: {path} is not a safetensors file (only {len(raw)} bytes)")
    (header_size,) = struct.unpack("<Q", raw[:8])
    if header_size > min(_MAX_HEADER, len(raw) - 8):
        raise CorruptFileError(f"load: {path} is truncated or not a safetensors file (header size {header_size})")
    try:
        header = json.loads(raw[8:8 + header_size])
    except ValueError as error:
        raise CorruptFileError(f"load: {path} has an unreadable header: {error}") from None
    metadata = header.pop("__metadata__", {}) or {}
    data = memoryview(raw)[8 + header_size:]
    tensors = OrderedDict()
    for key, info in header.items():
        try:
            dtype = np.dtype(_DTYPES[info["dtype"]]).newbyteorder("<")
            start, end = info["data_offsets"]
            shape = tuple(info["shape"])
        except (KeyError, TypeError, ValueError):
            raise CorruptFileError(f"load: {path}: bad header entry for {key!r}") from None
        if end > len(data) or end - start != int(np.prod(shape)) * dtype.itemsize:
            raise CorruptFileError(f"load: {path} is truncated: tensor {key!r} needs bytes {start}..{end} "
                                   f"of {len(data)}")
        array = np.frombuffer(data[start:end], dtype=dtype).reshape(shape).astype(dtype.newbyteorder("="))
        tensors[key] = Tensor._make(array)
    return tensors, metadata


def load(path):
    """Load a safetensors file saved by :func:`save` (or by ``safetensors``) as a dict of tensors."""
    return load_with_metadata(path)[0]
