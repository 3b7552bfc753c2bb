"""Table-driven tests of what every operator, alias, literal and path form evaluates to.

Every row runs through the reference interpreter, the composed predicate, the fused predicate
and the fused batch loop (see expr_helpers.evaluate_all_ways), which must all agree with the
expected answer.
"""

from __future__ import annotations

from typing import Any

import pytest
from expr_helpers import evaluate_all_ways

Row = tuple[str, dict[str, Any], bool]

OPERATORS: list[Row] = [
    ("team == 'alpha'", {"team": "alpha"}, True),
    ("team == 'alpha'", {"team": "bravo"}, False),
    ("team = 'alpha'", {"team": "alpha"}, True),
    ("team = 'alpha'", {"team": "bravo"}, False),
    ("team != 'alpha'", {"team": "bravo"}, True),
    ("team != 'alpha'", {"team": "alpha"}, False),
    ("level > 3", {"level": 4}, True),
    ("level > 3", {"level": 3}, False),
    ("level >= 3", {"level": 3}, True),
    ("level >= 3", {"level": 2}, False),
    ("level < 3", {"level": 2}, True),
    ("level < 3", {"level": 3}, False),
    ("level <= 3", {"level": 3}, True),
    ("level <= 3", {"level": 4}, False),
    ("skills HAS 'support'", {"skills": ["sales", "support"]}, True),
    ("skills HAS 'support'", {"skills": ["sales"]}, False),
    ("skills >- 'support'", {"skills": ["support"]}, True),
    ("skills >- 'support'", {"skills": []}, False),
    ("language IN ['en', 'es']", {"language": "es"}, True),
    ("language IN ['en', 'es']", {"language": "fr"}, False),
    ("language <- ['en', 'es']", {"language": "en"}, True),
    ("language <- ['en', 'es']", {"language": "de"}, False),
    ("language NOT IN ['en', 'es']", {"language": "fr"}, True),
    ("language NOT IN ['en', 'es']", {"language": "en"}, False),
    ("activity_name CONTAINS 'MNO'", {"activity_name": "xMNOy"}, True),
    ("activity_name CONTAINS 'MNO'", {"activity_name": "mno"}, False),
    ("a == 1 AND b == 2", {"a": 1, "b": 2}, True),
    ("a == 1 AND b == 2", {"a": 1, "b": 3}, False),
    ("a == 1 OR b == 2", {"a": 0, "b": 2}, True),
    ("a == 1 OR b == 2", {"a": 0, "b": 0}, False),
    # AND binds tighter than OR; parentheses override.
    ("a == 1 OR b == 1 AND c == 1", {"a": 1}, True),
    ("a == 1 OR b == 1 AND c == 1", {"b": 1}, False),
    ("a == 1 OR b == 1 AND c == 1", {"b": 1, "c": 1}, True),
    ("(a == 1 OR b == 1) AND c == 1", {"a": 1}, False),
    ("(a == 1 OR b == 1) AND c == 1", {"a": 1, "c": 1}, True),
    ("((((a == 1))))", {"a": 1}, True),
    # Keywords in any case.
    ("skills has 'x' and level >= 1 or team = 'z'", {"skills": ["x"], "level": 1}, True),
    ("skills Has 'x' AnD level >= 1", {"skills": ["x"], "level": 0}, False),
    ("language in ['en'] OR name contains 'bo'", {"language": "de", "name": "bob"}, True),
    ("language not in ['en']", {"language": "de"}, True),
    ("language Not In ['en']", {"language": "en"}, False),
    ("flag == TRUE", {"flag": True}, True),
    ("flag == False", {"flag": False}, True),
    ("flag == NULL", {}, True),
]

EXTENSIONS: list[Row] = [
    ("NOT team == 'alpha'", {"team": "bravo"}, True),
    ("NOT team == 'alpha'", {"team": "alpha"}, False),
    ("not (a == 1 OR b == 1)", {"a": 0, "b": 0}, True),
    ("NOT NOT a == 1", {"a": 1}, True),
    ("NOT a == 1 AND b == 1", {"a": 0, "b": 1}, True),  # NOT binds tighter than AND
    ("NOT a == 1 AND b == 1", {"a": 0, "b": 0}, False),
    ("skills NOT HAS 'support'", {"skills": ["sales"]}, True),
    ("skills NOT HAS 'support'", {"skills": ["support"]}, False),
    ("name NOT CONTAINS 'bo'", {"name": "alice"}, True),
    ("name NOT CONTAINS 'bo'", {"name": "bob"}, False),
    ("name not contains 'bo'", {"name": "al"}, True),
]

