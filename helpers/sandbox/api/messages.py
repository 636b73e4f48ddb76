"""graphql-core's own error messages (syntax, validation, variables), without the caller's values.

Names stay: a field, type, argument, variable or fragment name is how a developer finds the typo, and a GraphQL
name cannot carry markup or free text. Values go: a string, a number, an object the caller sent is replaced
by words, never cut off mid-sentence. A message this module cannot make safe becomes fixed text
(``SYNTAX_FALLBACK`` / ``INVALID_FALLBACK``); the error's ``locations`` still point at the spot.
"""
from __future__ import annotations

import re

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
QUOTE_HINT = "Syntax Error: Unexpected single quote character ('), did you mean to use a double quote (\")?"


def caller_safe(message: str) -> str:
    """``message`` with the caller's values replaced by words; names and the schema's own words kept."""
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
    return message if _is_safe(message) else (SYNTAX_FALLBACK if syntax else INVALID_FALLBACK)


def _is_safe(message: str) -> bool:
    if len(message) > MAX_LENGTH or '"' in message:
        return False
    outside = re.sub(r"'[^']*'", "", message).replace("<EOF>", "").replace("{ ... }", "")
    if any(c in outside for c in "<>{}'\\`") or any(not c.isprintable() for c in message):
        return False
    return all(_SAFE_QUOTED.fullmatch(quoted) for quoted in re.findall(r"'([^']*)'", message))
