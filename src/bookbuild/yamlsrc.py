"""YAML parsing that keeps the source line of every key and item."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bookbuild.errors import Diagnostic, ManuscriptError, error
from bookbuild.model import SourceLocation

# libyaml's loader when PyYAML was built with it: the same results, several times faster.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True, slots=True, kw_only=True)
class YamlDoc:
    data: Any
    node: yaml.Node | None
    path: Path
    first_line: int

    def locate(self, node: yaml.Node | None) -> SourceLocation:
        """Return where a node starts in the original file."""
        if node is None:
            return SourceLocation(path=self.path, line=self.first_line)
        mark = node.start_mark
        return SourceLocation(path=self.path, line=self.first_line + mark.line, col=mark.column + 1)


def parse_yaml(text: str, path: Path, first_line: int = 1) -> YamlDoc:
    """Parse one YAML document, reporting syntax errors at their real line."""
    try:
        node, data = _compose(text, _Loader)
    except yaml.YAMLError:
        # The pure-Python parser words its errors better than libyaml; pay for it only here.
        try:
            node, data = _compose(text, yaml.SafeLoader)
        except yaml.MarkedYAMLError as exc:
            raise ManuscriptError([_syntax_error(exc, path, first_line)]) from None
        except yaml.YAMLError as exc:
            where = SourceLocation(path=path, line=first_line)
            raise ManuscriptError([error("BB102", f"invalid YAML: {exc}", where)]) from None
    return YamlDoc(data=data, node=node, path=path, first_line=first_line)


def _compose(text: str, loader_class: type[yaml.SafeLoader]) -> tuple[yaml.Node | None, Any]:
    loader = loader_class(text)
    try:
        node = loader.get_single_node()
        return node, loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()


def _syntax_error(exc: yaml.MarkedYAMLError, path: Path, first_line: int) -> Diagnostic:
    """Return the diagnostic; at the end of input, point where the broken construct starts."""
    at_end = "<stream end>" in str(exc.problem) or "end of the stream" in str(exc.problem)
    mark = (exc.context_mark if at_end else None) or exc.problem_mark or exc.context_mark
    line = first_line + (mark.line if mark else 0)
    where = SourceLocation(path=path, line=line, col=mark.column + 1 if mark else 1)
    context = f"{exc.context}: " if exc.context else ""
    return error("BB102", f"invalid YAML: {context}{exc.problem}", where)


def key_nodes(node: yaml.Node | None) -> dict[str, yaml.Node]:
    """Return the value node of each key of a mapping node."""
    if not isinstance(node, yaml.MappingNode):
        return {}
    return {str(k.value): v for k, v in node.value if isinstance(k, yaml.ScalarNode)}


def key_names(node: yaml.Node | None) -> dict[str, yaml.Node]:
    """Return the key node of each key of a mapping node."""
    if not isinstance(node, yaml.MappingNode):
        return {}
    return {str(k.value): k for k, _ in node.value if isinstance(k, yaml.ScalarNode)}


def item_nodes(node: yaml.Node | None) -> list[yaml.Node]:
    """Return the item nodes of a sequence node."""
    return list(node.value) if isinstance(node, yaml.SequenceNode) else []