LITERALS: list[Row] = [
    ('team == "alpha"', {"team": "alpha"}, True),
    ("name == 'O\\'Brien'", {"name": "O'Brien"}, True),
    ('name == "say \\"hi\\""', {"name": 'say "hi"'}, True),
    ("path == 'C:\\\\temp'", {"path": "C:\\temp"}, True),
    ("path == 'C:\\temp'", {"path": "C:\\temp"}, True),  # unknown escapes stay as written
    ("note == 'two words'", {"note": "two words"}, True),
    ("note == ''", {"note": ""}, True),
    ("note == 'ünïcødé ✓'", {"note": "ünïcødé ✓"}, True),
    ("n == 42", {"n": 42}, True),
    ("n == -7", {"n": -7}, True),
    ("n == 2.5", {"n": 2.5}, True),
    ("n == 1e3", {"n": 1000}, True),
    ("n == 1.5E-1", {"n": 0.15}, True),
    ("n == 007", {"n": 7}, True),
    ("n == 12345678901234567890123", {"n": 12345678901234567890123}, True),
    ("n == 9007199254740993", {"n": 9007199254740992.0}, False),  # exact, not via float
    ("n == 1.0", {"n": 1}, True),
    ("n == 1", {"n": 1.0}, True),
    ("flag == true", {"flag": True}, True),
    ("flag == false", {"flag": True}, False),
    ("v IN []", {"v": "a"}, False),
    ("v IN ['a', 1, true, null]", {"v": 1}, True),
    ("v IN ['a', 1, true, null]", {"v": True}, True),
    ("v IN ['a', 1, true, null]", {"v": "1"}, True),
    ("v IN [2.5]", {"v": "2.5"}, True),
]

PATHS: list[Row] = [
    ("a.b.c == 1", {"a": {"b": {"c": 1}}}, True),
    ("a.b.c == 1", {"a": {"b": 1}}, False),
    ("a.b.c == null", {"a": {"b": 1}}, True),
    ("a.b.c.d.e.f == 'deep'", {"a": {"b": {"c": {"d": {"e": {"f": "deep"}}}}}}, True),
    ("a.b.c.d.e.f == null", {"a": {"b": {"c": {"d": []}}}}, True),
    ("list[0] == 'x'", {"list": ["x", "y"]}, True),
    ("list[1] == 'y'", {"list": ["x", "y"]}, True),
    ("list[2] == null", {"list": ["x", "y"]}, True),  # out of range reads as null
    ("list[2] != null", {"list": ["x", "y"]}, False),
    ("list[0] == null", {"list": "xy"}, True),  # strings are not arrays
    ("list[0] == null", {"list": {"0": "x"}}, True),  # nor are objects
    ("object.array[2] == 3", {"object": {"array": [1, 2, 3]}}, True),
    ("a[0].b[1].c == true", {"a": [{"b": [0, {"c": True}]}]}, True),
    ("a.b == null", {"a": "text"}, True),  # keys of a non-object read as null
    ("a.1st == 'x'", {"a": {"1st": "x"}}, True),
    ("task.in == 1", {"task": {"in": 1}}, True),  # keywords are fine after a dot
    ("idioma == 'es'", {"idioma": "es"}, True),
    ("名前 == 'x'", {"名前": "x"}, True),
    ("_private == 1", {"_private": 1}, True),
    ("a . b == 1", {"a": {"b": 1}}, True),  # spaces around dots are tolerated
    ("Team == 'a'", {"team": "a"}, False),  # names are case-sensitive
]

