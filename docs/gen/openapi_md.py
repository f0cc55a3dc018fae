"""The HTTP API reference as Markdown, from the service's OpenAPI schema.

Every route, parameter, request body and response schema is written where the code
declares it (FastAPI route decorators, pydantic models); this module only lays the schema
out as tables, so the page cannot drift from the running service.
"""

from __future__ import annotations

from typing import Any

from markdown.extensions.toc import slugify

METHODS = ("get", "post", "put", "patch", "delete")


def cell(text: Any) -> str:
    """One Markdown table cell: no line breaks, pipes escaped."""
    return " ".join(str(text).split()).replace("|", "\\|")


def anchor(heading: str) -> str:
    """The id MkDocs (and GitHub, for these headings) gives a heading."""
    return slugify(heading.replace("`", ""), "-")


def schema_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def type_of(schema: dict[str, Any]) -> str:
    """A short type: ``integer``, ``array of [Case](#case)``, ``string or null``, ..."""
    if "$ref" in schema:
        name = schema_name(schema["$ref"])
        return f"[{name}](#{anchor(name)})"
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return " or ".join(dict.fromkeys(type_of(s) for s in schema[key]))
    if "allOf" in schema and len(schema["allOf"]) == 1:
        return type_of(schema["allOf"][0])
    if "const" in schema:
        return f"`{schema['const']!r}`"
    if "enum" in schema:
        return "one of " + ", ".join(f"`{v}`" for v in schema["enum"])
    kind = schema.get("type")
    if kind == "array":
        return "array of " + type_of(schema.get("items", {}))
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        return "object of " + type_of(schema["additionalProperties"])
    if kind is None:
        return "any"
    return str(kind)


def number(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


LIMITS = (
    ("minimum", ">="),
    ("exclusiveMinimum", ">"),
    ("maximum", "<="),
    ("exclusiveMaximum", "<"),
    ("minLength", "length >="),
    ("maxLength", "length <="),
    ("minItems", "items >="),
    ("maxItems", "items <="),
)


def bounds(schema: dict[str, Any]) -> str:
    """``>= 1, <= 1000`` from the schema's limits (of the non-null alternative of a
    nullable value)."""
    for key in ("anyOf", "oneOf"):
        for alternative in schema.get(key, []):
            if alternative.get("type") != "null":
                return bounds(alternative)
    return ", ".join(f"{sign} {number(schema[key])}" for key, sign in LIMITS if key in schema)


def default_of(schema: dict[str, Any], required: bool) -> str:
    if required:
        return "required"
    if "default" in schema:
        value = schema["default"]
        return "`null`" if value is None else f"`{value}`"
    return ""


def parameters_table(parameters: list[dict[str, Any]]) -> list[str]:
    lines = ["| parameter | in | type | default | meaning |", "|---|---|---|---|---|"]
    for p in parameters:
        schema = p.get("schema", {})
        kind = type_of(schema)
        limit = bounds(schema)
        if limit:
            kind += f" ({limit})"
        meaning = p.get("description") or schema.get("description", "")
        default = default_of(schema, p.get("required", False))
        lines.append(
            f"| `{p['name']}` | {p['in']} | {cell(kind)} | {cell(default)} | {cell(meaning)} |"
        )
    return lines


def body_schema(content: dict[str, Any]) -> dict[str, Any] | None:
    media = content.get("application/json") or next(iter(content.values()), None)
    return media.get("schema") if media else None


def operation_lines(method: str, path: str, op: dict[str, Any]) -> list[str]:
    lines = [f"### `{method.upper()} {path}`", ""]
    if op.get("summary"):
        lines += [f"**{op['summary']}.**", ""]
    if op.get("description"):
        lines += [op["description"].strip(), ""]
    if op.get("parameters"):
        lines += parameters_table(op["parameters"]) + [""]
    body = op.get("requestBody")
    if body:
        schema = body_schema(body.get("content", {}))
        if schema is not None:
            needed = "required" if body.get("required") else "optional"
            lines += [f"Request body ({needed}, JSON): {type_of(schema)}.", ""]
    lines += ["| status | meaning | body |", "|---|---|---|"]
    for status, response in op.get("responses", {}).items():
        schema = body_schema(response.get("content", {}))
        kind = type_of(schema) if schema else ""
        lines.append(f"| {status} | {cell(response.get('description', ''))} | {cell(kind)} |")
    return lines + [""]


def schema_lines(name: str, schema: dict[str, Any]) -> list[str]:
    lines = [f"### {name}", ""]
    if schema.get("description"):
        lines += [" ".join(schema["description"].split()), ""]
    properties = schema.get("properties")
    if not properties:
        return lines + [f"Type: {type_of(schema)}.", ""]
    required = set(schema.get("required", []))
    lines += ["| field | type | default | meaning |", "|---|---|---|---|"]
    for field, sub in properties.items():
        kind = type_of(sub)
        limit = bounds(sub)
        if limit:
            kind += f" ({limit})"
        default = default_of(sub, field in required)
        lines.append(
            f"| `{field}` | {cell(kind)} | {cell(default)} | {cell(sub.get('description', ''))} |"
        )
    return lines + [""]


def openapi_markdown(spec: dict[str, Any]) -> str:
    """The endpoints grouped by tag (in the order of their first route), then every
    schema they use; headings get unique anchors or this raises."""
    descriptions = {t["name"]: t.get("description", "") for t in spec.get("tags", [])}
    groups: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
    for path, item in spec["paths"].items():
        for method in METHODS:
            if method in item:
                tag = (item[method].get("tags") or ["other"])[0]
                groups.setdefault(tag, []).append((method, path, item[method]))
    lines: list[str] = []
    headings: list[str] = []
    for tag, operations in groups.items():
        title = f"{tag.capitalize()} endpoints"
        title += f": {descriptions[tag]}" if descriptions.get(tag) else ""
        lines += [f"## {title}", ""]
        headings.append(title)
        for method, path, op in operations:
            lines += operation_lines(method, path, op)
            headings.append(f"{method.upper()} {path}")
    lines += ["## Schemas", ""]
    headings.append("Schemas")
    for name, schema in spec.get("components", {}).get("schemas", {}).items():
        lines += schema_lines(name, schema)
        headings.append(name)
    slugs = [anchor(h) for h in headings]
    clashes = sorted({s for s in slugs if slugs.count(s) > 1})
    if clashes:
        raise ValueError(f"headings share an anchor: {', '.join(clashes)}")
    return "\n".join(lines).rstrip() + "\n"
