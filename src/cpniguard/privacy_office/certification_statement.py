"""The statement's text from a Jinja2 template the carrier can edit (CERT-2).

The template is trusted no further than a document: it runs sandboxed, and a name it uses that
the document lacks is an error rather than an empty string, so a mistyped field cannot drop a
sentence from a filing unnoticed. The text it renders is plain lines with a little markup the
PDF understands: `# title`, `## section`, `- item`, `[[chart:NAME]]` and `[[page-break]]`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment

from cpniguard.errors import DomainError

SHIPPED_TEMPLATE = "certification.md.j2"  # in cpniguard/privacy_office/templates/
CHARTS = frozenset({"complaints_per_month", "opt_out_rate_per_month"})


class TemplateProblem(DomainError):
    """The certification template does not render: its author must fix it (HTTP 400, exit 2)."""


def render_statement(template: str, document: Mapping[str, Any], source: str) -> str:
    """The template filled with the document's facts; TemplateProblem names the line and why."""
    environment = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)
    try:
        text = environment.from_string(template).render(**document)
    except TemplateSyntaxError as exc:
        raise TemplateProblem(
            f"the certification template {source} does not render: line {exc.lineno}: {exc}"
        ) from None
    except TemplateError as exc:
        raise TemplateProblem(f"the certification template {source} does not render: {exc}") from None
    _check_charts(text, source)
    return text


def _check_charts(text: str, source: str) -> None:
    for line in text.splitlines():
        name = chart_name(line)
        if name is not None and name not in CHARTS:
            known = ", ".join(sorted(CHARTS))
            raise TemplateProblem(f"the certification template {source} asks for an unknown chart {name!r} ({known})")


def chart_name(line: str) -> str | None:
    """The chart a `[[chart:NAME]]` line asks for, or None for any other line."""
    stripped = line.strip()
    if stripped.startswith("[[chart:") and stripped.endswith("]]"):
        return stripped[len("[[chart:") : -2].strip()
    return None