NULLS: list[Row] = [
    ("missing == null", {}, True),
    ("missing != null", {}, False),
    ("present == null", {"present": 0}, False),
    ("present != null", {"present": 0}, True),
    ("present != null", {"present": []}, True),  # presence test works for arrays too
    ("present != null", {"present": {}}, True),
    ("present != null", {"present": None}, False),  # an explicit null is missing
    ("null == missing", {}, True),
    ("null != present", {"present": "x"}, True),
    ("null == null", {}, True),
    ("null != null", {}, False),
    ("missing == 'x'", {}, False),
    ("missing != 'x'", {}, False),
    ("missing > 1", {}, False),
    ("missing < 1", {}, False),
    ("missing >= 1", {}, False),
    ("missing HAS 'x'", {}, False),
    ("missing IN ['x']", {}, False),
    ("'x' IN missing", {}, False),
    ("missing CONTAINS 'x'", {}, False),
    ("missing NOT IN ['x']", {}, True),  # NOT IN negates IN
    ("'x' NOT IN missing", {}, True),
    ("missing NOT HAS 'x'", {}, True),
    ("missing NOT CONTAINS 'x'", {}, True),
    ("NOT missing == 'x'", {}, True),
    ("a == b", {}, False),  # two missing values are not equal
    ("a != b", {}, False),
    ("a == b", {"a": None, "b": None}, False),
    ("level > null", {"level": 1}, False),
    ("level <= null", {"level": 1}, False),
    ("null < 1", {}, False),
    ("v IN [null]", {}, False),  # null never matches an element
    ("v IN [null, 'a']", {"v": "a"}, True),
    ("list HAS null", {"list": [None]}, False),
    ("name CONTAINS null", {"name": "x"}, False),
    ("name NOT CONTAINS null", {"name": "x"}, True),
]

TYPES: list[Row] = [
    # A scalar operator with an array operand is false.
    ("skills == 'a'", {"skills": ["a"]}, False),
    ("skills != 'a'", {"skills": ["b"]}, False),
    ("skills > 1", {"skills": [5]}, False),
    ("skills CONTAINS 'a'", {"skills": ["a"]}, False),
    ("skills == ['a']", {"skills": ["a"]}, False),
    ("v == [1]", {"v": 1}, False),
    ("v != [1]", {"v": 1}, False),
    # An array operator with two scalars is false.
    ("team HAS 'a'", {"team": "a"}, False),
    ("team IN 'a'", {"team": "a"}, False),
    ("'a' IN team", {"team": "a"}, False),
    ("'a' HAS team", {"team": "a"}, False),
    ("a HAS b", {"a": "x", "b": "x"}, False),
    # HAS with an array on the right, IN with an array on the left: false.
    ("skills HAS ['a']", {"skills": [["a"], "a"]}, False),
    ("v IN w", {"v": ["a"], "w": [["a"]]}, False),
    ("skills IN ['a']", {"skills": ["a"]}, False),
    # Mixed scalar types are neither equal nor unequal.
    ("level == 'gold'", {"level": 5}, False),
    ("level != 'gold'", {"level": 5}, False),
    ("level > 'gold'", {"level": 5}, False),
    ("name == 5", {"name": "five"}, False),
    ("name != 5", {"name": "five"}, False),
    ("obj == 'x'", {"obj": {"a": 1}}, False),
    ("obj != 'x'", {"obj": {"a": 1}}, False),
    # Objects compare with nothing.
    ("a == b", {"a": {"x": 1}, "b": {"x": 1}}, False),
    ("a == b", {"a": [1], "b": [1]}, False),
    # Strings compare case-sensitively and exactly.
    ("team == 'Alpha'", {"team": "alpha"}, False),
    ("team == 'alpha '", {"team": "alpha"}, False),
    ("team != 'Alpha'", {"team": "alpha"}, True),
    ("name < 'b'", {"name": "a"}, True),
    ("name < 'b'", {"name": "c"}, False),
    ("name >= 'B'", {"name": "a"}, True),  # code-point order: lower case after upper
    ("a < b", {"a": "apple", "b": "banana"}, True),
]

