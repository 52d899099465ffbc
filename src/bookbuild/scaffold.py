"""`bookbuild new`: start a manuscript from the theme's example book."""

from __future__ import annotations

import datetime
import shutil
import uuid
from pathlib import Path

import jinja2

from bookbuild.assets import default_styles_dir
from bookbuild.errors import ManuscriptError, error
from bookbuild.model import SourceLocation


def create_manuscript(target: Path, styles: Path | None = None) -> None:
    """Copy the example book to `target`, with a title from its name and a fresh identifier."""
    where = SourceLocation(path=target, line=0)
    try:
        if target.exists() and not target.is_dir():
            raise ManuscriptError([error("BB111", "a file exists here; give a folder name", where)])
        if target.exists() and any(target.iterdir()):
            raise ManuscriptError([error("BB111", "folder exists and is not empty", where)])
        source = (styles or default_styles_dir()) / "new-book"
        shutil.copytree(source, target, dirs_exist_ok=True)
    except OSError as exc:  # an unwritable parent, or a file where a parent folder should be
        reason = exc.strerror or str(exc)
        message = f"cannot create the manuscript: {reason}"
        raise ManuscriptError([error("BB111", message, where)]) from None
    book = target / "book.yaml"
    title = target.resolve().name.replace("-", " ").replace("_", " ").strip().capitalize()
    book.write_text(
        jinja2.Template(book.read_text(), keep_trailing_newline=True).render(
            title=title or "A new book",
            identifier=f"urn:uuid:{uuid.uuid4()}",
            date=datetime.date.today().isoformat(),
        )
    )
