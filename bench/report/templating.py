"""The Jinja2 environment every HTML page polebench writes is rendered with: templates shipped as
package data beside this module, every value autoescaped (a profile label or an imported file's
origin is text, never markup), undefined names an error rather than an empty string."""

from __future__ import annotations

from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup


@cache
def environment() -> Environment:
    # default=True: a template of any name is escaped, not only *.html
    return Environment(loader=PackageLoader("bench.report", "templates"),
                       autoescape=select_autoescape(default=True, default_for_string=True),
                       undefined=StrictUndefined, keep_trailing_newline=True)


def render(template: str, **context: object) -> str:
    return environment().get_template(template).render(**context)


def trusted(html: str) -> Markup:
    """HTML that polebench itself made (a chart's SVG, a sweep's section), shown as it is."""
    return Markup(html)