NUMERIC_STRINGS: list[Row] = [
    ("tech_support_skill > 5", {"tech_support_skill": "6"}, True),
    ("tech_support_skill > 5", {"tech_support_skill": "5"}, False),
    ("level >= 2.5", {"level": "2.5"}, True),
    ("level < 10", {"level": "9"}, True),
    ("level < 10", {"level": "09"}, True),
    ("level < 10", {"level": "1e1"}, False),
    ("level < 10", {"level": "-3"}, True),
    ("level < 10", {"level": "+3"}, True),
    ("level < 10", {"level": ".5"}, True),
    ("level < 10", {"level": " 5"}, False),  # spaces make a string non-numeric
    ("level < 10", {"level": "5 "}, False),
    ("level < 10", {"level": "inf"}, False),
    ("level > 10", {"level": "nan"}, False),
    ("level < 10", {"level": "1_000"}, False),
    ("level < 10", {"level": "0x5"}, False),
    ("level < 10", {"level": "high"}, False),
    ("level < 10", {"level": ""}, False),
    ("level < 10", {"level": "5" * 80}, False),  # too long to be read as a number
    ("level == 6", {"level": "6"}, True),
    ("level == 6", {"level": "6.0"}, True),
    ("level == 6.0", {"level": "6"}, True),
    ("level == '6'", {"level": 6}, True),
    ("level == '6'", {"level": 6.0}, True),
    ("level == '6'", {"level": "6.0"}, False),  # two strings compare as text
    ("level == '06'", {"level": "6"}, False),
    ("level != 6", {"level": "6"}, False),
    ("level != 7", {"level": "6"}, True),
    ("level != '7'", {"level": 6}, True),
    ("level != '6'", {"level": 6}, False),
    ("level != '6'", {"level": "6.0"}, True),
    ("level > '10'", {"level": "9"}, False),  # both numeric strings: compared as numbers
    ("level > '10'", {"level": 11}, True),
    ("level > '10'", {"level": "x"}, True),  # "x" is not numeric: text order, "x" > "10"
    ("level <= '10'", {"level": True}, False),
    ("'6' > 5", {}, True),
    ("'6' == 6", {}, True),
    ("'abc' > 5", {}, False),
    ("taskrouter_hour > 8", {"taskrouter_hour": "09"}, True),
    ("levels HAS 5", {"levels": ["5"]}, True),
    ("levels HAS '5'", {"levels": [5]}, True),
    ("levels HAS '5'", {"levels": ["5.0"]}, False),
    ("levels HAS 5", {"levels": [5.0]}, True),
    ("level IN ['1', '2']", {"level": 2}, True),
    ("level IN [1, 2]", {"level": "2"}, True),
    ("a < b", {"a": "9", "b": "10"}, True),  # both numeric
    ("a < b", {"a": 9, "b": "10"}, True),
    ("a == b", {"a": 1, "b": "1"}, True),
    ("a == b", {"a": "1", "b": "1.0"}, False),
]

BOOLEANS: list[Row] = [
    ("vip == true", {"vip": True}, True),
    ("vip == true", {"vip": 1}, False),  # 1 is not true
    ("vip == true", {"vip": "true"}, False),
    ("vip == 1", {"vip": True}, False),
    ("vip != 1", {"vip": True}, False),  # no comparison between booleans and numbers
    ("vip != true", {"vip": False}, True),
    ("vip != true", {"vip": True}, False),
    ("vip != true", {"vip": 0}, False),
    ("vip > false", {"vip": True}, False),  # booleans are not ordered
    ("vip IN [true]", {"vip": True}, True),
    ("vip IN [1]", {"vip": True}, False),
    ("nums HAS 1", {"nums": [True]}, False),
    ("nums HAS true", {"nums": [True]}, True),
    ("nums HAS true", {"nums": [1]}, False),
    ("nums HAS 0", {"nums": [False]}, False),
    ("a == b", {"a": True, "b": True}, True),
    ("a == b", {"a": True, "b": 1}, False),
    ("a != b", {"a": True, "b": False}, True),
    ("true == 1", {}, False),
    ("false == 0", {}, False),
    ("true != false", {}, True),
]

CONTAINS: list[Row] = [
    ("name CONTAINS 'ob'", {"name": "bob"}, True),
    ("name CONTAINS ''", {"name": "bob"}, True),
    ("name CONTAINS 'OB'", {"name": "bob"}, False),
    ("name CONTAINS 5", {"name": "a5"}, False),  # right side must be a string
    ("name CONTAINS '5'", {"name": 5}, False),  # left side must be a string
    ("name CONTAINS '5'", {"name": ["5"]}, False),
    ("'hello world' CONTAINS word", {"word": "lo w"}, True),
    ("'hello' CONTAINS word", {"word": 5}, False),
    ("5 CONTAINS word", {"word": "5"}, False),
    ("name CONTAINS word", {"name": "hello", "word": "ell"}, True),
    ("name CONTAINS '1'", {"name": "10"}, True),
]

