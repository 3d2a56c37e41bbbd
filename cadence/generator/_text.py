"""Vectorised text rendering: numbers, ids and ISO 8601 timestamps straight into Arrow string arrays.

Every value is written into a fixed-width ``uint8`` matrix (one row per value) and handed to Arrow as the
data buffer of a string array, so millions of values cost a few numpy passes and no Python per value.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

NAT = np.iinfo(np.int64).min  # "no timestamp" in the int64 epoch-second columns
_DAY = 86_400


def from_matrix(mat: np.ndarray, lengths: np.ndarray | None = None) -> pa.Array:
    """Rows of an (n, w) byte matrix -> Arrow strings; ``lengths`` keeps only the first bytes of each row."""
    n, w = mat.shape
    if n * w >= 2**31:  # Arrow string offsets are int32: callers render in chunks well below this
        raise ValueError("chunk too large to render")
    if lengths is None:
        offsets = np.arange(0, n * w + 1, w, dtype=np.int32)
        data = np.ascontiguousarray(mat).ravel()
    else:
        data = mat[np.arange(w) < lengths[:, None]]
        offsets = np.zeros(n + 1, dtype=np.int32)
        np.cumsum(lengths, out=offsets[1:])
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data))


def put_digits(mat: np.ndarray, col: int, values: np.ndarray, width: int) -> None:
    """Write ``values`` zero-padded on ``width`` digits into columns ``col..col+width-1``."""
    v = np.abs(values.astype(np.int64))
    for k in range(width - 1, -1, -1):
        mat[:, col + k] = v % 10 + 48
        v //= 10


def digits_needed(max_value: int, minimum: int) -> int:
    return max(minimum, len(str(int(max_value))))


def ids(prefix: str, nums: np.ndarray, width: int, empty: np.ndarray | None = None) -> pa.Array:
    """``prefix`` + zero-padded number; rows where ``empty`` is true become ''."""
    p = prefix.encode()
    mat = np.empty((len(nums), len(p) + width), dtype=np.uint8)
    mat[:, : len(p)] = np.frombuffer(p, dtype=np.uint8)
    put_digits(mat, len(p), nums, width)
    if empty is None or not empty.any():
        return from_matrix(mat)
    return from_matrix(mat, np.where(empty, 0, mat.shape[1]))


def civil(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Days since 1970-01-01 -> (year, month, day), proleptic Gregorian (H. Hinnant's algorithm)."""
    z = days.astype(np.int64) + 719_468
    era = np.floor_divide(z, 146_097)
    doe = z - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = np.where(mp < 10, mp + 3, mp - 9)
    year = yoe + era * 400 + (month <= 2)
    return year, month, day


def timestamps(utc: np.ndarray, offset_min: np.ndarray, naive: np.ndarray | None = None,
               written_offset_min: np.ndarray | None = None) -> pa.Array:
    """``YYYY-MM-DDTHH:MM:SS+HH:MM`` for epoch seconds ``utc`` shown at ``offset_min``; NAT -> ''.

    ``naive`` rows drop the offset (the local wall time only); ``written_offset_min`` writes another offset
    after the same wall clock (a wrong offset: the wall clock stays the true local time).
    """
    missing = utc == NAT
    wall = np.where(missing, 0, utc) + offset_min.astype(np.int64) * 60
    if written_offset_min is not None:
        offset_min = written_offset_min
    days, secs = np.divmod(wall, _DAY)
    year, month, day = civil(days)
    mat = np.empty((len(utc), 25), dtype=np.uint8)
    put_digits(mat, 0, year, 4)
    put_digits(mat, 5, month, 2)
    put_digits(mat, 8, day, 2)
    put_digits(mat, 11, secs // 3600, 2)
    put_digits(mat, 14, secs // 60 % 60, 2)
    put_digits(mat, 17, secs % 60, 2)
    put_digits(mat, 20, np.abs(offset_min) // 60, 2)
    put_digits(mat, 23, np.abs(offset_min) % 60, 2)
    mat[:, 4] = mat[:, 7] = ord("-")
    mat[:, 10] = ord("T")
    mat[:, 13] = mat[:, 16] = mat[:, 22] = ord(":")
    mat[:, 19] = np.where(offset_min < 0, ord("-"), ord("+"))
    if naive is None and not missing.any():
        return from_matrix(mat)
    lengths = np.full(len(utc), 25, dtype=np.int64)
    if naive is not None:
        lengths[naive] = 19
    lengths[missing] = 0
    return from_matrix(mat, lengths)


def integers(values: np.ndarray, empty: np.ndarray | None = None) -> pa.Array:
    out = pc.cast(pa.array(values.astype(np.int64)), pa.string())
    if empty is not None and empty.any():
        out = pc.if_else(pa.array(empty), "", out)
    return out


def money(cents: np.ndarray) -> pa.Array:
    """Integer cents -> ``1234.50`` (a dot, two decimals)."""
    cents = cents.astype(np.int64)
    whole = pc.cast(pa.array(cents // 100), pa.string())
    frac = ids("", cents % 100, 2)
    return pc.binary_join_element_wise(whole, frac, ".")


def labels(idx: np.ndarray, names: tuple[str, ...] | list[str]) -> pa.Array:
    """Category codes -> their names; a negative code becomes ''."""
    idx = idx.astype(np.int64)
    table = pa.array([*names, ""], type=pa.string())
    return table.take(pa.array(np.where(idx < 0, len(names), idx)))


def take(strings: pa.Array, idx: np.ndarray) -> pa.Array:
    return strings.take(pa.array(idx.astype(np.int64)))
