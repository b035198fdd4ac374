"""Message templates: Jinja2 syntax, a small part of it, in a sandbox.

A template may print merge fields (``{{ patient_name }}``), pass them through a few
text filters (``{{ first_name | upper }}``) and choose text with ``{% if %}``. Nothing
else: no loops, no arithmetic, no attribute access, no macros or includes, so that a
template can neither run for long nor reach anything but its fields. The sandbox is
the second wall behind that list.

Field values are data, never templates: a patient called ``{{ 7*7 }}`` is printed as
those characters. In the HTML part every value is escaped, and so is the template's
own text (it is plain text: line breaks become ``<br>``).

:func:`check_template` tells an operator what is wrong before a template is saved;
:func:`render` raises :class:`TemplateFault` for a template that is wrong anyway (one
saved before a check existed, a field that went away), and the caller falls back to
the default text: sending never fails on a template.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from jinja2 import StrictUndefined, TemplateError, nodes
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup, escape

from connectors.notifications.fields import FIELDS, sample_values
from connectors.notifications.sms_length import SmsLength, sms_length

MAX_TEMPLATE_CHARS = 5000
MAX_OUTPUT_CHARS = 20000
FILTERS = ("upper", "lower", "capitalize", "title", "trim", "default", "d")
TESTS = ("defined", "undefined", "none")
KIND_FIELDS = {"code": "123456", "original_stands": "ja", "until": "14:45"}
"""Fields of the messages that have no tenant template (code, conflict, offer), with samples."""
_ALLOWED_NODES = (
    nodes.Template,
    nodes.Output,
    nodes.TemplateData,
    nodes.Name,
    nodes.Const,
    nodes.If,
    nodes.CondExpr,
    nodes.Filter,
    nodes.Test,
    nodes.Not,
    nodes.And,
    nodes.Or,
    nodes.Compare,
    nodes.Operand,
)


class TemplateFault(Exception):
    """A template that cannot be rendered; the message says why (for logs)."""


def _environment(autoescape: bool) -> SandboxedEnvironment:
    env = SandboxedEnvironment(
        autoescape=autoescape,
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        # `{{ }}` and `{% %}` only: `#` and `##` in a text are never syntax
        line_statement_prefix=None,
        line_comment_prefix=None,
    )
    env.globals.clear()  # no range(), lipsum(), cycler(), …
    env.filters = {name: env.filters[name] for name in FILTERS}
    env.tests = {name: env.tests[name] for name in TESTS}
    return env


_TEXT = _environment(autoescape=False)
_HTML = _environment(autoescape=True)


def check_template(text: str, extra_fields: Iterable[str] = ()) -> list[str]:
    """What is wrong with a tenant's template, in Swedish for the operator's page: syntax
    errors, unknown merge fields, constructions templates may not use. Empty: it may
    be saved. ``extra_fields``: names allowed besides :data:`FIELDS` (``code``)."""
    if len(text) > MAX_TEMPLATE_CHARS:
        return [f"Mallen är för lång: högst {MAX_TEMPLATE_CHARS} tecken."]
    try:
        tree = _TEXT.parse(text)
    except TemplateError as exc:
        line = getattr(exc, "lineno", None)
        where = f" på rad {line}" if line else ""
        return [f"Syntaxfel{where}: {exc.message or exc}"]
    problems = _tree_problems(tree, set(FIELDS) | set(extra_fields))
    if problems:
        return problems
    values = {**sample_values("email"), **{f: KIND_FIELDS.get(f, "x") for f in extra_fields}}
    for html in (False, True):
        try:
            _render_tree(text, values, html)
        except TemplateFault as exc:
            return [f"Mallen kan inte fyllas i: {exc}"]
    return []


def render(text: str, values: Mapping[str, str], *, html: bool = False) -> str:
    """``text`` with ``values`` merged in (HTML-escaped when ``html``). Raises
    :class:`TemplateFault` for any template that :func:`check_template` would refuse."""
    if len(text) > MAX_TEMPLATE_CHARS:
        raise TemplateFault("template too long")
    try:
        tree = _TEXT.parse(text)
    except TemplateError as exc:
        raise TemplateFault(f"syntax error: {exc}") from None
    problems = _tree_problems(tree, set(values))
    if problems:
        raise TemplateFault("; ".join(problems))
    return _render_tree(text, values, html)


def estimate_sms_length(text: str, kind: str | None = None) -> SmsLength:
    """The length of an SMS from template ``text`` with long but realistic values
    (:data:`~connectors.notifications.fields.FIELDS`' samples): what the operator's SMS
    tab shows, so that a confirmation does not become two SMS. A template that does not
    render is measured as written."""
    try:
        rendered = render(text, {**sample_values("sms", kind), **KIND_FIELDS})
    except TemplateFault:
        rendered = text
    return sms_length(rendered.strip())


def _render_tree(text: str, values: Mapping[str, str], html: bool) -> str:
    env = _HTML if html else _TEXT
    try:
        tree = env.parse(text)
        if html:
            for data in tree.find_all(nodes.TemplateData):
                # The template's own words are text too: escaped, line breaks kept.
                data.data = str(escape(data.data)).replace("\n", "<br>\n")
            values = {k: _html_value(k, v) for k, v in values.items()}
        result = env.from_string(tree).render(values)
    except TemplateError as exc:
        raise TemplateFault(f"{type(exc).__name__}: {exc}") from None
    except Exception as exc:  # a filter given odd arguments, and the like
        raise TemplateFault(f"{type(exc).__name__}: {exc}") from None
    if len(result) > MAX_OUTPUT_CHARS:
        raise TemplateFault("rendered text too long")
    return result


def _html_value(name: str, value: str) -> str | Markup:
    if name == "link" and value.startswith(("https://", "http://")):
        return Markup('<a href="{0}">{0}</a>').format(value)
    return value  # escaped by autoescape


def _tree_problems(tree: nodes.Template, known: set[str]) -> list[str]:
    problems: list[str] = []
    for node in tree.find_all(nodes.Node):
        if not isinstance(node, _ALLOWED_NODES):
            problems.append(f"Otillåten konstruktion i mallen: {_describe(node)}.")
        elif isinstance(node, nodes.Name) and node.ctx == "load" and node.name not in known:
            problems.append(f"Okänt kopplingsfält: {{{{ {node.name} }}}}.")
        elif isinstance(node, nodes.Filter) and node.name not in FILTERS:
            problems.append(f"Okänt filter: {node.name}.")
        elif isinstance(node, nodes.Test) and node.name not in TESTS:
            problems.append(f"Okänt test: {node.name}.")
    return list(dict.fromkeys(problems))  # each once, in order


def _describe(node: nodes.Node) -> str:
    names = {
        "For": "loop (for)",
        "Mul": "räkning (*)",
        "Pow": "räkning (**)",
        "Add": "räkning (+)",
        "Sub": "räkning (-)",
        "Div": "räkning (/)",
        "Getattr": "attribut (.)",
        "Getitem": "index ([])",
        "Call": "anrop ( )",
        "Assign": "set",
        "Macro": "macro",
        "Include": "include",
        "Import": "import",
        "Extends": "extends",
    }
    kind = type(node).__name__
    return names.get(kind, kind)
