"""The bounds that keep any text, however hostile, cheap to compile and to run.

Tests may patch these module attributes; the code reads them at use time.
"""

MAX_SOURCE_LENGTH = 10_000  # characters of expression, template or script text
MAX_FILE_LENGTH = 200_000  # characters of an automation file
MAX_ERRORS = 20  # syntax errors reported for one automation file before giving up
MAX_DEPTH = 50  # nesting of the syntax tree (parentheses, calls, lists, unary operators)
MAX_STEPS = 10_000  # nodes evaluated per evaluate/render/run call
MAX_TEXT_LENGTH = 100_000  # characters in any string produced
MAX_LIST_LENGTH = 10_000  # items in any list produced
MAX_DIGITS = 100  # digits in any number, literal or computed
MAX_TEMPLATE_NESTING = 4  # string literals with holes inside the holes of string literals
