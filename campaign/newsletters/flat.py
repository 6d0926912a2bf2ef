"""The recipient pass without Jinja's runtime, for the templates that need no more than that.

The recipient pass (:mod:`campaign.newsletters.recipient_pass`) fills a compiled template with one
person's names and links. Jinja does that correctly but, on the sending path, its runtime (a
context and a few calls per value) costs more than everything else that builds a message. What
our templates ask of that pass is small: print ``recipient.<field>``, print ``link(N)``, print a
constant (the ``[[ '[' ]]`` of escaped data), and ``[% if recipient.<field> %]`` … ``[% else %]``
… ``[% endif %]``. :func:`flatten` turns a template made only of those into a short list of
steps, read from Jinja's own parse tree (so whitespace control and newline rules are Jinja's);
anything else (filters, loops, other names) returns ``None`` and that template keeps Jinja.

The output is the same as Jinja's: values are escaped with the same function in HTML (autoescape)
and written with ``str`` in text. A test renders both ways and compares.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import fields
from typing import Any

import jinja2
from jinja2 import nodes
from markupsafe import escape

_LITERAL, _FIELD, _LINK, _IF = range(4)

Step = tuple[int, Any]


class Value(str):
    """A per-recipient value in text output: a ``str`` that is not a literal of the template
    (the MIME composer caches the encoding of literals, never of values)."""

    __slots__ = ()


def _recipient_fields() -> frozenset[str]:
    from campaign.newsletters.recipient_pass import Recipient

    return frozenset(item.name for item in fields(Recipient) if item.name not in {"link", "links"})


class _Unsupported(Exception):
    """Internal: the template uses more than the flat pass knows."""


def _field(node: nodes.Node, known: frozenset[str]) -> str:
    if (
        isinstance(node, nodes.Getattr)
        and isinstance(node.node, nodes.Name)
        and node.node.name == "recipient"
        and node.attr in known
    ):
        return node.attr
    raise _Unsupported


def _link_index(item: nodes.Node) -> int | None:
    """N when ``item`` is ``link(N)`` with N a literal index and nothing else in the call."""
    if not (
        isinstance(item, nodes.Call)
        and isinstance(item.node, nodes.Name)
        and item.node.name == "link"
        and len(item.args) == 1
        and not item.kwargs
        and item.dyn_args is None
        and item.dyn_kwargs is None
    ):
        return None
    (index,) = item.args
    return index.value if isinstance(index, nodes.Const) and type(index.value) is int else None


def _output_step(item: nodes.Node, known: frozenset[str], html: bool) -> Step:
    """The step of one printed item: a literal, a link or a recipient's field."""
    if isinstance(item, nodes.TemplateData):
        return (_LITERAL, item.data)
    if isinstance(item, nodes.Const) and isinstance(item.value, str):
        # A constant is the same for everyone: a literal, escaped as Jinja would.
        return (_LITERAL, str(escape(item.value)) if html else item.value)
    index = _link_index(item)
    if index is not None:
        return (_LINK, index)
    return (_FIELD, _field(item, known))


def _if_step(node: nodes.If, known: frozenset[str], html: bool) -> Step:
    """``[% if [not] recipient.<field> %] … [% else %] … [% endif %]`` as one step."""
    test, negate = node.test, False
    if isinstance(test, nodes.Not):
        test, negate = test.node, True
    then, other = _steps(node.body, known, html), _steps(node.else_, known, html)
    return (_IF, (_field(test, known), negate, then, other))


def _steps(body: Sequence[nodes.Node], known: frozenset[str], html: bool) -> list[Step]:
    steps: list[Step] = []
    for node in body:
        if isinstance(node, nodes.Output):
            steps.extend(_output_step(item, known, html) for item in node.nodes)
        elif isinstance(node, nodes.If) and not node.elif_:
            steps.append(_if_step(node, known, html))
        else:
            raise _Unsupported
    return steps


class FlatTemplate:
    """A recipient-pass template as steps; see the module docstring."""

    def __init__(self, steps: list[Step], html: bool) -> None:
        self._steps = steps
        self._write: Callable[[Any], str] = escape if html else Value

    def chunks(self, recipient: Any, links: Sequence[str]) -> list[str]:
        """The output as chunks: the template's literal strings (the same objects for every
        recipient) between the recipient's values. A value printed several times (a link
        usually is) is the same object each time, written once."""
        out: list[str] = []
        self._run(self._steps, recipient, links, {}, out)
        return out

    def render(self, recipient: Any, links: Sequence[str]) -> str:
        return "".join(self.chunks(recipient, links))

    def _run(
        self,
        steps: list[Step],
        recipient: Any,
        links: Sequence[str],
        written: dict[Any, str],
        out: list[str],
    ) -> None:
        append = out.append
        for kind, value in steps:
            if kind == _LITERAL:
                append(value)
            elif kind == _IF:
                name, negate, then, other = value
                chosen = then if bool(getattr(recipient, name)) != negate else other
                self._run(chosen, recipient, links, written, out)
            else:
                text = written.get(value)  # value: a link's index or a field's name
                if text is None:
                    raw = links[value] if kind == _LINK else getattr(recipient, value)
                    text = written[value] = self._write(raw)
                append(text)


def flatten(env: jinja2.Environment, source: str) -> FlatTemplate | None:
    """The flat form of a recipient-pass template, or None when it needs Jinja."""
    try:
        tree = env.parse(source)
        html = bool(env.autoescape)
        return FlatTemplate(_steps(tree.body, _recipient_fields(), html), html)
    except (_Unsupported, jinja2.TemplateSyntaxError):
        return None
