"""The command line's words for the stages' messages: English, naming the flags to use.

``SENTENCES[code]`` is a :meth:`str.format` template over the message's values, plus ``flag``:
the option that sets the message's field (``FLAGS``). Behaviour is the CLI's as it always was:
these are the sentences the stages used to build themselves.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from campaign.wording import CliShape, plain_values
from campaign.wording.cli import audience, mail, newsletters, scheduling, service, social
from campaign.wording.cli.newsletters import COVERAGE_WHAT as COVERAGE_WHAT

if TYPE_CHECKING:  # the type only: messages word themselves with this catalogue
    from campaign.messages import Message

FLAGS = {
    "title": "--title",
    "subject": "--subject",
    "segment": "--segment",
    "content": "--set",
    "lists": "--list",
    "template": "--template",
    "events.from": "--events-from",
    "events.to": "--events-to",
    "events.max": "--events-max",
    "events.order": "--events-order",
    "events.regions": "--events-region",
    "events.themes": "--events-theme",
    "from": "--from",
    "to": "--to",
    "times": "--times",
    "per_day": "--per-day",
    "split": "--split",
}
"""The CLI option that sets each field of the domain."""

_STAGES = (newsletters, audience, social, mail, scheduling, service)

SENTENCES: dict[str, str] = {
    code: text for stage in _STAGES for code, text in stage.SENTENCES.items()
}

SHAPES: dict[str, CliShape] = {
    key: shape for stage in _STAGES for key, shape in stage.SHAPES.items()
}
"""How the values of a code (``"post.waiting"``) or of a family (``"block."``) are worded."""


def word(message: Message) -> str:
    """The CLI's sentence for ``message`` (a code without one is shown as it is: a bug)."""
    template = SENTENCES.get(message.code)
    values: dict[str, Any] = plain_values(message.values)
    if template is None:
        return f"{message.code} {values}" if values else message.code
    values.setdefault("flag", FLAGS.get(message.field, message.field))
    if "post_id" in message.values and "post" not in values:
        values["post"] = _post(message.values["post_id"], message.values.get("account"))
    family = message.code.partition(".")[0] + "."
    for key in (family, message.code):
        shape = SHAPES.get(key)
        if shape is not None:
            shape(message.values, values)
    return template.format(**values)


def _post(post_id: Any, account: Any) -> str:
    """How a sentence names the post it concerns."""
    return f"Post {post_id}" if post_id else f"The post for {account}" if account else "The post"
