"""What comes from a user's files is untrusted: quote it short and escaped, and read files only inside the
landing folder.

- ``excerpt``: a value from a file as it may appear in an error message, the CLI output, the event log or an
  alert sent to a webhook: at most a few dozen characters, control and non-printable characters escaped, in
  quotes. A message never carries more of a file than that (issue 16 item 9: the first line of /etc/passwd
  reached the webhook).
- ``confined``: a path found by a ``files:`` glob resolved, symlinks included, and accepted only when it stays
  inside the landing folder.
"""

from __future__ import annotations

import os
from pathlib import Path

#: Characters of a value quoted in a message.
EXCERPT_CHARS = 40


def excerpt(value: object, limit: int = EXCERPT_CHARS) -> str:
    """``value`` as a short, escaped, quoted excerpt: 'abc', 'a\\nb', 'xxxx…(+120 chars)', or NULL."""
    if value is None:
        return "NULL"
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    cut = text[:limit]
    escaped = cut.encode("unicode_escape").decode("ascii").replace("'", "\\'")
    more = f"…(+{len(text) - limit} chars)" if len(text) > limit else ""
    return f"'{escaped}'{more}"


class OutsideLanding(ValueError):
    """A file a mapping would read is not a regular file inside the landing folder."""

    def __init__(self, path: Path, reason: str):
        self.path, self.reason = path, reason
        super().__init__(f"{path}: {reason}")


def confined(path: Path, landing_dir: Path) -> Path:
    """``path`` resolved (symlinks followed to their end), if it is a regular file inside ``landing_dir``;
    else OutsideLanding saying where it leads. Never reads the file."""
    root = landing_dir.resolve()
    try:
        real = path.resolve(strict=True)
    except (FileNotFoundError, RuntimeError) as exc:  # RuntimeError: a symlink loop
        raise OutsideLanding(path, f"cannot be resolved ({type(exc).__name__}: a broken symlink or a loop); a "
                             "landing file must be a regular file inside the landing folder") from None
    if not real.is_relative_to(root):
        via = f"leads to {real}, " if Path(os.path.normpath(path.absolute())) != real else ""
        raise OutsideLanding(path, f"{via}outside the landing folder {root}: cadence reads only files inside it. "
                             "Copy the export into the landing folder instead of linking to it.")
    if not real.is_file():
        raise OutsideLanding(path, "not a regular file")
    return real
