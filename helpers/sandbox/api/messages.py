"""graphql-core's own error messages (syntax, validation, variables), without the caller's values.

The schema's own names stay: a type, field or argument the schema defines (and the suggestions graphql-core
makes from them) is how a developer finds the typo. Names the caller made up (an unknown field, a variable, a
fragment, an operation) are caller text: each becomes ``'…'``, and the error's ``locations`` point at it.
Values go: a string, a number, an object the caller sent is replaced by words, never cut off mid-sentence.
A message this module cannot make safe becomes fixed text (``SYNTAX_FALLBACK`` / ``INVALID_FALLBACK``).
"""
from __future__ import annotations

import re
from typing import AbstractSet

from graphql import GraphQLSchema, specified_scalar_types

NAME = r"[_A-Za-z][_A-Za-z0-9]{0,63}"
_SAFE_QUOTED = re.compile(
    rf"[$@]?{NAME}(?:\.{NAME})?(?:\({NAME}:\))?"  # x, $x, @x, Type.field, Type.field(arg:), @dir(arg:)
    rf"|\[*{NAME}[!\]]*"  # a type reference: [Int!]!
    rf"|{NAME} {{ \.\.\. }}"  # a suggestion: 'user { ... }'
    r"|\.\.\.?|[!$&()\[\]{}:=@|]")  # punctuators
_SYNTAX_VALUE_TOKEN = re.compile(
    r"^(Syntax Error: (?:Unexpected|Expected .{1,40}?, found) (?:String|BlockString|Int|Float|Comment)) '.*'\.$",
    re.S)
_SYNTAX_VALUE_TAIL = re.compile(r"^(Syntax Error: [A-Za-z][A-Za-z0-9 ,]*): .*$", re.S)  # "Unexpected character: 'x'."
_SYNTAX_DECIMAL = re.compile(r"^Syntax Error: Invalid number, expected digit before '\.', did you mean .*$", re.S)
_VARIABLE = re.compile(rf"^(Variable '\${NAME}') (?:has|got) invalid (default )?value.*$", re.S)
_NOT_OF_TYPE = re.compile(r"(Expected value of type '[^']*'), (?:but encountered error .*; )?found:? .*$", re.S)
_FOUND = re.compile(r"[,.]? [Ff]ound: .*$", re.S)
_CANNOT_REPRESENT = re.compile(r"(cannot represent [a-z0-9 -]*value): .*$", re.S)
MAX_LENGTH = 600

SYNTAX_FALLBACK = "Syntax Error: the query is not valid GraphQL at this location."
INVALID_FALLBACK = "The query does not fit the API's schema at this location."
CALLER_NAME = "'…'"  # what stands where the caller's own name was
QUOTE_HINT = "Syntax Error: Unexpected single quote character ('), did you mean to use a double quote (\")?"


def schema_names(schema: GraphQLSchema) -> frozenset[str]:
    """Every name the schema itself defines: types, fields, arguments, input fields, enum values, directives."""
    names: set[str] = set(specified_scalar_types)
    for type_name, graphql_type in schema.type_map.items():
        names.add(type_name)
        for field_name, field in getattr(graphql_type, "fields", {}).items():
            names.add(field_name)
            names.update(getattr(field, "args", {}))
        names.update(getattr(graphql_type, "values", {}))
    for directive in schema.directives:
        names.add(directive.name)
        names.update(directive.args)
    return frozenset(names)


def caller_safe(message: str, known: AbstractSet[str] | None = None) -> str:
    """``message`` with the caller's values replaced by words; with ``known`` (:func:`schema_names`), every quoted
    name the schema does not define replaced by ``'…'`` as well."""
    if message == QUOTE_HINT:
        return message
    syntax = message.startswith("Syntax Error:")
    if syntax:
        message = _SYNTAX_VALUE_TOKEN.sub(r"\1.", message)
        message = _SYNTAX_VALUE_TAIL.sub(r"\1.", message).replace("but got.", "but got another character.")
        message = _SYNTAX_DECIMAL.sub("Syntax Error: Invalid number, expected a digit before the decimal point.",
                                      message)
    else:
        message = _VARIABLE.sub(r"\1 has an invalid \2value.", message)
        message = _NOT_OF_TYPE.sub(r"\1; the value given is not of this type.", message)
        message = _CANNOT_REPRESENT.sub(r"\1.", message)
        message = _FOUND.sub(".", message)
    if known is not None:
        message = re.sub(r"'([^']*)'", lambda m: m.group(0) if _only_known(m.group(1), known) else CALLER_NAME,
                         message)
    return message if _is_safe(message) else (SYNTAX_FALLBACK if syntax else INVALID_FALLBACK)


def _only_known(quoted: str, known: AbstractSet[str]) -> bool:
    """True when every name in a quoted part of a message is the schema's (punctuation alone is kept too)."""
    return all(name in known for name in re.findall(r"[_A-Za-z][_A-Za-z0-9]*", quoted))


def _is_safe(message: str) -> bool:
    if len(message) > MAX_LENGTH or '"' in message:
        return False
    outside = re.sub(r"'[^']*'", "", message).replace("<EOF>", "").replace("{ ... }", "")
    if any(c in outside for c in "<>{}'\\`") or any(not c.isprintable() for c in message):
        return False
    return all(quoted == "…" or _SAFE_QUOTED.fullmatch(quoted) for quoted in re.findall(r"'([^']*)'", message))
