"""Render the maths of the HTML pages at build time, as MathML.

``sphinx.ext.mathjax`` leaves ``\\[ ... \\]`` in the page for a script from a
CDN to typeset, so without network the reader sees raw LaTeX. Here every
``:math:`` role and ``.. math::`` block is converted by latex2mathml while the
pages are written; browsers display MathML natively, so the pages need neither
network nor JavaScript. Select it with ``html_math_renderer = "mathml"``.
"""

import html
import re

from docutils import nodes
from latex2mathml.converter import convert
from sphinx.locale import _
from sphinx.util import logging
from sphinx.util.math import get_node_equation_number

logger = logging.getLogger(__name__)


def _mathml(latex, display, node):
    """MathML of ``latex``; warns (an error under ``-W``) on what it cannot read."""
    try:
        out = convert(latex.strip(), display="block" if display else "inline")
    except Exception as exc:  # latex2mathml raises its own exception types
        logger.warning("cannot convert %r to MathML: %s", latex, exc,
                       location=node)
        return f"<code>{html.escape(latex)}</code>"
    left = re.findall(r"<m[io][^>]*>(\\[^<]*)<", out)
    if left or re.search(r">&<", out):
        logger.warning("latex2mathml left %s unconverted in %r",
                       left or "'&'", latex, location=node)
    return out


def visit_math(self, node):
    self.body.append(self.starttag(node, "span", "", CLASS="math notranslate"))
    self.body.append(_mathml(node.astext(), False, node))
    self.body.append("</span>")
    raise nodes.SkipNode


def visit_displaymath(self, node):
    self.body.append(self.starttag(node, "div", CLASS="math notranslate"))
    if node["number"]:
        number = get_node_equation_number(self, node)
        self.body.append(f'<span class="eqno">({number})')
        self.add_permalink_ref(node, _("Link to this equation"))
        self.body.append("</span>")
    # blank-line separated equations are stacked, as sphinx.ext.mathjax does
    for part in node.astext().split("\n\n"):
        if not part.strip():
            continue
        if r"\\" in part and r"\begin" not in part:
            part = r"\begin{split}" + part + r"\end{split}"
        self.body.append(_mathml(part, True, node))
    self.body.append("</div>\n")
    raise nodes.SkipNode


def setup(app):
    app.add_html_math_renderer("mathml", (visit_math, None),
                               (visit_displaymath, None))
    return {"parallel_read_safe": True, "parallel_write_safe": True}