ANY_ELEMENT: list[Row] = [
    ("skills[any] = 'sales'", {"skills": ["support", "sales"]}, True),
    ("skills[any] = 'sales'", {"skills": ["support"]}, False),
    ("skills[any] = 'sales'", {"skills": []}, False),
    ("skills[any] = 'sales'", {"skills": "sales"}, False),  # not an array
    ("skills[any] = 'sales'", {}, False),
    ("skills[ANY] == 'sales'", {"skills": ["sales"]}, True),
    ("skills[Any] == 'sales'", {"skills": ("sales",)}, True),  # tuples are arrays too
    ("skills[any] != 'sales'", {"skills": ["sales"]}, False),
    ("skills[any] != 'sales'", {"skills": ["sales", "x"]}, True),
    ("levels[any] > 3", {"levels": [1, 5]}, True),
    ("levels[any] > 3", {"levels": [1, 2]}, False),
    ("levels[any] > 3", {"levels": [1, "7"]}, True),
    ("levels[any] == 5", {"levels": ["5"]}, True),
    ("levels[any] == '5'", {"levels": [5]}, True),
    ("tags[any] CONTAINS 'vip'", {"tags": ["a", "is_vip"]}, True),
    ("skills[any] IN ['a', 'b']", {"skills": ["x", "b"]}, True),
    ("skills[any] NOT IN ['a']", {"skills": ["a"]}, False),
    ("skills[any] NOT IN ['a']", {"skills": ["a", "b"]}, True),
    ("skills[any] NOT IN ['a']", {"skills": []}, False),  # no element, no match
    ("NOT skills[any] IN ['a']", {"skills": []}, True),
    ("skills[any] NOT CONTAINS 'a'", {"skills": ["abc", "xyz"]}, True),
    ("skills[any] == null", {"skills": ["a", None]}, True),
    ("skills[any] == null", {"skills": ["a"]}, False),
    ("skills[any] != null", {"skills": [None, None]}, False),
    ("skills[any] != null", {"skills": [None, 1]}, True),
    ("skills[any] > null", {"skills": [1]}, False),
    ("skills[any] NOT HAS null", {"skills": [[1]]}, True),
    ("skills[any] NOT HAS null", {"skills": []}, False),
    ("orders[any].status == 'open'", {"orders": [{"status": "done"}, {"status": "open"}]}, True),
    ("orders[any].status == 'open'", {"orders": [{"status": "done"}, {}]}, False),
    ("orders[any].status == null", {"orders": [{"status": "done"}, {}]}, True),
    ("matrix[any][any] == 4", {"matrix": [[1, 2], [3, 4]]}, True),
    ("matrix[any][1] == 3", {"matrix": [[1, 2], [3, 4]]}, False),
    ("matrix[any][1] == 4", {"matrix": [[1, 2], [3, 4]]}, True),
    ("groups[any] HAS 'x'", {"groups": [["a"], ["x"]]}, True),
    ("a[any] == b[any]", {"a": [1, 2], "b": [3, 2]}, True),
    ("a[any] == b[any]", {"a": [1, 2], "b": [3, 4]}, False),
    ("a[any] == b", {"a": [1, 2], "b": 2}, True),
    ("'sales' == skills[any]", {"skills": ["sales"]}, True),
    ("3 < levels[any]", {"levels": [1, 4]}, True),
    ("'x' IN lists[any]", {"lists": [["a"], ["x"]]}, True),
    ("'ab' CONTAINS parts[any]", {"parts": ["zz", "b"]}, True),
    ("'ab' NOT CONTAINS parts[any]", {"parts": ["a", "b"]}, False),
    ("'ab' NOT CONTAINS parts[any]", {"parts": ["a", "q"]}, True),
    ("5 CONTAINS parts[any]", {"parts": ["5"]}, False),
    ("5 NOT CONTAINS parts[any]", {"parts": ["5"]}, True),
    ("5 NOT CONTAINS parts[any]", {"parts": []}, False),
    ("skills[any] == ['a']", {"skills": [["a"]]}, False),
    ("skills[any] NOT IN 'a'", {"skills": ["a"]}, True),
    ("skills[any] NOT IN 'a'", {"skills": []}, False),
]

CONSTANTS: list[Row] = [
    ("1==1", {}, True),
    ("1 = 1", {}, True),
    ("1==2", {}, False),
    ("1 != 2", {}, True),
    ("'a' == 'a'", {}, True),
    ("'a' == \"a\"", {}, True),
    ("true == true", {}, True),
    ("null == null", {}, True),
    ("1 == 1.0", {}, True),
    ("[1, 2] HAS 2", {}, True),
    ("2 IN [1, 2]", {}, True),
    ("'abc' CONTAINS 'b'", {}, True),
    ('"language" == "spanish"', {"language": "spanish"}, False),  # two string constants
    ("1==1 AND team == 'a'", {"team": "a"}, True),
    ("1==1 AND team == 'a'", {"team": "b"}, False),
    ("1==2 OR team == 'a'", {"team": "a"}, True),
    ("1==1 OR team == 'a'", {}, True),
    ("NOT 1==2", {}, True),
]

