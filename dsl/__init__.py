"""dealflow's expression language: conditions, timers, templates and script tasks.

Text is parsed by lark into a small tree of nodes and evaluated against plain data and
`Record`s; it is never run as Python.
"""

from dsl.durations import parse_duration
from dsl.errors import DslCallError, DslCheckError, DslError, DslErrorList, DslEvalError, DslSyntaxError
from dsl.expression import Expression, compile_expression, evaluate
from dsl.record import Record
from dsl.scripts import Script, compile_script
from dsl.templates import Template, compile_template, render

__all__ = [
    "DslCallError",
    "DslCheckError",
    "DslError",
    "DslErrorList",
    "DslEvalError",
    "DslSyntaxError",
    "Expression",
    "Record",
    "Script",
    "Template",
    "compile_expression",
    "compile_script",
    "compile_template",
    "evaluate",
    "parse_duration",
    "render",
]
