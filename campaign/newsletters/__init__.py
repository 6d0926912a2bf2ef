"""Newsletters: compose (the render pipeline) and, later, the delivery queue.

Rendering follows "render once, personalise cheaply": Jinja → MJML → HTML → inlined CSS runs
once per audience group (see :mod:`campaign.newsletters.render`); each recipient then costs one
fill of a compiled Jinja template.
"""

from campaign.newsletters.render import (
    AudienceGroup,
    CompiledNewsletter,
    Recipient,
    RenderedMessage,
    RenderError,
    group_by_region,
    render_group,
    render_groups,
)

__all__ = [
    "AudienceGroup",
    "CompiledNewsletter",
    "Recipient",
    "RenderError",
    "RenderedMessage",
    "group_by_region",
    "render_group",
    "render_groups",
]