EITHER_SIDE: list[Row] = [
    ("'en' IN languages", {"languages": ["fr", "en"]}, True),
    ("'en' IN languages", {"languages": ["fr"]}, False),
    ("'en' NOT IN languages", {"languages": ["fr"]}, True),
    ("3 < level", {"level": 4}, True),
    ("3 < level", {"level": 3}, False),
    ("3 >= level", {"level": 3}, True),
    ("'sales' == type", {"type": "sales"}, True),
    ("'sales' != type", {"type": "sales"}, False),
    ("['a', 'b'] HAS team", {"team": "b"}, True),
    ("['a', 'b'] HAS team", {"team": "c"}, False),
    ("['a', 'b'] NOT HAS team", {"team": "c"}, True),
    ("5 >= level", {"level": "5"}, True),
    ("null == level", {"level": 1}, False),
    ("true == flag", {"flag": True}, True),
    ("worker_id IN preferred", {"worker_id": "WK1", "preferred": ["WK2", "WK1"]}, True),
    ("worker_id IN preferred", {"worker_id": "WK1", "preferred": "WK1"}, False),
    ("preferred HAS worker_id", {"worker_id": "WK1", "preferred": ["WK1"]}, True),
]

TABLES = {
    "operators": OPERATORS,
    "extensions": EXTENSIONS,
    "literals": LITERALS,
    "paths": PATHS,
    "nulls": NULLS,
    "types": TYPES,
    "numeric_strings": NUMERIC_STRINGS,
    "booleans": BOOLEANS,
    "contains": CONTAINS,
    "any_element": ANY_ELEMENT,
    "constants": CONSTANTS,
    "either_side": EITHER_SIDE,
}


@pytest.mark.parametrize(
    ("text", "document", "expected"),
    [pytest.param(*row, id=f"{table}:{row[0]}") for table, rows in TABLES.items() for row in rows],
)
def test_evaluates_to(text: str, document: dict[str, Any], expected: bool) -> None:
    assert evaluate_all_ways(text, document) is expected


def test_tables_are_balanced() -> None:
    """Each table must contain both outcomes, or it could not catch a constant predicate."""
    for name, rows in TABLES.items():
        outcomes = {expected for _, _, expected in rows}
        assert outcomes == {True, False}, name


class Weird:
    """A value outside the JSON model: present, but matching nothing."""

    def __repr__(self) -> str:
        return "Weird()"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("v == 'x'", False),
        ("v != 'x'", False),
        ("v > 1", False),
        ("v HAS 'x'", False),
        ("v IN ['x']", False),
        ("v CONTAINS 'x'", False),
        ("v != null", True),
        ("v == null", False),
        ("v.key == null", True),
    ],
)
def test_values_outside_json_match_nothing(text: str, expected: bool) -> None:
    assert evaluate_all_ways(text, {"v": Weird()}) is expected


def test_mapping_and_subclass_documents() -> None:
    """Objects may be any Mapping and values may be subclasses of the JSON types."""
    from collections import OrderedDict
    from enum import IntEnum
    from types import MappingProxyType

    class Level(IntEnum):
        HIGH = 5

    class Name(str):
        pass

    document = MappingProxyType(
        {
            "a": OrderedDict(b=MappingProxyType({"c": Level.HIGH})),
            "name": Name("bob"),
            "tags": (Name("x"), "y"),
        }
    )
    assert evaluate_all_ways("a.b.c == 5", document) is True
    assert evaluate_all_ways("a.b.c > '4'", document) is True
    assert evaluate_all_ways("a.b.c != 5", document) is False
    assert evaluate_all_ways("name == 'bob'", document) is True
    assert evaluate_all_ways("name != 'bob'", document) is False
    assert evaluate_all_ways("name < 'c'", document) is True
    assert evaluate_all_ways("name CONTAINS 'o'", document) is True
    assert evaluate_all_ways("tags HAS 'x'", document) is True
    assert evaluate_all_ways("tags[1] == 'y'", document) is True
    assert evaluate_all_ways("name IN ['bob']", document) is True
