"""YAML parsing that keeps the source line of every key and item.

Manuscript YAML is plain data: no anchors, aliases or tags (so no alias bomb), at most
MAX_DEPTH levels deep, and every scalar is text except `true`/`false` and `null`. Dates and
numbers stay text, so that a bad date is the loader's diagnostic, not PyYAML's exception.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bookbuild.errors import Diagnostic, ManuscriptError, error
from bookbuild.model import SourceLocation

MAX_DEPTH = 32
_KEPT_TYPES = ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:null")


def _plain_data(base: type[yaml.SafeLoader]) -> type[yaml.SafeLoader]:
    """Return a loader class that resolves only booleans and null; the rest stays text."""
    resolvers = {
        first: [(tag, regexp) for tag, regexp in pairs if tag in _KEPT_TYPES]
        for first, pairs in base.yaml_implicit_resolvers.items()
    }
    return type(f"Plain{base.__name__}", (base,), {"yaml_implicit_resolvers": resolvers})


# libyaml's loader when PyYAML was built with it: the same results, several times faster, and
# its composer does not recurse in Python.
_Loader = _plain_data(getattr(yaml, "CSafeLoader", yaml.SafeLoader))
_PyLoader = _plain_data(yaml.SafeLoader)


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
    """Parse one YAML document, reporting syntax errors and refused constructs at their line."""
    try:
        _screen_events(text, _Loader, path, first_line)
    except yaml.YAMLError as exc:
        raise ManuscriptError([_yaml_error(_better(exc, text), text, path, first_line)]) from None
    try:
        node, data = _compose(text, _Loader)
    except (yaml.YAMLError, ValueError, TypeError) as exc:
        raise ManuscriptError([_yaml_error(exc, text, path, first_line)]) from None
    return YamlDoc(data=data, node=node, path=path, first_line=first_line)


def _better(exc: yaml.YAMLError, text: str) -> yaml.YAMLError:
    """Return the pure-Python parser's error, worded better than libyaml's, if it has one."""
    # Parsing (unlike composing) does not recurse, so this is safe on deep input too.
    try:
        _screen_events(text, _PyLoader, Path(), 1)
    except yaml.YAMLError as better:
        return better
    except ManuscriptError:
        pass
    return exc


def _screen_events(
    text: str, loader_class: type[yaml.SafeLoader], path: Path, first_line: int
) -> None:
    """Refuse anchors, aliases, tags and nesting deeper than MAX_DEPTH, before composing."""
    loader = loader_class(text)
    try:
        depth = 0
        while (event := loader.get_event()) is not None:  # type: ignore[no-untyped-call]
            depth += isinstance(event, yaml.CollectionStartEvent)
            depth -= isinstance(event, yaml.CollectionEndEvent)
            if problem := _refused(event, depth):
                mark = event.start_mark
                where = SourceLocation(path=path, line=first_line + mark.line, col=mark.column + 1)
                raise ManuscriptError([error("BB102", problem, where)])
    finally:
        loader.dispose()


def _refused(event: yaml.Event, depth: int) -> str | None:
    if isinstance(event, yaml.AliasEvent):
        return "YAML aliases (*name) are not allowed: write the value out"
    if isinstance(event, yaml.NodeEvent) and event.anchor is not None:
        return "YAML anchors (&name) are not allowed: write the value out"
    if isinstance(event, yaml.NodeEvent) and getattr(event, "tag", None) is not None:
        return f"YAML tags ({event.tag}) are not allowed: write plain values"  # type: ignore[attr-defined]
    if depth > MAX_DEPTH:
        return f"YAML nested deeper than {MAX_DEPTH} levels"
    return None


def _compose(text: str, loader_class: type[yaml.SafeLoader]) -> tuple[yaml.Node | None, Any]:
    loader = loader_class(text)
    try:
        node = loader.get_single_node()
        return node, loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()


def _yaml_error(exc: Exception, text: str, path: Path, first_line: int) -> Diagnostic:
    if isinstance(exc, yaml.MarkedYAMLError):
        return _syntax_error(exc, path, first_line)
    if isinstance(exc, yaml.reader.ReaderError) and isinstance(exc.character, int):
        at = min(exc.position, len(text))
        line = first_line + text.count("\n", 0, at)
        where = SourceLocation(path=path, line=line, col=at - text.rfind("\n", 0, at))
        message = f"invalid YAML: character U+{exc.character:04X} is not allowed in YAML"
        return error("BB102", message, where)
    where = SourceLocation(path=path, line=first_line)
    return error("BB102", f"invalid YAML: {exc}", where)


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
